"""Spool throughput on SQLite: how fast mail is accepted (the SMTP 250 point) and how fast the drain processes it.

    python bench/spool.py [--mails 300] [--concurrency 20]

Prints accepted mails/s (concurrent accept() calls sharing group commits) and drained mails/s (new
tickets with acknowledgement and announcement, a batch per transaction, prepared as serve prepares
them: in its default number of worker processes, gateway/prepare_pool.py). 300 mails take ~5 s.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ingest import mail, settings_for  # noqa: E402
from gateway.clock import SystemClock  # noqa: E402
from gateway.ingest import Ingestor  # noqa: E402
from gateway.prepare_pool import pool_size  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402


async def run(count: int, concurrency: int, workdir: Path) -> tuple[float, float]:
    settings = settings_for(f"sqlite+aiosqlite:///{workdir}/bench.db", workdir)
    db = settings.open_database()
    await upgrade(db)
    ingestor = Ingestor(settings=settings, db=db, clock=SystemClock(),
                        processes=pool_size(settings.spool.prepare_processes))
    queue = [mail(n) for n in reversed(range(count))]

    async def client():
        while queue:
            await ingestor.accept(queue.pop(), source="bench", envelope_from="bench@example.org")

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    accepted = count / (time.perf_counter() - started)
    started = time.perf_counter()
    done = await ingestor.drain()
    drained = len(done) / (time.perf_counter() - started)
    assert len(done) == count and all(o.status == "stored" for o in done.values())
    ingestor.close()
    await db.dispose()
    return accepted, drained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        accepted, drained = asyncio.run(run(args.mails, args.concurrency, Path(workdir)))
    print(f"spool accept, SQLite, {args.concurrency} concurrent: {accepted:8.0f} mails/s")
    print(f"spool drain,  SQLite, new tickets:        {drained:8.0f} mails/s")


if __name__ == "__main__":
    main()

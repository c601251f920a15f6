"""Where the outbox sender composes mail: CPU of serve's own process per mail, composing on a thread or in
the preparation worker process.

    python bench/outbox_compose.py [--tickets 300] [--rounds 3] [--backend sqlite|postgresql] [--pg-url URL]

Drains --tickets new tickets first (not timed): each queues an acknowledgement and an announcement without
bytes. Then, for each round, puts every row back to pending and times one drain_once() over them with a
transport that sends nothing, once composing on a thread and once in the worker process, interleaved.
Prints per way: ms CPU of this process per mail (what serve's event loop shares), ms in the workers, and
mails/s. This machine is shared: compare only figures of one run.
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

from bench.drain import helpers_cpu  # noqa: E402
from bench.ingest import DEFAULT_PG, fresh_pg_database, mail, settings_for  # noqa: E402
from bench.outbox import NullTransport  # noqa: E402
from gateway.clock import SystemClock  # noqa: E402
from gateway.ingest import Incoming, Ingestor  # noqa: E402
from gateway.notify.send import OutboxSender  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402
from gateway.store.models import Outbox  # noqa: E402
from sqlalchemy import update  # noqa: E402


async def run(url: str, workdir: Path, tickets: int, rounds: int) -> dict[str, list[tuple[float, float, float]]]:
    settings = settings_for(url, workdir)
    settings = settings.model_copy(update={"outbound": settings.outbound.model_copy(
        update={"batch_size": 4 * tickets})})
    db = settings.open_database()
    await upgrade(db)
    clock = SystemClock()
    ingestor = Ingestor(settings=settings, db=db, clock=clock, processes=1)
    results: dict[str, list[tuple[float, float, float]]] = {"thread": [], "process": []}
    try:
        await ingestor.ingest_many([Incoming(mail(n), "bench", "bench@example.org") for n in range(tickets)])
        senders = {"thread": OutboxSender(settings=settings, db=db, clock=clock, transport=NullTransport()),
                   "process": OutboxSender(settings=settings, db=db, clock=clock, transport=NullTransport(),
                                           composer=ingestor.composer)}
        for _ in range(rounds):
            for way, sender in senders.items():
                async with db.transaction() as session:
                    await session.execute(update(Outbox).values(status="pending", next_attempt_at=clock.now(),
                                                                lease_until=None))
                started, cpu, helpers = time.perf_counter(), time.process_time(), helpers_cpu()
                result = await sender.drain_once()
                elapsed, cpu, helpers = (time.perf_counter() - started, time.process_time() - cpu,
                                         helpers_cpu() - helpers)
                if result.sent != 2 * tickets:
                    raise SystemExit(f"{way}: drained {result}, expected {2 * tickets} sent")
                results[way].append((1000 * cpu / result.sent, 1000 * helpers / result.sent, result.sent / elapsed))
    finally:
        ingestor.close()
        await db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite+aiosqlite:///{workdir}/bench.db"
        if args.backend == "postgresql":
            url = asyncio.run(fresh_pg_database(args.pg_url, "gw_bench_compose"))
            if url is None:
                raise SystemExit("no PostgreSQL")
        results = asyncio.run(run(url, Path(workdir), args.tickets, args.rounds))
    for way, rounds in results.items():
        figures = "; ".join(f"{cpu:.2f} ms CPU + {helpers:.2f} in workers, {rate:.0f}/s" for cpu, helpers, rate in rounds)
        print(f"outbox sender, {args.backend}, {2 * args.tickets} mails, composing on a {way:7}: {figures}")


if __name__ == "__main__":
    main()

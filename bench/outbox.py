"""The outbox sender's own cost: rows/s it claims and records, with a transport that sends nothing.

    python bench/outbox.py [--rows 2000] [--backend sqlite|postgresql|both] [--pg-url URL]

Each backend starts from a fresh database holding `--rows` due rows, drained in one drain_once().
What is left is the sender's bookkeeping (the claim and the recording of results, a chunk at a
time), which serve pays for every mail it sends beside the ingest it is doing.
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

from bench.ingest import DEFAULT_PG, fresh_pg_database  # noqa: E402
from gateway.clock import SystemClock  # noqa: E402
from gateway.config import Settings  # noqa: E402
from gateway.notify.send import OutboxSender  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402
from gateway.store.models import Outbox  # noqa: E402


class NullTransport:
    async def send(self, *, envelope_from: str, recipient: str, raw: bytes) -> None:
        return None


async def drain_rate(url: str, rows: int) -> float:
    settings = Settings.model_validate({"database": {"url": url}, "outbound": {"batch_size": rows}})
    db = settings.open_database()
    try:
        await upgrade(db)
        clock = SystemClock()
        now = clock.now()
        async with db.transaction() as session:
            session.add_all([Outbox(template="customer/ack", recipient=f"customer{n}@example.org",
                                    envelope_from="ihelp@example.com", automatic=True,
                                    message_id=f"{n}.bench@example.com", raw=b"x" * 2000, status="pending",
                                    attempts=0, next_attempt_at=now, created_at=now) for n in range(rows)])
        sender = OutboxSender(settings=settings, db=db, clock=clock, transport=NullTransport())
        started = time.perf_counter()
        result = await sender.drain_once()
        elapsed = time.perf_counter() - started
        if result.sent != rows:
            raise SystemExit(f"drained {result}, expected {rows} sent")
        return rows / elapsed
    finally:
        await db.dispose()


async def measure(rows: int, backends: list[str], pg_url: str) -> list[tuple[str, float]]:
    results = []
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory(prefix="gw-outbox-") as workdir:
            results.append(("sqlite", await drain_rate(f"sqlite+aiosqlite:///{workdir}/gw.db", rows)))
    if "postgresql" in backends:
        url = await fresh_pg_database(pg_url, "gw_bench_outbox")
        if url:
            results.append(("postgresql", await drain_rate(url, rows)))
    return results


def main(argv: list[str] | None = None) -> list[tuple[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = asyncio.run(measure(args.rows, backends, args.pg_url))
    for backend, rate in results:
        print(f"outbox sender, {backend}, {args.rows} rows, null transport: {rate:,.0f} rows/s")
    return results


if __name__ == "__main__":
    main()

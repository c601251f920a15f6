"""The outbox sender's cost: rows/s it drains and CPU per row, with a transport that sends nothing or a real relay.

    python bench/outbox.py [--rows 2000] [--backend sqlite|postgresql|both] [--pg-url URL] [--transport null|smtp]

Each backend starts from a fresh database holding `--rows` due rows, drained in one drain_once().
With the null transport what is left is the sender's bookkeeping (the claim and the recording of
results, a chunk at a time), which serve pays for every mail it sends beside the ingest it is doing.
With --transport smtp the rows go to an aiosmtpd relay that discards them, run as its own process
so that the CPU time shown (this process's, all threads) is the sender's alone.
"""
from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ingest import DEFAULT_PG, fresh_pg_database  # noqa: E402
from gateway.clock import SystemClock  # noqa: E402
from gateway.config import Settings  # noqa: E402
from gateway.notify.send import OutboxSender, transport_for  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402
from gateway.store.models import Outbox  # noqa: E402
from tests.conftest import free_port, wait_listening  # noqa: E402


# About 2 kB like a rendered acknowledgement, in lines a relay accepts (RFC 5321 caps them at 1000).
RAW = (b"From: Example Help Desk <ihelp@example.com>\r\nSubject: [HD-1] Printer on fire\r\n\r\n"
       + b"We have your mail and will answer it soon; this line is here to make the size. \r\n" * 24)


class NullTransport:
    async def send(self, *, envelope_from: str, recipient: str, raw: bytes) -> None:
        return None


async def drain_rate(url: str, rows: int, relay_port: int | None) -> tuple[float, float]:
    """Rows/s and CPU seconds per row of one drain_once() over `rows` due rows."""
    outbound = {"batch_size": rows}
    if relay_port:
        outbound.update(mode="smtp", host="127.0.0.1", port=relay_port)
    settings = Settings.model_validate({"database": {"url": url}, "outbound": outbound})
    db = settings.open_database()
    try:
        await upgrade(db)
        clock = SystemClock()
        now = clock.now()
        async with db.transaction() as session:
            session.add_all([Outbox(template="customer/ack", recipient=f"customer{n}@example.org",
                                    envelope_from="ihelp@example.com", automatic=True,
                                    message_id=f"{n}.bench@example.com", raw=RAW, status="pending",
                                    attempts=0, next_attempt_at=now, created_at=now) for n in range(rows)])
        transport = transport_for(settings) if relay_port else NullTransport()
        sender = OutboxSender(settings=settings, db=db, clock=clock, transport=transport)
        started, cpu = time.perf_counter(), time.process_time()
        result = await sender.drain_once()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if result.sent != rows:
            raise SystemExit(f"drained {result}, expected {rows} sent")
        return rows / elapsed, cpu / rows
    finally:
        await db.dispose()


async def measure(rows: int, backends: list[str], pg_url: str,
                  relay_port: int | None = None) -> list[tuple[str, float, float]]:
    results = []
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory(prefix="gw-outbox-") as workdir:
            results.append(("sqlite", *await drain_rate(f"sqlite+aiosqlite:///{workdir}/gw.db", rows, relay_port)))
    if "postgresql" in backends:
        url = await fresh_pg_database(pg_url, "gw_bench_outbox")
        if url:
            results.append(("postgresql", *await drain_rate(url, rows, relay_port)))
    return results


def start_relay() -> tuple[subprocess.Popen, int]:
    """aiosmtpd's Sink handler (takes every mail, keeps none) in its own process; it and its port."""
    port = free_port()
    relay = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                              "-c", "aiosmtpd.handlers.Sink"])
    wait_listening(port, relay)
    return relay, port


def main(argv: list[str] | None = None) -> list[tuple[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--transport", choices=["null", "smtp"], default="null")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    relay, relay_port = start_relay() if args.transport == "smtp" else (None, None)
    try:
        results = asyncio.run(measure(args.rows, backends, args.pg_url, relay_port))
    finally:
        if relay is not None:
            relay.terminate()
            relay.wait(10)
    what = "null transport" if relay is None else "aiosmtpd relay"
    for backend, rate, cpu in results:
        print(f"outbox sender, {backend}, {args.rows} rows, {what}: {rate:,.0f} rows/s, "
              f"{cpu * 1e6:,.0f} µs CPU per row")
    return [(backend, rate) for backend, rate, _ in results]


if __name__ == "__main__":
    main()

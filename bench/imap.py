"""IMAP poller benchmark on a throwaway Dovecot: APPEND-to-spooled latency and backlog drain throughput.

Run from the repository root:
  .venv/bin/python bench/imap.py [--mails 100] [--backlog 2000] [--ingestor real|null] [--gap SECONDS]
The poller moves a mail out once it is committed to the inbound spool; that moment is timed. `real` is
gateway.ingest.Ingestor on a fresh SQLite database, with serve's spool worker running the pipeline
beside the poller as in serve; `null` answers "spooled" at once, showing what the IMAP side alone costs.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gateway.clock import SystemClock  # noqa: E402
from gateway.config import Settings  # noqa: E402
from gateway.inbound.imap import run_pollers  # noqa: E402
from gateway.spool_worker import run_spool_worker  # noqa: E402
from tests.integration.dovecot import Dovecot  # noqa: E402


class Timed:
    """Wraps an ingestor; records when each mail's spool commit returned, by its Subject."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.done: dict[str, float] = {}
        self.arrived = asyncio.Event()

    async def accept_many(self, items):
        ids = await self.inner.accept_many(items)
        now = time.perf_counter()
        for item in items:
            start = item.raw.find(b"Subject: ") + 9
            self.done[item.raw[start:item.raw.find(b"\n", start)].strip().decode()] = now
        self.arrived.set()
        return ids


class NullIngestor:
    async def accept_many(self, items):
        return list(range(len(items)))


def mail(subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "customer@example.org", "ihelp@example.com", subject
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg.set_content("The VPN drops every ten minutes since this morning.\n" * 20)
    return msg.as_bytes()


async def open_ingestor(kind: str, settings: Settings):
    if kind == "null":
        return NullIngestor(), None
    from gateway.ingest import Ingestor
    from gateway.store.migrate import upgrade

    db = settings.open_database()
    await upgrade(db)
    return Ingestor(settings=settings, db=db, clock=SystemClock()), db


def make_settings(work: Path, dovecot: Dovecot, user: str, password: str) -> Settings:
    return Settings.model_validate({
        "base_dir": str(work),
        "database": {"url": f"sqlite+aiosqlite:///{work}/gateway.db"},
        "outbound": {"mode": "maildir", "maildir": str(work / "outgoing")},
        "mailboxes": [{"name": "bench", "host": dovecot.host, "port": dovecot.port, "security": "none",
                       "username": user, "password": password, "poll_seconds": 60}],
    })


async def serve(settings: Settings, ingestor, db, work: Path):
    """run_pollers() in the background; the null ingestor still needs a database for MailboxState."""
    if db is None:
        from gateway.store.db import Database
        from gateway.store.migrate import upgrade

        db = Database(f"sqlite+aiosqlite:///{work}/state.db")
        await upgrade(db)
    stop = asyncio.Event()
    tasks = [run_pollers(settings=settings, ingestor=ingestor, db=db, clock=SystemClock(), stop=stop, environ={})]
    if isinstance(ingestor, Timed) and not isinstance(ingestor.inner, NullIngestor):  # serve's pipeline beside it
        tasks.append(run_spool_worker(ingestor=ingestor.inner, clock=SystemClock(), config=settings.spool, stop=stop,
                                      on_stored=lambda: None))
    task = asyncio.gather(*tasks)
    return stop, task, db


async def latency(dovecot: Dovecot, kind: str, count: int, gap: float = 0.0) -> list[float]:
    user, password = dovecot.take_user()
    work = Path(tempfile.mkdtemp(prefix="gwbench"))
    settings = make_settings(work, dovecot, user, password)
    inner, db = await open_ingestor(kind, settings)
    timed = Timed(inner)
    stop, task, db = await serve(settings, timed, db, work)
    client = dovecot.client(user)
    await asyncio.sleep(1.0)  # connected and idling
    samples = []
    try:
        for n in range(count):
            await asyncio.sleep(gap)  # > IDLE_SETTLE: the poller is in a long IDLE when the mail comes
            subject = f"latency {n}"
            raw = mail(subject)
            started = time.perf_counter()
            await asyncio.to_thread(client.append, "INBOX", raw)
            while subject not in timed.done:
                timed.arrived.clear()
                await asyncio.wait_for(timed.arrived.wait(), 30)
            samples.append(timed.done[subject] - started)
    finally:
        client.logout()
        stop.set()
        await task
        await db.dispose()
        shutil.rmtree(work, ignore_errors=True)
    return samples


async def drain(dovecot: Dovecot, kind: str, count: int) -> tuple[float, float]:
    user, password = dovecot.take_user()
    work = Path(tempfile.mkdtemp(prefix="gwbench"))
    settings = make_settings(work, dovecot, user, password)
    client = dovecot.client(user)
    started = time.perf_counter()
    for first in range(0, count, 100):
        client.multiappend("INBOX", [mail(f"backlog {n}") for n in range(first, min(count, first + 100))])
    seeded = time.perf_counter() - started
    inner, db = await open_ingestor(kind, settings)
    timed = Timed(inner)
    stop, task, db = await serve(settings, timed, db, work)
    started = time.perf_counter()
    try:
        while len(timed.done) < count:
            timed.arrived.clear()
            await asyncio.wait_for(timed.arrived.wait(), 60)
        client.select_folder("INBOX")
        while client.search(["ALL"]):  # the last batch is moved right after its commits
            await asyncio.sleep(0.01)
            client.noop()
        elapsed = time.perf_counter() - started
    finally:
        client.logout()
        stop.set()
        await task
        await db.dispose()
        shutil.rmtree(work, ignore_errors=True)
    return elapsed, seeded


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=100, help="mails for the latency run (default 100)")
    parser.add_argument("--backlog", type=int, default=2000, help="mails for the drain run (default 2000)")
    parser.add_argument("--ingestor", choices=["real", "null"], default="real")
    parser.add_argument("--gap", type=float, default=0.0,
                        help="seconds between latency mails (0: back to back; 1.5: each finds the poller idling)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    dovecot = Dovecot(pool=4)
    dovecot.start()
    try:
        samples = await latency(dovecot, args.ingestor, args.mails, args.gap)
        print(f"APPEND -> spooled ({args.ingestor} ingestor, IDLE, {len(samples)} mails, gap {args.gap:g} s): "
              f"median {statistics.median(samples) * 1000:.0f} ms, p99 {percentile(samples, 99) * 1000:.0f} ms, "
              f"min {min(samples) * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms")
        elapsed, seeded = await drain(dovecot, args.ingestor, args.backlog)
        print(f"backlog drain ({args.ingestor} ingestor): {args.backlog} mails in {elapsed:.2f} s = "
              f"{args.backlog / elapsed:.0f} mails/s (seeding by APPEND took {seeded:.2f} s)")
    finally:
        dovecot.close()


if __name__ == "__main__":
    asyncio.run(main())

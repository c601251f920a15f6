"""Benchmark: SLA sweep and digest build time on 10,000 and 100,000 open tickets (SQLite by default).

    .venv/bin/python bench/sla.py [--sizes 10000 100000] [--due-share 0.01] [--url sqlite+aiosqlite:///...]

Tickets are bulk-inserted with Core inserts; a share of them (default 1%) is due for a look, the
rest are not. "sweep idle" is a sweep when nothing is due (the indexed range scan alone);
"sweep due" handles the due share (warnings, breaches with escalations, outbox rows).
"""
from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from gateway.clock import FixedClock
from gateway.config import Settings
from gateway.notify.outbox import Notifier
from gateway.notify.render import Renderer
from gateway.schedule import sla
from gateway.schedule.businesstime import BusinessCalendar
from gateway.schedule.digest import build_digest, run_digest
from gateway.schedule.sla import Sweeper
from gateway.store.db import Database
from gateway.store.migrate import upgrade
from gateway.store.models import Ticket

NOW = datetime(2026, 1, 7, 10, 0, tzinfo=UTC)  # a Wednesday, after the digest time


def rows(count: int, due_share: float, settings: Settings, rng: random.Random) -> list[dict]:
    cal = BusinessCalendar.from_config(settings.business)
    result = []
    for number in range(count):
        created = NOW - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
        priority = rng.choice(("urgent", "high", "medium", "low"))
        due = created + timedelta(days=60)
        is_due = rng.random() < due_share
        check = NOW - timedelta(minutes=1) if is_due else NOW + timedelta(days=rng.randint(1, 30))
        warn = due
        if is_due:  # half of them breach (escalate + announce), half only warn
            warn = NOW - timedelta(minutes=2)
            due = NOW - timedelta(minutes=1) if number % 2 else NOW + timedelta(hours=1)
        if number < 50:  # a few with real targets, so the templates see realistic values
            ticket = Ticket(priority=priority, status="open", created_at=created, last_activity_at=created,
                            first_response_at=None, sla_fired=0, level=1, paused_at=None)
            sla.set_targets(ticket, start=created, settings=settings, cal=cal)
            due = warn = ticket.resolution_due
        result.append({
            "subject": f"Bench ticket {number}", "requester": f"user{number % 997}@client.example",
            "requester_name": "", "category": "misc", "priority": priority, "level": 1, "status": "open",
            "reply_token": f"bench{number:012d}", "created_at": created, "updated_at": created,
            "last_activity_at": NOW - timedelta(minutes=5), "first_response_at": created,
            "first_response_due": due, "resolution_due": due, "first_response_warn_at": warn,
            "resolution_warn_at": warn, "sla_fired": 0, "sla_check_at": check,
        })
    return result


async def timed(label: str, work) -> float:
    start = time.perf_counter()
    result = await work()
    seconds = time.perf_counter() - start
    print(f"  {label:<24} {seconds * 1000:9.1f} ms   {result}")
    return seconds


async def bench(count: int, due_share: float, url: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="gateway-bench-sla-"))
    url = url or f"sqlite+aiosqlite:///{folder}/bench.db"
    settings = Settings.model_validate({"database": {"url": url}, "outbound": {"maildir": str(folder / "out")}})
    db = Database(url)
    await upgrade(db)
    data = rows(count, due_share, settings, random.Random(count))
    started = time.perf_counter()
    async with db.transaction() as session:
        for chunk in range(0, len(data), 5000):
            await session.execute(insert(Ticket), data[chunk:chunk + 5000])
    print(f"{count} open tickets ({due_share:.0%} due), inserted in {time.perf_counter() - started:.1f} s")
    clock = FixedClock(NOW - timedelta(minutes=2))
    sweeper = Sweeper(settings=settings, db=db, clock=clock,
                      notifier=Notifier(settings=settings, clock=clock, renderer=Renderer()))

    async def sweep():
        result = await sweeper.sweep()
        return f"checked {result.checked}, warned {len(result.warned)}, breached {len(result.breached)}, " \
               f"stalled {len(result.stalled)}"

    await timed("sweep idle", sweep)
    clock.at = NOW
    await timed("sweep due", sweep)
    await timed("sweep again (idempotent)", sweep)

    async def build():
        async with db.transaction() as session:
            data = await build_digest(session, settings=settings, now=NOW, since=NOW - timedelta(days=1))
        return ", ".join(f"{s.title.split(' ')[0].lower()} {s.total}" for s in data["sections"])

    await timed("digest build", build)
    await timed("digest build + render", lambda: run_digest(db, settings=settings, clock=FixedClock(NOW)))
    await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--due-share", type=float, default=0.01)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file per size)")
    args = parser.parse_args()
    for size in args.sizes:
        await bench(size, args.due_share, args.url)


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark: the board (/ and its live fragment /board/rows) with 10,000 open tickets (SQLite by default).

    .venv/bin/python bench/web_board.py [--tickets 10000] [--repeats 20] [--quick] [--url URL]

Requests go through the whole ASGI app (session cookie, query, Jinja) over httpx's in-process
transport, so the figure is the server's time to answer, without the network. It is measured with
the shipped board_limit (500 rows listed, the rest counted) and with every ticket listed.
--quick: 5 repeats (the goal is < 300 ms for the shipped limit).
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert  # noqa: E402

from gateway.clock import FixedClock  # noqa: E402
from gateway.config import Settings  # noqa: E402
from gateway.store.db import Database  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402
from gateway.store.models import Ticket  # noqa: E402

NOW = datetime(2026, 1, 7, 10, 0, tzinfo=UTC)


def rows(count: int, rng: random.Random) -> list[dict]:
    result = []
    for number in range(count):
        created = NOW - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
        result.append({
            "subject": f"Problem number {number} with the {rng.choice(['printer', 'VPN', 'mail', 'server'])}",
            "requester": f"user{number % 997}@client{number % 13}.example", "requester_name": "",
            "category": rng.choice(("bug", "change", "misc")),
            "priority": rng.choice(("urgent", "high", "medium", "low")),
            "level": rng.choice((1, 1, 1, 2, 3, 4)), "status": "open" if rng.random() < 0.9 else "pending",
            "assignee": None, "reply_token": f"tok{number:08d}", "created_at": created, "updated_at": created,
            "last_activity_at": created, "resolution_due": created + timedelta(hours=rng.randint(1, 96)),
            "resolution_warn_at": created + timedelta(hours=1), "sla_fired": 0})
    return result


async def measure(url: str, tickets: int, repeats: int) -> list[tuple[str, float, float]]:
    import httpx

    from gateway.ingest import Ingestor
    from gateway.web.app import build_app, session_secret
    from gateway.web.auth import hash_password
    from gateway.web.deps import Deps

    db = Database(url)
    await upgrade(db)
    async with db.transaction() as session:
        batch = rows(tickets, random.Random(7))
        for start in range(0, len(batch), 2000):
            await session.execute(insert(Ticket), batch[start:start + 2000])
    user = {"name": "dora", "password_hash": hash_password("benchmark pw"), "role": "viewer"}
    results = []
    for label, limit in (("shipped board_limit 500", 500), (f"all {tickets} listed", tickets)):
        settings = Settings.model_validate({"web": {"enabled": True, "users": [user], "board_limit": limit}})
        clock = FixedClock(NOW)
        deps = Deps(settings=settings, db=db, clock=clock, ingestor=Ingestor(settings=settings, db=db, clock=clock))
        app = build_app(deps, await session_secret(settings, db, NOW))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://bench") as http:
            page = await http.get("/login")
            csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            await http.post("/login", data={"name": "dora", "password": "benchmark pw", "csrf": csrf})
            for path in ("/", "/board/rows"):
                times = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    response = await http.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.status_code
                results.append((f"{path} {label}", statistics.median(times), max(times)))
    await db.dispose()
    return results


def main(argv: list[str] | None = None) -> list[tuple[str, float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite+aiosqlite:///{tmp}/board.db"
        results = asyncio.run(measure(url, args.tickets, repeats))
    for what, median, worst in results:
        print(f"board, {args.tickets} open tickets, {what}: median {median:.0f} ms, worst {worst:.0f} ms")
    return results


if __name__ == "__main__":
    main()

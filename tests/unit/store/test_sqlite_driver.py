"""The SQLite driver: statements inside our transactions run on the loop's thread, what may wait for
another process on aiosqlite's; results as aiosqlite's own."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from gateway.store.db import Database
from gateway.store.models import Counter, Ticket
from gateway.store.sqlite_driver import OneTripConnection

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def ticket(n: int) -> dict:
    return dict(subject=f"s{n}", requester=f"c{n}@example.org", requester_name="", category="misc", priority="low",
                level=1, status="open", reply_token=f"k{n}", created_at=NOW, updated_at=NOW, last_activity_at=NOW)


@pytest.fixture
def trips(monkeypatch) -> list:
    """Every hand-off to aiosqlite's thread, by the function sent."""
    seen: list = []
    original = OneTripConnection._execute

    async def counted(self, fn, *args, **kwargs):
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(OneTripConnection, "_execute", counted)
    return seen


async def test_the_engine_uses_it(db):
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, OneTripConnection)


async def test_inside_a_transaction_statements_make_no_trip_and_begin_and_commit_do(db, trips):
    async with db.transaction() as session:
        await session.execute(text("SELECT 0"))  # the transaction's BEGIN IMMEDIATE goes with the first statement
        assert len(trips) == 1
        trips.clear()
        assert (await session.execute(text("SELECT 1, 'a' UNION ALL SELECT 2, 'b'"))).all() == [(1, "a"), (2, "b")]
        result = await session.execute(insert(Ticket).values(**ticket(1)))
        assert result.inserted_primary_key[0] >= 1
        assert trips == []
    assert len(trips) == 1  # the COMMIT


async def test_only_what_may_wait_or_touch_the_disk_runs_off_the_loops_thread(db):
    """BEGIN (it waits for the write lock) and COMMIT (fsync) on aiosqlite's thread; the rest here."""
    async with db.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        traced: list[tuple[str, bool]] = []
        loop_thread = threading.get_ident()
        await raw.on_thread(lambda sqlite, *_: sqlite.set_trace_callback(
            lambda sql: traced.append((sql.split()[0].upper(), threading.get_ident() == loop_thread))))
    async with db.transaction() as session:
        await session.execute(insert(Ticket).values(**ticket(1)))
        await session.execute(select(Ticket.id))
    assert traced == [("BEGIN", False), ("INSERT", True), ("SELECT", True), ("COMMIT", False)]


async def test_a_statement_waits_for_a_call_still_running_on_the_thread(db):
    """A task cancelled while its call runs on aiosqlite's thread leaves that call running: the next
    statement queues behind it there instead of using the connection from two threads at once."""
    order: list[str] = []
    async with db.transaction() as session:
        await session.execute(select(Ticket.id))
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        await raw.on_thread(lambda sqlite: sqlite.set_trace_callback(lambda sql: order.append(sql.split()[0])))

        def slow(sqlite):
            time.sleep(0.3)
            order.append("slow call done")

        left = asyncio.create_task(raw.on_thread(slow))
        await asyncio.sleep(0.05)
        left.cancel()
        assert not raw.free_here()
        await session.execute(select(Ticket.id))
        assert raw.free_here()
    assert order[:2] == ["slow call done", "SELECT"]


async def test_a_long_transaction_lets_the_loop_run_other_tasks(db):
    """Statements on the loop's thread never suspend by themselves: a long transaction pauses now and then."""
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    running = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        async with db.transaction() as session:
            await session.execute(select(Ticket.id))  # BEGIN, on the thread
            during = ticks
            started = asyncio.get_running_loop().time()
            for n in range(3000):
                await session.execute(insert(Ticket).values(**ticket(n)))
            spent = asyncio.get_running_loop().time() - started
            during = ticks - during
    finally:
        running.cancel()
    assert during >= spent / 0.005 / 4  # roughly one turn per TURN_SECONDS of statements


async def test_the_loop_runs_on_while_another_process_holds_the_write_lock(db, tmp_path):
    other = sqlite3.connect(tmp_path / "gateway.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # as another gateway process in the middle of its transaction
    try:
        async def write():
            async with db.transaction() as session:
                await session.execute(insert(Ticket).values(**ticket(1)))

        writer = asyncio.create_task(write())
        ticks = 0
        for _ in range(20):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not writer.done()  # waiting for the lock, off the loop's thread
    finally:
        other.execute("COMMIT")
        other.close()
    await asyncio.wait_for(writer, 10)
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1


async def test_rows_counts_and_ids_are_those_of_sqlite(db):
    async with db.transaction() as session:
        first = (await session.execute(insert(Ticket).values(**ticket(1)))).inserted_primary_key[0]
        await session.execute(insert(Ticket), [ticket(2), ticket(3), ticket(4)])  # executemany
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 4
        changed = await session.execute(update(Ticket).where(Ticket.id > first).values(status="resolved"))
        assert changed.rowcount == 3
        returned = await session.execute(
            update(Ticket).where(Ticket.status == "resolved").values(level=4).returning(Ticket.id))
        assert sorted(returned.scalars()) == [first + 1, first + 2, first + 3]
        assert await session.scalar(select(Ticket.id).where(Ticket.status == "none")) is None


async def test_a_streamed_result_reads_in_pieces(db):
    async with db.transaction() as session:
        await session.execute(insert(Ticket), [ticket(n) for n in range(25)])
    async with db.engine.connect() as conn:
        result = await conn.stream(select(Ticket.subject).order_by(Ticket.id))
        pieces = [[row.subject for row in part] async for part in result.partitions(10)]
    assert [len(part) for part in pieces] == [10, 10, 5]
    assert pieces[0][0] == "s0" and pieces[-1][-1] == "s24"


async def test_errors_are_sqlalchemys_and_leave_the_connection_usable(db):
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(insert(Counter).values(name="x", value=1))
            await session.execute(insert(Counter).values(name="x", value=1))
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Counter)) == 0


async def test_an_in_memory_database_works(tmp_path):
    database = Database("sqlite+aiosqlite:///:memory:")
    try:
        async with database.transaction() as session:
            assert await session.scalar(text("SELECT 40 + 2")) == 42
    finally:
        await database.dispose()

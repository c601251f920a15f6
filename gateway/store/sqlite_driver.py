"""aiosqlite that goes to its thread only where SQLite may wait, and then once per statement.

SQLAlchemy's aiosqlite adapter makes a cursor, executes, fetches and closes it, each a separate
hand-off to aiosqlite's thread and back through the event loop: about 0.15 ms apiece here, more
than most of our statements take in SQLite. This connection runs all four as one call and gives
SQLAlchemy the rows already fetched. Our statements return few rows and nothing of ours streams a
large result, so fetching them all at once costs nothing in memory (a streamed result still works:
it is read from the rows fetched).

Where that call runs: every transaction of ours begins IMMEDIATE (store/db.py), so once it is open
this connection holds the write lock and its statements wait for no one: they run on the event
loop's thread, without the hand-off (measured: serve under smtp-source +25-32%, import +37-68%).
What may wait for another process (BEGIN, up to busy_timeout, and anything outside a transaction),
COMMIT and ROLLBACK (fsync, checkpoint) and the big-blob writer still go to aiosqlite's thread, so
the loop never sits out a lock or a disk.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import sqlite3
import time
from functools import partial
from typing import Any, Callable

import aiosqlite

# A long transaction (an SLA sweep over thousands of tickets, a group of 64 mails) would otherwise keep
# the loop to itself until its COMMIT: after this long without a pause, a statement lets others run first.
TURN_SECONDS = 0.005


def _run(conn: sqlite3.Connection, method: str, sql: str, parameters: Any) -> tuple:
    """Run the statement and take everything SQLAlchemy will ask of it."""
    cursor = conn.cursor()
    try:
        getattr(cursor, method)(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor:
    """The subset of aiosqlite.Cursor that SQLAlchemy's adapter uses; rows are fetched with the statement."""

    arraysize = 1

    def __init__(self, conn: aiosqlite.Connection):
        self._conn = conn
        self.description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: collections.deque = collections.deque()

    def __await__(self):  # SQLAlchemy 2.0 awaits connection.cursor(); 2.1 enters it as a context
        return self._ready().__await__()

    async def _ready(self) -> "OneTripCursor":
        return self

    async def __aenter__(self) -> "OneTripCursor":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = ()) -> "OneTripCursor":
        return await self._trip("execute", sql, () if parameters is None else parameters)

    async def executemany(self, sql: str, parameters: Any) -> "OneTripCursor":
        return await self._trip("executemany", sql, parameters)

    async def _trip(self, method: str, sql: str, parameters: Any) -> "OneTripCursor":
        if self._conn.free_here():
            await self._conn.take_turns()
            outcome = _run(self._conn.sqlite, method, sql, parameters)
        else:
            outcome = await self._conn.on_thread(_run, method, sql, parameters)
        self.description, self.rowcount, self.lastrowid, rows = outcome
        self._rows = collections.deque(rows)
        return self

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list:
        return [self._rows.popleft() for _ in range(min(size or self.arraysize, len(self._rows)))]

    async def fetchall(self) -> list:
        rows, self._rows = list(self._rows), collections.deque()
        return rows

    async def close(self) -> None:
        self._rows.clear()


class OneTripConnection(aiosqlite.Connection):
    # Calls handed to aiosqlite's thread, and calls that thread has finished; each counter is written
    # by one thread only. A call whose awaiting task was cancelled still runs there to its end.
    _handed = _finished = 0
    _paused_at = 0.0  # when a call of ours last let the loop run something else
    _off_loop = False

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    # The one place that reaches into aiosqlite's private _execute, _conn and _connection: it has no
    # public call for these.

    async def _execute(self, fn, *args, **kwargs):
        def counted():
            try:
                return fn(*args, **kwargs)
            finally:
                self._finished += 1

        self._handed += 1
        try:
            return await super()._execute(counted)
        finally:
            self._paused_at = time.perf_counter()

    async def on_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(sqlite3 connection, *args) on aiosqlite's thread."""
        return await self._execute(lambda: fn(self._conn, *args))

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection, for a call on the loop's thread (ValueError once closed)."""
        return self._conn

    def in_transaction(self) -> bool:
        connection = self._connection
        return connection is not None and connection.in_transaction

    async def take_turns(self) -> None:
        if time.perf_counter() - self._paused_at > TURN_SECONDS:
            await asyncio.sleep(0)
            self._paused_at = time.perf_counter()

    def free_here(self) -> bool:
        """In a transaction (ours begin IMMEDIATE: the write lock is held, SQLite waits for no one) and
        nothing of this connection's left running on aiosqlite's thread: a statement may run here."""
        return self._handed == self._finished and not self._off_loop and self.in_transaction()

    @contextlib.contextmanager
    def off_loop(self):
        """Statements meanwhile go to aiosqlite's thread: for the ones that move megabytes."""
        self._off_loop = True
        try:
            yield
        finally:
            self._off_loop = False

    async def rollback(self) -> None:
        # The pool rolls back every connection it takes back; with no transaction open (the usual case
        # after a commit) sqlite3 would do nothing, so skip the trip to the thread as well.
        if self.in_transaction():
            await super().rollback()


def creator(connect_args: tuple, connect_kwargs: dict) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine: the arguments are the dialect's own for sqlite3.connect."""
    async def connect() -> OneTripConnection:
        # Opened on aiosqlite's thread, used on the loop's too, never both at once (free_here).
        opener = partial(sqlite3.connect, *connect_args, **{**connect_kwargs, "check_same_thread": False})
        connection = OneTripConnection(opener, 64)
        # As SQLAlchemy does for aiosqlite: a connection left open must not hold the process at exit.
        getattr(connection, "_thread", connection).daemon = True  # before 0.22 the connection is the thread
        return await connection
    return connect

"""aiosqlite with one trip to its thread per statement instead of four.

SQLAlchemy's aiosqlite adapter makes a cursor, executes, fetches and closes it, each a separate
hand-off to aiosqlite's thread and back through the event loop: about 0.15 ms apiece here, which
made the hand-offs, not SQLite, most of ingest's database time. This connection runs all four in
one hand-off and gives SQLAlchemy the rows already fetched. Our statements return few rows and
nothing of ours streams a large result, so fetching them all at once costs nothing in memory (a
streamed result still works: it is read from the rows fetched).
"""
from __future__ import annotations

import collections
import sqlite3
from functools import partial
from typing import Any, Callable

import aiosqlite


def _run(conn: sqlite3.Connection, method: str, sql: str, parameters: Any) -> tuple:
    """On aiosqlite's thread: run the statement and take everything SQLAlchemy will ask of it."""
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
        self.description, self.rowcount, self.lastrowid, rows = await self._conn.on_thread(
            _run, method, sql, parameters)
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
    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def on_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(sqlite3 connection, *args) on aiosqlite's thread, which owns that connection.

        The one place that reaches into aiosqlite's private _execute/_conn: it has no public call for this.
        """
        return await self._execute(lambda: fn(self._conn, *args))


def creator(connect_args: tuple, connect_kwargs: dict) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine: the arguments are the dialect's own for sqlite3.connect."""
    async def connect() -> OneTripConnection:
        connection = OneTripConnection(partial(sqlite3.connect, *connect_args, **connect_kwargs), 64)
        # As SQLAlchemy does for aiosqlite: a connection left open must not hold the process at exit.
        getattr(connection, "_thread", connection).daemon = True  # before 0.22 the connection is the thread
        return await connection
    return connect

"""The engine and the one way to open a transaction; database trouble becomes TempFail."""
from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import AsyncIterator

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError, InterfaceError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from gateway.errors import TempFail


def _sqlite_pragmas(busy_timeout_ms: int):
    def on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE (below) instead of the driver's lazy BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the one writer; busy_timeout waits out short locks instead of failing.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return on_connect


def _sqlite_begin_immediate(conn) -> None:
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when another
    # writer committed in between; taking the write lock up front makes it wait (busy_timeout) instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False, schema: str | None = None,
                busy_timeout_ms: int = 5000) -> AsyncEngine:
    """An async engine for `url`; SQLite gets WAL and a busy timeout, its folder is created.

    schema: a PostgreSQL search_path (tests run each in a throwaway schema).
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and ":memory:" not in path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    connect_args = {"server_settings": {"search_path": schema}} if schema else {}
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20,
                               connect_args=connect_args)


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported by whoever tries to use it
        return "<unparsable database url>"


class Database:
    """An engine plus a session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str, *, echo: bool = False, schema: str | None = None, busy_timeout_ms: int = 5000):
        self.url = url
        self.schema = schema
        self.engine = make_engine(url, echo=echo, schema=schema, busy_timeout_ms=busy_timeout_ms)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer: queue our own transactions here rather than in its busy loop.
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Open a session, commit on success, roll back on error; DB trouble raises TempFail."""
        try:
            async with self._serialised():
                async with self.sessions() as session:
                    async with session.begin():
                        yield session
        except (OperationalError, InterfaceError) as exc:
            raise TempFail(f"database {describe(self.url)} unavailable: {_first_line(exc)}") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise TempFail(f"database {describe(self.url)} connection lost: {_first_line(exc)}") from exc
            raise
        except (OSError, ConnectionError) as exc:
            raise TempFail(f"database {describe(self.url)} unreachable: {exc}") from exc

    @contextlib.asynccontextmanager
    async def _serialised(self) -> AsyncIterator[None]:
        if self._write_lock is None:
            yield
            return
        async with self._write_lock:
            yield

    async def dispose(self) -> None:
        await self.engine.dispose()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__

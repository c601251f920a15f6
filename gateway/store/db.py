"""The engine and the one way to open a transaction; database trouble becomes TempFail."""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from pathlib import Path
from typing import AsyncIterator, Sequence

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import make_transient_to_detached

from gateway.errors import TempFail
from gateway.store import counters
from gateway.store import sqlite_driver
from gateway.store.upsert import insert_for

log = logging.getLogger(__name__)


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


def _closed_is_gone(_dbapi_connection, record, _proxy) -> None:
    # In place of the pool's ping (a round trip per checkout): a connection the server closed (restart,
    # pg_terminate_backend, idle timeout) has seen its socket end, and asyncpg says so without asking.
    # Raising DisconnectionError makes the pool drop it and check out a fresh one. A connection that died
    # silently fails its statement instead: TempFail, 451, the client retries.
    if record.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def make_engine(url: str, *, echo: bool = False, schema: str | None = None,
                busy_timeout_ms: int = 5000, **pg_options) -> AsyncEngine:
    """An async engine for `url`; SQLite gets WAL and a busy timeout, its folder is created.

    schema: a PostgreSQL search_path (tests run each in a throwaway schema); pg_options: create_async_engine's.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and ":memory:" not in path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        parsed = make_url(url)
        connect_args, connect_kwargs = parsed.get_dialect()().create_connect_args(parsed)
        engine = create_async_engine(url, echo=echo, async_creator=sqlite_driver.creator(connect_args, connect_kwargs))
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    connect_args = {"server_settings": {"search_path": schema}} if schema else {}
    options = {"pool_size": 10, "max_overflow": 20, "pool_pre_ping": True, **pg_options}
    return create_async_engine(url, echo=echo, connect_args=connect_args, **options)


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported by whoever tries to use it
        return "<unparsable database url>"


class Database:
    """An engine plus a session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str, *, echo: bool = False, schema: str | None = None, busy_timeout_ms: int = 5000):
        self.url = url
        self.echo = echo
        self.schema = schema
        self.busy_timeout_ms = busy_timeout_ms
        self.engine = make_engine(url, echo=echo, schema=schema, busy_timeout_ms=busy_timeout_ms)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer: queue our own transactions here rather than in its busy loop.
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        self._spool = None
        self._autocommit: AsyncEngine | None = None

    @property
    def spool_path(self) -> str | None:
        """The inbound spool's own file beside a SQLite database file; None when the spool is a table here."""
        if self.dialect != "sqlite":
            return None
        path = make_url(self.url).database
        if not path or ":memory:" in path or path.startswith("file:"):
            return None
        from gateway.store.spool_file import path_for

        return path_for(path)

    @property
    def spool(self):
        """The inbound spool (gateway.store.spool.Spool), made on first use and closed with dispose()."""
        if self._spool is None:
            from gateway.store.spool import open_spool

            self._spool = open_spool(self)
        return self._spool

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Open a session, commit on success, roll back on error; DB trouble raises TempFail."""
        async with self._trouble_is_temporary():
            async with self._serialised():
                async with self.sessions() as session:
                    async with session.begin():
                        yield session
                        await counters.write_pending(session)

    @contextlib.asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncConnection]:
        """A PostgreSQL connection in autocommit, for one statement that is a transaction by itself; DB trouble
        raises TempFail. One round trip (the statement) where transaction() takes six (a ping inside BEGIN …
        ROLLBACK, BEGIN, the statement, COMMIT): for the spool's group commit, which every SMTP session of the
        next group waits behind. The pool's ping was half of that path's CPU (py-spy, smtp-source -s 20)."""
        if self.dialect != "postgresql":
            raise ValueError("Database.statement() is for PostgreSQL; SQLite's writes queue in transaction()")
        if self._autocommit is None:  # connections of their own, checked without a round trip (_closed_is_gone)
            self._autocommit = make_engine(self.url, echo=self.echo, schema=self.schema, isolation_level="AUTOCOMMIT",
                                           pool_size=2, max_overflow=2, pool_pre_ping=False)
            event.listen(self._autocommit.sync_engine, "checkout", _closed_is_gone)
        async with self._trouble_is_temporary():
            async with self._autocommit.connect() as connection:
                yield connection

    async def analyze(self, tables: Sequence[str]) -> None:
        """PostgreSQL: renew the planner's statistics of `tables`, and with them every plan cached for them
        (SQLite picks its indexes without statistics: nothing to do). A lookup prepared while its table was
        nearly empty keeps a sequential scan until then, and with autovacuum off nothing else analyses."""
        if self.dialect != "postgresql":
            return
        try:
            async with self.statement() as connection:
                await connection.execute(text(f"ANALYZE {', '.join(tables)}"))
        except TempFail as exc:  # a help, not a step of anyone's work: the import or drain goes on without it
            log.warning("ANALYZE skipped (%s); PostgreSQL's lookups may stay slow until the tables are analysed: "
                        "run ANALYZE or turn autovacuum on", exc)

    async def autocommit_scalars(self, statement, values: dict) -> list:
        """`statement` run alone in autocommit (see statement()); the first column of its rows.

        A pooled connection the server closed is found out only by the statement sent on it (there is no
        ping): then it runs once more on a fresh connection. Had the first one committed after all, its
        rows are the same as a client's resend after a 451, which the spool already takes (dedupe).
        """
        for attempt in (1, 2):
            try:
                async with self.statement() as connection:
                    return list((await connection.scalars(statement, values)).all())
            except TempFail as exc:
                if attempt == 2 or not getattr(exc.__cause__, "connection_invalidated", False):
                    raise
        raise AssertionError("unreachable")

    @contextlib.asynccontextmanager
    async def _trouble_is_temporary(self) -> AsyncIterator[None]:
        try:
            yield
        except Exception as exc:
            if _schema_missing(exc):
                raise TempFail(f"database {describe(self.url)} lacks the gateway's tables or has an older schema "
                               f"({_first_line(exc)}): run `gateway db upgrade`") from exc
            if is_transient(exc):
                raise TempFail(f"database {describe(self.url)} unavailable: {_first_line(exc)}") from exc
            raise

    @contextlib.asynccontextmanager
    async def _serialised(self) -> AsyncIterator[None]:
        if self._write_lock is None:
            yield
            return
        async with self._write_lock:
            yield

    async def dispose(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        if self._autocommit is not None:
            await self._autocommit.dispose()
            self._autocommit = None
        await self.engine.dispose()


# PostgreSQL SQLSTATE classes that say "the server cannot do this now", not "this data is wrong":
# connection exception, transaction rollback (serialisation, deadlock), insufficient resources (disk
# full, out of memory, too many connections), operator intervention (shutdown, cannot connect now).
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57")


def is_transient(exc: BaseException) -> bool:
    """The database itself failed (locked, full, gone, restarting), as opposed to the data we sent it.

    SQLite reports locked, busy, full and I/O errors as OperationalError; asyncpg's disk-full and
    shutdown errors reach SQLAlchemy as plain DBAPIError, known only by their SQLSTATE.
    """
    if isinstance(exc, (OperationalError, InterfaceError, OSError, ConnectionError)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None) or ""
    return state[:2] in _TRANSIENT_SQLSTATE_CLASSES


@contextlib.asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """session.begin_nested() that lets the error which ended it through.

    On a full disk or an I/O error SQLite rolls back the whole transaction by itself; SQLAlchemy's
    ROLLBACK TO SAVEPOINT then fails with "no such savepoint" and that error would replace the cause.
    """
    nested = await session.begin_nested()
    counted = counters.pending(session)
    adopted = session.info.setdefault(ADOPTED, [])
    mark = len(adopted)
    try:
        yield
    except BaseException as exc:
        counters.restore(session, counted)  # what the savepoint undid is uncounted
        for obj in adopted[mark:]:  # their rows are undone: out of the session, as a flushed INSERT would be
            if obj in session:
                session.expunge(obj)
        del adopted[mark:]
        if nested.is_active:
            try:
                await nested.rollback()
            except DBAPIError:
                if is_transient(exc):
                    raise exc from None
                raise
        raise
    await nested.commit()


# session.info key: the objects adopt() made persistent, oldest first (savepoint() expunges those its
# rollback undid).
ADOPTED = "adopted_rows"


def adopt(session: AsyncSession, obj) -> None:
    """Make `obj`, whose row a plain INSERT has just written with every column `obj` holds (the primary
    key included), an unchanged persistent object of `session`, as a flush of it would leave it: later
    changes to it are flushed as UPDATEs, and a savepoint() that rolls the row back expunges it again.
    Every column must be set on `obj`; one left unset would be loaded lazily, which async sessions cannot."""
    make_transient_to_detached(obj)
    session.add(obj)
    session.info.setdefault(ADOPTED, []).append(obj)


def insert_ignoring_conflicts(session: AsyncSession, model):
    """INSERT … ON CONFLICT DO NOTHING for this session's dialect (one statement per dialect and model:
    statements are immutable, and every mail stores its raw bytes with one)."""
    return _insert_ignoring_conflicts(session.bind.dialect.name, model)


@functools.cache
def _insert_ignoring_conflicts(dialect: str, model):
    return insert_for(dialect)(model).on_conflict_do_nothing()


def _schema_missing(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None) or ""
    return state in ("42P01", "42703") or str(exc.orig).startswith(("no such table", "no such column"))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__

"""A full disk while storing: SMTP answers 451, the pipe exits 75, nothing is half-written, and the
next mail that fits is stored. The disk is really full: a small tmpfs under SQLite's file or under a
PostgreSQL tablespace (both need root to mount); SQLite's page limit gives the same error without root."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile

import pytest
from sqlalchemy import event, func, select, text

from gateway.errors import TempFail
from gateway.ingest import Ingestor
from gateway.store.db import Database
from gateway.store.migrate import upgrade
from gateway.store.models import Blob, Event, Message, Outbox, Ticket
from tests.conftest import free_port
from tests.integration.serving import asend, make_mail, start

BIG = 3 * 1024 * 1024


def big_mail(subject: str = "Logs attached"):
    mail = make_mail(subject=subject)
    mail.add_attachment(os.urandom(BIG), maintype="application", subtype="octet-stream", filename="logs.bin")
    return mail


async def table_counts(db: Database) -> list[int]:
    async with db.transaction() as session:
        return [await session.scalar(select(func.count()).select_from(model))
                for model in (Ticket, Message, Blob, Outbox, Event)]


@contextlib.contextmanager
def small_disk(size: str):
    """A fresh tmpfs of `size`, world-traversable (PostgreSQL's server process writes to it too)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; test_sqlite_page_limit covers the same error path")
    path = tempfile.mkdtemp(prefix="gw-full-")
    os.chmod(path, 0o755)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", path],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        os.rmdir(path)
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); test_sqlite_page_limit covers it")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], check=False)
        os.rmdir(path)


async def test_sqlite_page_limit_is_a_temporary_failure_and_nothing_is_half_written(settings_factory, clock,
                                                                                   tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/gateway.db")
    await upgrade(db)
    async with db.transaction() as session:
        pages = (await session.execute(text("PRAGMA page_count"))).scalar()

    limit = [pages + 200]

    @event.listens_for(db.engine.sync_engine, "connect")
    def _limit(dbapi_connection, _record) -> None:  # SQLITE_FULL, the error a full disk gives
        dbapi_connection.execute(f"PRAGMA max_page_count={limit[0]}")

    await db.engine.dispose()  # reconnect with the limit
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    assert (await ingestor.ingest(make_mail(subject="Fits").as_bytes(), source="test")).status == "stored"
    before = await table_counts(db)
    # The spool (its own file on SQLite) took the mail; storing it in the full database fails whole.
    with pytest.raises(TempFail, match="database or disk is full"):
        await ingestor.ingest(big_mail().as_bytes(), source="test")
    assert await table_counts(db) == before
    assert (await db.spool.status(clock.now())).depth == 1  # it waits in the spool, in its turn
    limit[0] = pages + 10_000  # space freed
    await db.engine.dispose()
    assert (await ingestor.ingest(make_mail(subject="Fits too").as_bytes(), source="test")).status == "stored"
    assert (await db.spool.status(clock.now())).depth == 0
    assert (await table_counts(db))[0] == before[0] + 2  # tickets: the big mail, then this one
    await db.dispose()


async def test_sqlite_on_a_full_disk_answers_451_then_takes_mail_that_fits(settings_factory, relay, caplog):
    with small_disk("2m") as disk:
        settings = settings_factory(smtp={"port": free_port()}, database={"url": f"sqlite+aiosqlite:///{disk}/gw.db"},
                                    outbound={"mode": "smtp", "port": relay.port})
        running = await start(settings)
        db = running.database()
        try:
            assert (await asend(running.port, make_mail(subject="Before")))[0] == 250
            await running.drained()  # a 250 means spooled: let the pipeline finish it
            before = await table_counts(db)
            code, reply = await asend(running.port, big_mail())
            assert code == 451, reply  # the sender hears "try again"; the log says why
            assert "database or disk is full" in caplog.text
            assert await table_counts(db) == before
            assert (await asend(running.port, make_mail(subject="After")))[0] == 250
        finally:
            await running.shutdown()
            await db.dispose()


def test_pipe_on_a_full_disk_exits_75_with_one_line(tmp_path):
    import sqlite3

    with small_disk("2m") as disk:
        config = tmp_path / "config.toml"
        config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{disk}/gw.db"\n'
                          f'[outbound]\nmaildir = "{tmp_path}/out"\n'
                          f'[smtp]\nport = {free_port()}\n')
        gateway = [sys.executable, "-m", "gateway.cli", "--config", str(config)]

        def ingest(raw: bytes) -> subprocess.CompletedProcess:
            return subprocess.run([*gateway, "ingest"], input=raw, capture_output=True, timeout=60)

        def rows() -> list[int]:
            with contextlib.closing(sqlite3.connect(f"{disk}/gw.db")) as conn:
                return [conn.execute(f"select count(*) from {table}").fetchone()[0]
                        for table in ("tickets", "messages", "blobs", "outbox", "events")]

        assert subprocess.run([*gateway, "db", "upgrade"], capture_output=True, timeout=60).returncode == 0
        assert ingest(make_mail(subject="Before").as_bytes()).returncode == 0
        before = rows()
        full = ingest(big_mail().as_bytes())
        err = full.stderr.decode()
        assert full.returncode == 75, err
        assert len(err.strip().splitlines()) == 1 and "disk is full" in err and "Traceback" not in err
        assert rows() == before
        assert ingest(make_mail(subject="After").as_bytes()).returncode == 0


async def test_postgres_tablespace_full_answers_451_and_rolls_back(settings_factory, relay, caplog):
    """SQLSTATE 53100 (disk_full) reaches SQLAlchemy as a plain DBAPIError; it must still mean 'try again'."""
    from tests.conftest import _pg_available, make_pg_database

    if reason := _pg_available():
        pytest.skip(reason)
    with small_disk("2m") as disk:
        os.chown(disk, *_postgres_ids())
        database, drop = await make_pg_database()
        space = f"gw_full_{os.getpid()}"
        await upgrade(database)
        async with database.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f"CREATE TABLESPACE {space} LOCATION '{disk}'"))
            await conn.execute(text(f"ALTER TABLE blobs SET TABLESPACE {space}"))
        settings = settings_factory(smtp={"port": free_port()},
                                    database={"url": database.url, "pg_schema": database.schema},
                                    outbound={"mode": "smtp", "port": relay.port})
        running = await start(settings)
        try:
            assert (await asend(running.port, make_mail(subject="Before")))[0] == 250
            await running.drained()  # a 250 means spooled: let the pipeline finish it
            before = await table_counts(database)
            code, reply = await asend(running.port, big_mail())
            assert code == 451, reply
            assert "could not extend file" in caplog.text
            assert await table_counts(database) == before
            assert (await asend(running.port, make_mail(subject="After")))[0] == 250
        finally:
            await running.shutdown()
            await drop()
            async with Database(database.url).engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f"DROP TABLESPACE IF EXISTS {space}"))


def _postgres_ids() -> tuple[int, int]:
    import pwd

    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("the PostgreSQL server does not run as a local 'postgres' user; cannot give it a small disk")
    return entry.pw_uid, entry.pw_gid

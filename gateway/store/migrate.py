"""Bring a database to the newest schema with Alembic, from inside the gateway."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text

from gateway.errors import TempFail
from gateway.store.db import Database, describe, is_transient

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

# A migration file's own revision and the one(s) it follows (our files, not outside text: plain re).
_REVISION = re.compile(r"^revision(?:\s*:[^=\n]*)?\s*=\s*['\"](\w+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=\n]*)?\s*=\s*(.*)$", re.M)


def head_revision() -> str | None:
    """The single head of migrations/versions, read from the files' revision lines; None when that is not
    plain (no files, a line not found, several heads): then Alembic itself decides."""
    revisions, followed = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        followed.update(re.findall(r"['\"](\w+)['\"]", down.group(1)))
    heads = revisions - followed
    return heads.pop() if len(heads) == 1 else None


async def _at_head(db: Database) -> bool:
    """Whether `db` is stamped with the head revision already (False on any doubt: no table, no head)."""
    head = head_revision()
    if head is None:
        return False
    try:
        async with db.engine.connect() as connection:
            stamped = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except Exception:  # no such table yet, or the database is down: the full upgrade says which
        return False
    return stamped == [head]


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(db: Database) -> None:
    """Upgrade `db` to head, and make the spool file beside a SQLite database; safe to run on every start.

    A database at head already is not handed to Alembic: one query instead of importing Alembic (and
    with it every dialect it supports) and loading every migration, about a fifth of `gateway import`'s
    start-up.
    """
    if not await _at_head(db):
        await _alembic_upgrade(db)
    if db.spool_path is not None:
        from gateway.store.spool_sqlite import create_file

        await create_file(db)


async def _alembic_upgrade(db: Database) -> None:
    from alembic import command

    config = alembic_config(db.url)

    def run(connection) -> None:
        if connection.dialect.name == "postgresql":
            # Several instances may start at once: one migrates, the others wait and find nothing to do.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7251001)")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(run)
    except Exception as exc:
        if not is_transient(exc):
            raise
        raise TempFail(f"database {describe(db.url)} unavailable for the schema upgrade: "
                       f"{str(getattr(exc, 'orig', exc)).splitlines()[0]}") from exc

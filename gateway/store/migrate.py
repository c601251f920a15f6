"""Bring a database to the newest schema with Alembic, from inside the gateway."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from gateway.errors import TempFail
from gateway.store.db import Database, describe, is_transient

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(db: Database) -> None:
    """Upgrade `db` to head, and make the spool file beside a SQLite database; safe to run on every start."""
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
    if db.spool_path is not None:
        from gateway.store.spool_sqlite import create_file

        await create_file(db)

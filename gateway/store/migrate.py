"""Bring a database to the newest schema with Alembic, from inside the gateway."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from gateway.store.db import Database

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(db: Database) -> None:
    """Upgrade `db` to head; safe to run on every start."""
    config = alembic_config(db.url)

    def run(connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with db.engine.begin() as connection:
        await connection.run_sync(run)

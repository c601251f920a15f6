"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from gateway.store.migrate import alembic_config
from gateway.store.models import Base


async def test_models_and_migrations_agree(any_db):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with any_db.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


def test_one_head_and_date_prefixed_files():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        name = revision.path.rsplit("/", 1)[-1]
        assert name[:4].isdigit() and name[4] == "-" and name[10] == "_", name


async def test_downgrade_to_base_and_back(db):
    config = alembic_config(db.url)

    def cycle(connection):
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        command.upgrade(config, "head")

    async with db.engine.begin() as connection:
        await connection.run_sync(cycle)

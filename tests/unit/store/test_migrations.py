"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from gateway.store import migrate
from gateway.store.migrate import alembic_config, head_revision, upgrade
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


def test_the_head_read_from_the_files_is_alembics():
    # upgrade() skips Alembic when the database is stamped with this head: it must be the one Alembic finds.
    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def test_upgrade_leaves_alembic_alone_only_at_head(any_db, monkeypatch):
    ran = []
    real = migrate._alembic_upgrade

    async def counted(database):
        ran.append(database)
        await real(database)

    monkeypatch.setattr(migrate, "_alembic_upgrade", counted)
    await upgrade(any_db)  # migrated by the fixture: at head
    assert ran == []
    config = alembic_config(any_db.url)

    def back_one(connection):
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")

    async with any_db.engine.begin() as connection:
        await connection.run_sync(back_one)
    await upgrade(any_db)  # one behind: Alembic brings it up
    assert ran == [any_db]
    async with any_db.engine.connect() as connection:
        assert await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_revision()) \
            == head_revision()

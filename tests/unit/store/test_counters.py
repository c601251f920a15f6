"""Counters are bumped in memory and written once, at commit, with what the transaction kept."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from gateway.store.counters import bump
from gateway.store.db import savepoint
from gateway.store.models import Counter


async def values(db) -> dict[str, int]:
    async with db.transaction() as session:
        return dict((await session.execute(select(Counter.name, Counter.value))).all())


def counting_upserts(db) -> list[str]:
    seen: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO") and "counters" in statement:
            seen.append(statement)

    return seen


async def test_a_transactions_bumps_are_one_write_at_commit(any_db):
    upserts = counting_upserts(any_db)
    async with any_db.transaction() as session:
        bump(session, "held_back")
        bump(session, "held_back")
        bump(session, "duplicates", 3)
        assert upserts == []  # nothing written until the transaction ends
    assert len(upserts) == 1
    async with any_db.transaction() as session:
        bump(session, "held_back")
    assert await values(any_db) == {"held_back": 3, "duplicates": 3}


async def test_a_savepoint_that_rolls_back_takes_its_bumps_with_it(any_db):
    async with any_db.transaction() as session:
        bump(session, "kept")
        with pytest.raises(RuntimeError):
            async with savepoint(session):
                bump(session, "kept")
                bump(session, "undone")
                raise RuntimeError("this mail failed")
        async with savepoint(session):
            bump(session, "kept")
    assert await values(any_db) == {"kept": 2}


async def test_a_failed_transaction_counts_nothing(any_db):
    with pytest.raises(RuntimeError):
        async with any_db.transaction() as session:
            bump(session, "never")
            raise RuntimeError("rolled back")
    assert await values(any_db) == {}

"""Rows written by a plain INSERT and adopted into the session behave as if the session had flushed them."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import event, inspect, select

from gateway.pipeline.steps.record import insert_ticket
from gateway.store.db import savepoint
from gateway.store.models import Ticket

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def new_ticket(token: str) -> Ticket:
    return Ticket(subject="Printer on fire", requester="bob@customer.example", category="bug", priority="high",
                  level=1, reply_token=token, created_at=NOW, updated_at=NOW, last_activity_at=NOW)


def statements(db) -> list[str]:
    seen: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    return seen


async def test_an_inserted_ticket_is_unchanged_loaded_and_updated_later(any_db):
    async with any_db.transaction() as session:
        ticket = new_ticket("tok-a")
        await insert_ticket(session, ticket)
        state = inspect(ticket)
        assert state.persistent and not state.modified and ticket in session
        # The columns the INSERT defaulted are set on the object, not left to a lazy load.
        assert not state.expired_attributes
        assert (ticket.status, ticket.requester_name, ticket.sla_fired, ticket.assignee) == ("open", "", 0, None)
        assert await session.get(Ticket, ticket.id) is ticket
        seen = statements(any_db)
        ticket.assignee = "eve@example.com"
        await session.flush()
        assert [s for s in seen if s.startswith("UPDATE tickets")]
        number = ticket.id
    async with any_db.transaction() as session:
        stored = await session.get(Ticket, number)
        assert (stored.status, stored.requester_name, stored.sla_fired, stored.assignee) == \
            ("open", "", 0, "eve@example.com")


async def test_a_savepoint_that_rolls_back_takes_the_adopted_ticket_out_of_the_session(any_db):
    async with any_db.transaction() as session:
        lost = new_ticket("tok-lost")
        with pytest.raises(RuntimeError):
            async with savepoint(session):
                await insert_ticket(session, lost)
                raise RuntimeError("this mail failed after its ticket was written")
        assert lost not in session
        # SQLite gives the next ticket the id the rolled-back row had: no stale object stands in its way.
        kept = new_ticket("tok-kept")
        async with savepoint(session):
            await insert_ticket(session, kept)
        assert kept in session
    async with any_db.transaction() as session:
        tokens = (await session.scalars(select(Ticket.reply_token))).all()
    assert tokens == ["tok-kept"]


async def test_an_outer_savepoint_rolling_back_takes_what_an_inner_one_kept(any_db):
    async with any_db.transaction() as session:
        inner = new_ticket("tok-inner")
        with pytest.raises(RuntimeError):
            async with savepoint(session):
                async with savepoint(session):
                    await insert_ticket(session, inner)
                raise RuntimeError("the mail failed later")
        assert inner not in session

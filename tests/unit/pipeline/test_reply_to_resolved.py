"""Reply-to-closed policy per level: a level's reopen_days decides whether a reply reopens or opens a new ticket."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from gateway.clock import FixedClock
from gateway.config import DEFAULT_LEVELS
from gateway.pipeline.context import MailContext
from gateway.pipeline.steps.reopen import Reopen
from tests.unit.pipeline.test_commands_step import CUSTOMER, NOW
from tests.unit.schedule.helpers import ticket, utc

OWN_DAYS = {1: 30, 3: 0}  # level 1 keeps tickets a month; level 3 never reopens; the rest: [tickets] 14


def levels() -> list[dict]:
    return [{**level.model_dump(), "reopen_days": OWN_DAYS.get(level.number)} for level in DEFAULT_LEVELS]


async def customer_reply(db, settings, *, level: int, resolved: timedelta) -> MailContext:
    async with db.transaction() as session:
        row = ticket(settings, utc("2025-11-01 09:00"), level=level, status="resolved", resolved_at=NOW - resolved)
        session.add(row)
        await session.flush()
        ctx = MailContext(raw=b"", sha256="", source="smtp", envelope_from=CUSTOMER, recipients=(),
                          mail=SimpleNamespace(from_addr=CUSTOMER), session=session, settings=settings,
                          clock=FixedClock(NOW), now=NOW, notifier=None, ticket=row)
        await Reopen().run(ctx)
        ctx.old_id = row.id
        return ctx


@pytest.mark.parametrize("level, days_ago, reopens", [
    (1, 20, True),    # its own 30 days, longer than [tickets] 14
    (1, 31, False),
    (2, 13, True),    # no own setting: [tickets] reopen_days
    (2, 15, False),
    (3, 0.01, False),  # 0: a reply always opens a new ticket, even minutes later
])
async def test_the_level_it_was_resolved_at_decides(settings_factory, db, level, days_ago, reopens):
    settings = settings_factory(levels=levels())
    ctx = await customer_reply(db, settings, level=level, resolved=timedelta(days=days_ago))
    assert ctx.new_ticket is not reopens
    assert ctx.linked_ticket_id == (None if reopens else ctx.old_id)


async def test_a_level_that_never_reopens_says_so_in_the_link(settings_factory, db):
    ctx = await customer_reply(db, settings_factory(levels=levels()), level=3, resolved=timedelta(minutes=5))
    assert ctx.link_why == "reply to a ticket resolved at level 3, where replies open new tickets"
    assert ctx.thread_reason.startswith(f"new ticket: HD-{ctx.old_id} was resolved (")


def test_reopen_days_for_level_falls_back_to_tickets(settings_factory):
    settings = settings_factory(levels=levels(), tickets={"reopen_days": 7})
    assert [settings.reopen_days_for_level(n) for n in range(5)] == [7, 30, 7, 0, 7]

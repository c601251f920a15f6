"""[sla] urgent_breach = "page": an urgent ticket that breaches stays at its level, whose people are paged once per breach."""
from __future__ import annotations

import email
from email import policy

from gateway.clock import FixedClock
from gateway.clock import utc as utc_
from gateway.store.models import Ticket
from tests.unit.schedule.helpers import ticket, utc
from tests.unit.schedule.test_sla_sweep import add, events, outbox, sweeper


async def test_urgent_breach_pages_its_level_once_per_breach(settings_factory, any_db):
    db = any_db
    settings = settings_factory(sla={"urgent_breach": "page"})
    clock = FixedClock(utc("2026-01-10 04:05"))  # Saturday: urgent runs around the clock, first response due 04:00
    [tid] = await add(db, ticket(settings, utc("2026-01-10 03:00"), priority="urgent", level=3,
                                 assignee="bob@example.com"))
    for _ in range(3):
        await sweeper(settings, db, clock).sweep()
    clock.at = utc("2026-01-10 05:30")  # resolution due 05:00: the second breach, paged once more
    for _ in range(3):
        await sweeper(settings, db, clock).sweep()
    assert await events(db, "escalated") == [] and await events(db, "escalation_blocked") == []
    paged = await events(db, "paged")
    assert [(e.data["level"], e.data["recipients"]) for e in paged] == [
        (3, ["sysadmins@example.com", "bob@example.com"])] * 2
    assert [e.data["target"] for e in await events(db, "sla_breach")] == ["first_response", "resolution"]
    rows = [r for r in await outbox(db) if r.template == "level/paged"]
    assert len(rows) == 4 and all(utc_(r.next_attempt_at) <= clock.at for r in rows)  # at once, Saturday
    mail = email.message_from_bytes(rows[0].raw, policy=policy.default)
    assert mail["Subject"].startswith(f"[HD-{tid}] PAGE: urgent ticket breached its SLA at level 3")
    assert "first response target missed" in mail.get_body(("plain",)).get_content()
    async with db.transaction() as session:
        assert (await session.get(Ticket, tid)).level == 3


async def test_other_priorities_still_escalate(settings_factory, db):
    settings = settings_factory(sla={"urgent_breach": "page"})
    clock = FixedClock(utc("2026-01-05 13:05"))  # a Monday medium ticket's first response was due 13:00
    await add(db, ticket(settings, utc("2026-01-05 09:00")))
    await sweeper(settings, db, clock).sweep()
    assert [(e.data["from"], e.data["to"]) for e in await events(db, "escalated")] == [(1, 2)]
    assert await events(db, "paged") == []


async def test_by_default_urgent_breaches_escalate(settings_factory, db):
    settings = settings_factory()
    await add(db, ticket(settings, utc("2026-01-10 03:00"), priority="urgent", level=3))
    await sweeper(settings, db, FixedClock(utc("2026-01-10 04:05"))).sweep()
    assert [(e.data["from"], e.data["to"]) for e in await events(db, "escalated")] == [(3, 4)]
    assert await events(db, "paged") == []

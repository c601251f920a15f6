"""The digest carries the /charts page's SLA table: tickets of the last 30 days that met their targets."""
from __future__ import annotations

import email
from email import policy

from sqlalchemy import select

from gateway.clock import FixedClock
from gateway.schedule.digest import run_digest
from gateway.schedule.sla import BREACH_RESOLUTION
from gateway.store.models import Outbox
from tests.unit.schedule.helpers import ticket, utc


async def test_the_digest_shows_sla_met_per_level_and_priority(settings_factory, db):
    settings = settings_factory(digest={"recipients": ["frontdesk@example.com"]})
    created = utc("2026-01-06 09:00")
    async with db.transaction() as session:
        session.add_all([
            ticket(settings, created, first_response_at=utc("2026-01-06 09:10")),  # in time so far
            ticket(settings, created, first_response_at=utc("2026-01-06 09:10"), sla_fired=BREACH_RESOLUTION),
            ticket(settings, created, first_response_at=utc("2026-01-06 09:10")),
            ticket(settings, created, first_response_at=utc("2026-01-06 09:10")),
            ticket(settings, created, priority="urgent", level=3),  # no answer after 25 hours: breached now
            ticket(settings, utc("2025-11-01 09:00"), priority="low"),  # outside the 30 days
        ])
    assert await run_digest(db, settings=settings, clock=FixedClock(utc("2026-01-07 10:00"))) == "2026-01-07"
    async with db.sessions() as session:
        raw = await session.scalar(select(Outbox.raw))
    mail = email.message_from_bytes(raw, policy=policy.default)
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "SLA met, tickets opened in the last 30 days, by level and priority:" in text
    assert "  level 1  medium     3 of 4     75 %  ###############....." in text
    assert "  level 3  urgent     0 of 1      0 %  ...................." in text
    assert "low" not in text.split("SLA met")[1]
    assert "3 of 4" in html and "75 %" in html and 'width="150"' in html

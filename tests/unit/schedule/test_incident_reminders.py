"""Open incidents in the digest (first, with age and last update) and the owner's reminder after a quiet day."""
from __future__ import annotations

import email
from email import policy

from sqlalchemy import select

from gateway.clock import FixedClock
from gateway.schedule.digest import run_digest
from gateway.store.models import Event, Outbox
from tests.conftest import outbox_mail
from tests.unit.schedule.helpers import ticket, utc


async def seed(settings, db) -> dict[str, int]:
    rows = {
        "quiet": ticket(settings, utc("2026-01-02 09:00"), subject="Mail down", priority="urgent", level=3,
                        incident_title="Mail server down", assignee="bob@example.com"),
        "fresh": ticket(settings, utc("2026-01-05 19:00"), subject="VPN down", priority="urgent", level=3,
                        incident_title="VPN down"),
        "over": ticket(settings, utc("2026-01-01 09:00"), subject="Old outage", incident_title="Old outage",
                       status="resolved", resolved_at=utc("2026-01-02 09:00"), sla_check_at=None),
        "plain": ticket(settings, utc("2026-01-05 09:00"), subject="Printer jammed"),
    }
    async with db.transaction() as session:
        session.add_all(rows.values())
        await session.flush()
        session.add_all([
            Event(ticket_id=rows["quiet"].id, kind="command_incident", actor="bob@example.com", at=utc("2026-01-02 10:00")),
            Event(ticket_id=rows["quiet"].id, kind="incident_update", actor="bob@example.com", at=utc("2026-01-05 06:00")),
            Event(ticket_id=rows["fresh"].id, kind="command_incident", actor="bob@example.com", at=utc("2026-01-05 20:00")),
        ])
    return {name: row.id for name, row in rows.items()}


async def reminders(db) -> list[tuple[int, str]]:
    async with db.transaction() as session:
        rows = (await session.scalars(select(Outbox).where(Outbox.template == "assignee/incident_reminder")
                                      .order_by(Outbox.id))).all()
        return [(r.ticket_id, r.recipient) for r in rows]


async def test_a_quiet_incident_reminds_its_owner_once_each_morning(settings_factory, any_db):
    db = any_db
    settings = settings_factory(digest={"recipients": ["frontdesk@example.com"]})
    ids = await seed(settings, db)
    clock = FixedClock(utc("2026-01-06 07:31"))  # Tuesday, after [digest] time: 25.5 h since the update
    for _ in range(3):
        await run_digest(db, settings=settings, clock=clock)
    assert await reminders(db) == [(ids["quiet"], "bob@example.com")]
    async with db.transaction() as session:
        raw = (await session.scalars(select(Outbox.raw).where(Outbox.template == "helpdesk/digest"))).one()
        mail = email.message_from_bytes(await outbox_mail(session, Outbox.template == "assignee/incident_reminder"),
                                        policy=policy.default)
    assert mail["Subject"] == f"[HD-{ids['quiet']}] Incident without an update for 25 hours: Mail server down"
    text = email.message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    assert text.index("Open incidents (oldest first) (2):") < text.index("New since the last digest")
    assert f"HD-{ids['quiet']}" in text and "Mail server down; open 3d 22h, last update 2026-01-05 06:00 UTC" in text
    assert "Old outage" not in text.split("New since")[0]  # resolved: not an open incident

    clock.at = utc("2026-01-07 07:31")  # another quiet day: the quiet one again, and now the fresh one (35.5 h)
    await run_digest(db, settings=settings, clock=clock)
    assert await reminders(db) == [(ids["quiet"], "bob@example.com"), (ids["quiet"], "bob@example.com"),
                                   (ids["fresh"], "sysadmins@example.com")]
    async with db.transaction() as session:
        kinds = (await session.scalars(select(Event.ticket_id).where(Event.kind == "incident_reminded"))).all()
    assert sorted(kinds) == sorted([ids["quiet"], ids["quiet"], ids["fresh"]])


async def test_an_update_within_the_day_means_no_reminder(settings_factory, db):
    settings = settings_factory(digest={"recipients": []})
    ids = await seed(settings, db)
    async with db.transaction() as session:
        session.add(Event(ticket_id=ids["quiet"], kind="incident_update", actor="bob@example.com",
                          at=utc("2026-01-06 07:00")))
    await run_digest(db, settings=settings, clock=FixedClock(utc("2026-01-06 07:31")))
    assert await reminders(db) == []

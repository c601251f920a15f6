"""The daily digest: its content, its time, and once per day across runs and instances."""
from __future__ import annotations

import email
import re
from email import policy

from sqlalchemy import select

from gateway.clock import FixedClock
from gateway.schedule.digest import run_digest
from gateway.store.models import Event, JobRun, Outbox
from tests.unit.schedule.helpers import ticket, utc


async def seed(settings, db) -> dict[str, int]:
    rows = {
        "fresh": ticket(settings, utc("2026-01-06 07:00"), subject="New VPN account"),
        "near": ticket(settings, utc("2026-01-05 09:00"), subject="Slow file share",
                       first_response_at=utc("2026-01-05 09:30")),   # resolution due Wed 16:00, warn Wed 09:30
        "late": ticket(settings, utc("2025-12-29 09:00"), subject="Broken badge reader", level=2,
                       first_response_at=utc("2025-12-29 10:00")),
        "stuck": ticket(settings, utc("2025-12-22 09:00"), subject="Old laptop", priority="low",
                        first_response_at=utc("2025-12-22 10:00"), stall_nudged_at=utc("2025-12-23 09:00")),
        "done": ticket(settings, utc("2026-01-05 07:00"), subject="Password reset", status="resolved",
                       resolved_at=utc("2026-01-05 11:00"), sla_check_at=None),
    }
    async with db.transaction() as session:
        session.add_all(rows.values())
        await session.flush()
        session.add(Event(ticket_id=rows["late"].id, kind="escalated", actor="sla", at=utc("2026-01-05 14:00"),
                          data={"from": 1, "to": 2, "reason": "resolution target missed"}))
        session.add(JobRun(job="digest", period="2026-01-05", at=utc("2026-01-05 07:30")))
    return {name: row.id for name, row in rows.items()}


async def test_digest_content_and_once_per_day(settings_factory, any_db):
    db = any_db  # the once-per-day claim is INSERT … ON CONFLICT DO NOTHING on both
    settings = settings_factory(digest={"recipients": ["frontdesk@example.com", "boss@example.com"]})
    ids = await seed(settings, db)
    clock = FixedClock(utc("2026-01-07 07:29"))  # Wednesday, a minute before [digest] time
    assert await run_digest(db, settings=settings, clock=clock) is None
    clock.at = utc("2026-01-07 10:00")
    assert await run_digest(db, settings=settings, clock=clock) == "2026-01-07"
    assert await run_digest(db, settings=settings, clock=clock) is None  # again, or from another instance
    async with db.transaction() as session:
        rows = (await session.scalars(select(Outbox).order_by(Outbox.id))).all()
    assert [r.recipient for r in rows] == ["frontdesk@example.com", "boss@example.com"]
    mail = email.message_from_bytes(rows[0].raw, policy=policy.default)
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    sections = {block.strip().split(" (")[0]: block for block in re.split(r"\n\s*\n", text)}
    assert f"HD-{ids['fresh']}" in sections["New since the last digest"]
    assert f"HD-{ids['done']}" not in sections["New since the last digest"]  # before the last digest
    assert f"HD-{ids['near']}  Slow file share" not in sections["Breached"]
    assert f"HD-{ids['near']}" in sections["Near breach"]
    assert f"HD-{ids['late']}" in sections["Breached"] and f"HD-{ids['stuck']}" in sections["Breached"]
    assert f"HD-{ids['late']}" in sections["Escalated since the last digest"]
    assert "Old laptop" in sections["Stalled"] and "idle 16d 1h" in sections["Stalled"]
    assert f"HD-{ids['done']}" in sections["Resolved since the last digest"]
    assert f"HD-{ids['fresh']}       New VPN account  [medium, level 1, due 2026-01-06 12:30 UTC]" in sections["Breached"]
    assert "level 1  medium   2" in text and "level 1  low      1" in text and "level 2  medium   1" in text
    assert "<table" in html and "Broken badge reader" in html
    assert mail["Subject"].endswith("4 open, 3 breached")


async def test_no_digest_on_a_weekend(settings_factory, db):
    settings = settings_factory()
    assert await run_digest(db, settings=settings, clock=FixedClock(utc("2026-01-10 09:00"))) is None

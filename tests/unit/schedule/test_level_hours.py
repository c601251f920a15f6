"""Levels with their own working hours: their tickets' clocks run on those hours."""
from __future__ import annotations

from datetime import UTC, datetime

from gateway.schedule.businesstime import BusinessCalendar
from gateway.schedule.sla import Sweeper, set_targets
from gateway.store.models import Ticket

SATURDAY_NOON = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def settings_with_weekend_level(settings_factory):
    levels = [{"number": 1, "name": "Front end", "recipients": ["front@example.com"]},
              {"number": 3, "name": "Sysadmins", "recipients": ["ops@example.com"],
               "hours": {"days": [0, 1, 2, 3, 4, 5, 6], "start": "07:00", "end": "19:00"}}]
    return settings_factory(levels=levels, business={"timezone": "UTC"})


def ticket_at(level: int) -> Ticket:
    return Ticket(id=1, subject="x", requester="c@example.org", category="bug", priority="medium", level=level,
                  status="open", reply_token="t", created_at=SATURDAY_NOON, updated_at=SATURDAY_NOON,
                  last_activity_at=SATURDAY_NOON, sla_fired=0)


def test_level_hours_lay_over_business(settings_factory):
    settings = settings_with_weekend_level(settings_factory)
    assert settings.business_for_level(1) == settings.business
    merged = settings.business_for_level(3)
    assert merged.days == (0, 1, 2, 3, 4, 5, 6) and merged.start == "07:00" and merged.timezone == "UTC"


def test_a_weekend_ticket_runs_on_its_levels_hours(settings_factory, db, clock):
    settings = settings_with_weekend_level(settings_factory)
    front, ops = ticket_at(1), ticket_at(3)
    for ticket in (front, ops):
        cal = BusinessCalendar.from_config(settings.business_for_level(ticket.level))
        set_targets(ticket, start=SATURDAY_NOON, settings=settings, cal=cal)
    # 4 business hours of first response: Monday 12:30 for the front end, Saturday 16:00 for sysadmins.
    assert ops.first_response_due == datetime(2026, 11, 21, 16, 0, tzinfo=UTC)
    assert front.first_response_due.weekday() == 0
    sweeper = Sweeper(settings=settings, db=db, clock=clock, notifier=None)
    assert sweeper.cal(ops).next_business_start(SATURDAY_NOON) == SATURDAY_NOON
    assert sweeper.cal(front).next_business_start(SATURDAY_NOON).weekday() == 0

"""Ticket rows for schedule tests, with SLA targets set as the pipeline sets them."""
from __future__ import annotations

from datetime import UTC, datetime

from gateway.mail.tokens import new_secret
from gateway.schedule import sla
from gateway.schedule.businesstime import BusinessCalendar
from gateway.store.models import Ticket


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ticket(settings, created: datetime, *, priority: str = "medium", level: int = 1, subject: str = "Printer down",
           **fields) -> Ticket:
    row = Ticket(subject=subject, requester="customer@client.example", requester_name="", category="bug",
                 priority=priority, level=level, status="open", reply_token=new_secret(), created_at=created,
                 updated_at=created, last_activity_at=created, sla_fired=0)
    sla.set_targets(row, start=created, settings=settings, cal=BusinessCalendar.from_config(settings.business))
    for name, value in fields.items():
        setattr(row, name, value)
    return row

"""Open incidents: when each was last updated, and the morning reminder to owners who let a day pass."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from gateway.clock import utc
from gateway.config import Settings
from gateway.schedule.escalate import level_or_assignee
from gateway.store.models import Event, Ticket

QUIET = timedelta(hours=24)  # an open incident with no update for this long reminds its owner
# The moments an incident's reporters last heard something: it was opened, or an update went out.
HEARD = ("command_incident", "incident_opened", "incident_update")


async def open_incidents(session) -> list[tuple[Ticket, datetime]]:
    """Every open incident with the time of its last update (or of its opening), oldest first."""
    last = (select(Event.ticket_id, func.max(Event.at).label("at")).where(Event.kind.in_(HEARD))
            .group_by(Event.ticket_id).subquery())
    rows = (await session.execute(
        select(Ticket, last.c.at).outerjoin(last, last.c.ticket_id == Ticket.id)
        .where(Ticket.incident_title.is_not(None), Ticket.status != "resolved").order_by(Ticket.id))).all()
    return [(ticket, utc(at) if at is not None else utc(ticket.created_at)) for ticket, at in rows]


async def remind_owners(session, *, settings: Settings, notifier, now: datetime) -> list[int]:
    """Remind the owner (assignee, else its level) of each open incident with no update for QUIET; the ids reminded.

    The caller runs this once per business morning (the digest's claimed run), so each is reminded once a day.
    """
    reminded = []
    for ticket, last in await open_incidents(session):
        if now - last < QUIET:
            continue
        quiet_hours = int((now - last).total_seconds() // 3600)
        await notifier.enqueue(session, ticket=ticket, template="assignee/incident_reminder",
                               recipients=level_or_assignee(ticket, settings), automatic=False,
                               context={"title": ticket.incident_title, "last_update": last, "hours": quiet_hours,
                                        "level": settings.level(ticket.level)})
        session.add(Event(ticket_id=ticket.id, kind="incident_reminded", actor="gateway", at=now,
                          data={"last_update": last.isoformat(), "hours": quiet_hours}))
        reminded.append(ticket.id)
    return reminded

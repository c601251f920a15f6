"""Escalation: move a ticket up the ladder of levels, record it, and tell the new level."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from gateway.config import Settings
from gateway.store.models import Event, Ticket


def next_level(settings: Settings, current: int) -> int | None:
    """The lowest level number above `current`, or None at the top of the ladder."""
    higher = [level.number for level in settings.levels if level.number > current]
    return min(higher) if higher else None


def level_or_assignee(ticket: Ticket, settings: Settings) -> list[str]:
    """Who is told about a ticket's clock: its assignee, else its level's recipients."""
    return [ticket.assignee] if ticket.assignee else list(settings.level(ticket.level).recipients)


async def escalate(session, *, ticket: Ticket, to_level: int | None, actor: str, now: datetime,
                   settings: Settings, notifier, reason: str, note: str = "",
                   send_after: datetime | None = None) -> int | None:
    """Move `ticket` to `to_level` (None: the next level up) and announce it; returns the new level.

    At the top of the ladder nothing moves: the event says so, the current level is told, None returned.
    send_after: hold the announcement in the outbox until then (the sweep: business hours, unless urgent).
    Raises ConfigError (via settings.level) when `to_level` is not a configured level.
    """
    old = ticket.level
    target = next_level(settings, old) if to_level is None else settings.level(to_level).number
    if target is None:
        session.add(Event(ticket_id=ticket.id, kind="escalation_blocked", actor=actor, at=now,
                          data={"level": old, "reason": reason, "why": "already at the top level"}))
        recipients = settings.level(old).recipients
        to_tell = settings.level(old)
    else:
        ticket.level, ticket.updated_at = target, now
        # An escalated ticket belongs to the new level until someone there takes it.
        ticket.assignee = None
        session.add(Event(ticket_id=ticket.id, kind="escalated", actor=actor, at=now,
                          data={"from": old, "to": target, "reason": reason}))
        to_tell = settings.level(target)
        recipients = to_tell.recipients
    await notifier.enqueue(session, ticket=ticket, template="level/escalated", recipients=recipients,
                           automatic=False, send_after=send_after,
                           context={"level": to_tell, "from_level": settings.level(old), "reason": reason,
                                    "note": note, "actor": actor, "moved": target is not None})
    if target is not None and settings.handoff.rules:  # e.g. "bugs at level 4 go to the developers' tracker"
        from gateway.handoff.queue import apply_rules

        await apply_rules(session, ticket=ticket, settings=settings, renderer=notifier.renderer, now=now)
    return target


def levels_to_tell(escalations: list[Event], *, since: int, current: int) -> list[int]:
    """Levels a ticket was escalated from below `current`, by escalations after event id `since`, lowest first."""
    return sorted({e.data["from"] for e in escalations if e.id > since and e.data.get("from", current) < current})


async def tell_completed(session, *, ticket: Ticket, actor: str, now: datetime, settings: Settings, notifier,
                         resolution: str, skip: frozenset[int] = frozenset()) -> list[int]:
    """Tell each lower level that escalated `ticket` that it was resolved above it; returns the levels due.

    Once per escalation: a level told at one resolution is told again only when it escalates the
    ticket again after that (a resolve, reopen, resolve cycle sends nothing new).
    skip: levels already told in this change (an incident's linked tickets): recorded, not mailed again.
    """
    events = (await session.scalars(select(Event).where(
        Event.ticket_id == ticket.id, Event.kind.in_(("escalated", "completion_told"))).order_by(Event.id))).all()
    told = [e.id for e in events if e.kind == "completion_told"]
    levels = [n for n in levels_to_tell([e for e in events if e.kind == "escalated"], since=max(told, default=0),
                                        current=ticket.level) if n in {lv.number for lv in settings.levels}]
    if not levels:
        return []
    resolved_at = settings.level(ticket.level)
    mailed = [n for n in levels if n not in skip]
    for number in mailed:
        level = settings.level(number)
        await notifier.enqueue(session, ticket=ticket, template="level/completed",
                               recipients=[r for r in level.recipients if r.lower() != actor.lower()],
                               automatic=False, context={"level": level, "resolved_level": resolved_at,
                                                         "resolution": resolution, "actor": actor})
    session.add(Event(ticket_id=ticket.id, kind="completion_told", actor=actor, at=now,
                      data={"levels": levels, "mailed": mailed, "resolved_at_level": ticket.level}))
    return levels

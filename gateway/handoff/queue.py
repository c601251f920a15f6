"""Queue a hand-off in the caller's transaction: one delivery row per ticket and tracker, with a fixed key."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from gateway.config_trackers import TrackerConfig
from gateway.store.models import Event, Message, Ticket, TrackerDelivery

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from gateway.config import Settings
    from gateway.notify.render import Renderer

TEXT_EXCERPT = 4000  # characters of the customer's first mail in the issue and the webhook's JSON


def new_key() -> str:
    """One word of letters and digits (trackers' searches split on punctuation), e.g. "gw3f9a…"."""
    return "gw" + secrets.token_hex(10)


async def delivery_for(session: AsyncSession, ticket_id: int, tracker: str) -> TrackerDelivery | None:
    return await session.scalar(select(TrackerDelivery).where(TrackerDelivery.ticket_id == ticket_id,
                                                              TrackerDelivery.tracker == tracker))


async def payload(session: AsyncSession, *, ticket: Ticket, settings: Settings, renderer: Renderer, actor: str,
                  key: str) -> dict:
    """What the tracker gets, fixed now: the webhook's JSON fields, and the issue's title and text."""
    ref = f"{settings.helpdesk.ticket_prefix}-{ticket.id}"
    first = await session.scalar(select(Message.text).where(Message.ticket_id == ticket.id, Message.direction == "in")
                                 .order_by(Message.id).limit(1))
    text = (first or "")[:TEXT_EXCERPT]
    links = {"ticket": f"{settings.web.public_url.rstrip('/')}/tickets/{ref}"} if settings.web.enabled else {}
    data = {"ticket": ref, "subject": ticket.subject, "category": ticket.category, "priority": ticket.priority,
            "level": ticket.level, "requester": ticket.requester, "text": text, "links": links,
            "handed_off_by": actor, "idempotency_key": key}
    rendered = renderer.render("tracker/issue", {**data, "ref": ref, "helpdesk": settings.helpdesk})
    return {**data, "title": rendered.subject, "body": rendered.text.strip()}


async def hand_off(session: AsyncSession, *, ticket: Ticket, tracker: TrackerConfig, actor: str, now: datetime,
                   settings: Settings, renderer: Renderer, why: str) -> TrackerDelivery | None:
    """Queue `ticket` for `tracker` and record it; None (nothing queued) when it was handed off there before."""
    if await delivery_for(session, ticket.id, tracker.name) is not None:
        return None
    key = new_key()
    row = TrackerDelivery(ticket_id=ticket.id, tracker=tracker.name, idempotency_key=key, actor=actor,
                          payload=await payload(session, ticket=ticket, settings=settings, renderer=renderer,
                                                actor=actor, key=key),
                          status="pending", attempts=0, next_attempt_at=now, created_at=now)
    session.add(row)
    session.add(Event(ticket_id=ticket.id, kind="handoff_queued", actor=actor, at=now,
                      data={"tracker": tracker.name, "kind": tracker.kind, "key": key, "why": why}))
    return row


async def apply_rules(session: AsyncSession, *, ticket: Ticket, settings: Settings, renderer: Renderer,
                      now: datetime) -> list[str]:
    """Hand `ticket` off by the first [[handoff.rules]] entry it matches, unless done before; the trackers queued."""
    for rule in settings.handoff.rules:
        if rule.matches(category=ticket.category, level=ticket.level, priority=ticket.priority):
            tracker = settings.tracker(rule.tracker)
            row = await hand_off(session, ticket=ticket, tracker=tracker, actor="gateway", now=now, settings=settings,
                                 renderer=renderer, why=f"rule {rule.name}")
            return [tracker.name] if row is not None else []
    return []

"""Read-side queries for the CLI: tickets, quarantine and stats, as plain dicts ready for JSON."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from gateway.errors import NotFound, UsageError
from gateway.store.counters import GROUPS
from gateway.store.models import (Counter, Event, FollowUp, Message, Outbox, QuarantineEntry, Suppression, Ticket,
                                   TrackerDelivery)


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def parse_ref(ref: str, prefix: str) -> int:
    """'HD-42', 'hd-42', '42' -> 42."""
    match = re.fullmatch(rf"(?:{re.escape(prefix)}-)?(\d+)", ref.strip(), re.IGNORECASE)
    if not match:
        raise UsageError(f"{ref!r} is not a ticket reference; use {prefix}-<number> or the number alone")
    return int(match.group(1))


def ticket_summary(ticket: Ticket, prefix: str) -> dict[str, Any]:
    return {
        "number": ticket.id, "ref": f"{prefix}-{ticket.id}", "subject": ticket.subject,
        "requester": ticket.requester, "category": ticket.category, "priority": ticket.priority,
        "level": ticket.level, "status": ticket.status, "assignee": ticket.assignee,
        "created_at": iso(ticket.created_at), "updated_at": iso(ticket.updated_at),
        "first_response_due": iso(ticket.first_response_due), "resolution_due": iso(ticket.resolution_due),
    }


async def list_tickets(session: AsyncSession, *, prefix: str, status: str | None = None, limit: int = 500,
                       before: int | None = None) -> dict[str, Any]:
    """One page of tickets, newest first: {"tickets": [summary, ...], "next_before": 17 or None}.

    next_before is the `before` of the next page; None when this page is the last.
    """
    query = select(Ticket).order_by(Ticket.id.desc()).limit(limit + 1)  # one more: is there a next page?
    if status:
        query = query.where(Ticket.status == status)
    if before is not None:
        query = query.where(Ticket.id < before)
    rows = (await session.scalars(query)).all()
    page = rows[:limit]
    return {"tickets": [ticket_summary(t, prefix) for t in page],
            "next_before": page[-1].id if len(rows) > limit else None}


async def show_ticket(session: AsyncSession, *, ref: str, prefix: str) -> dict[str, Any]:
    number = parse_ref(ref, prefix)
    ticket = await session.scalar(select(Ticket).where(Ticket.id == number)
                                  .options(selectinload(Ticket.messages).selectinload(Message.attachments)))
    if ticket is None:
        raise NotFound(f"ticket {prefix}-{number} does not exist; `gateway tickets list` shows the ones that do")
    events = (await session.scalars(select(Event).where(Event.ticket_id == number).order_by(Event.id))).all()
    detail = ticket_summary(ticket, prefix)
    detail["messages"] = [{
        "id": m.id, "direction": m.direction, "from": m.from_addr, "to": m.to_addrs, "subject": m.subject,
        "message_id": m.message_id, "date": iso(m.created_at), "thread_reason": m.thread_reason,
        "auto_reason": m.auto_reason, "text": m.new_text or m.text, "source": m.source,
        "html": m.html,  # sanitised when recorded
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size,
                         "sha256": a.sha256, "inline": a.inline} for a in m.attachments],
    } for m in ticket.messages]
    detail["events"] = [{"kind": e.kind, "actor": e.actor, "at": iso(e.at), "data": e.data} for e in events]
    detail["incident_title"] = ticket.incident_title  # set: this ticket is an incident
    detail["incident"] = f"{prefix}-{ticket.incident_id}" if ticket.incident_id else None  # the incident it is part of
    if ticket.incident_title is not None:
        detail["linked_tickets"] = [f"{prefix}-{n}" for n in (await session.scalars(
            select(Ticket.id).where(Ticket.incident_id == number).order_by(Ticket.id))).all()]
        detail["close_out"] = {  # for the final report (gateway report)
            "service": ticket.incident_service, "cause_category": ticket.cause_category, "cause": ticket.cause,
            "workaround": ticket.workaround, "followups": list((await session.scalars(
                select(FollowUp.text).where(FollowUp.ticket_id == number).order_by(FollowUp.id))).all())}
    detail["tracker_issue_url"] = ticket.tracker_issue_url
    detail["tracker_closed_at"] = iso(ticket.tracker_closed_at)
    detail["handoffs"] = [{"tracker": h.tracker, "status": h.status, "attempts": h.attempts, "issue_url": h.issue_url,
                           "issue_ref": h.issue_ref, "last_error": h.last_error, "key": h.idempotency_key}
                          for h in (await session.scalars(select(TrackerDelivery).where(
                              TrackerDelivery.ticket_id == number).order_by(TrackerDelivery.id))).all()]
    return detail


def quarantine_summary(entry: QuarantineEntry) -> dict[str, Any]:
    return {"id": entry.id, "reason": entry.reason, "source": entry.source, "status": entry.status,
            "sha256": entry.raw_sha256, "at": iso(entry.at), "ticket_id": entry.ticket_id,
            "envelope_from": entry.envelope_from, "recipients": entry.recipients or []}


async def list_quarantine(session: AsyncSession, *, status: str | None = "held") -> list[dict[str, Any]]:
    query = select(QuarantineEntry).order_by(QuarantineEntry.id)
    if status:
        query = query.where(QuarantineEntry.status == status)
    return [quarantine_summary(e) for e in (await session.scalars(query)).all()]


async def get_quarantine(session: AsyncSession, entry_id: int) -> QuarantineEntry:
    entry = await session.get(QuarantineEntry, entry_id)
    if entry is None:
        raise NotFound(f"quarantine entry {entry_id} does not exist; `gateway quarantine list` shows them")
    return entry


async def list_suppressions(session: AsyncSession, *, now) -> list[dict[str, Any]]:
    rows = await session.scalars(select(Suppression).where(Suppression.until > now).order_by(Suppression.address))
    return [{"address": s.address, "until": iso(s.until), "bounces": s.bounces, "ticket_id": s.ticket_id,
             "reason": s.reason, "at": iso(s.at)} for s in rows.all()]


async def lift_suppression(session: AsyncSession, address: str) -> None:
    held = await session.get(Suppression, address.strip().lower())
    if held is None:
        raise NotFound(f"{address} is not suppressed; `gateway suppressions list` shows who is")
    await session.delete(held)


async def stats(session: AsyncSession) -> dict[str, Any]:
    """Counts for `gateway stats --json`: totals, then {kind: count} groups (see store.counters.GROUPS)."""
    result: dict[str, Any] = {
        "tickets": await session.scalar(select(func.count()).select_from(Ticket)) or 0,
        "messages_in": await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "in")) or 0,
        "quarantined": await session.scalar(select(func.count()).select_from(QuarantineEntry).where(
            QuarantineEntry.status == "held")) or 0,
    }
    for status in ("pending", "sending", "sent", "failed"):
        result[f"outbox_{status}"] = await session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.status == status)) or 0
    for status, count in (await session.execute(
            select(Ticket.status, func.count()).group_by(Ticket.status))).all():
        result[f"tickets_{status}"] = count
    counters = dict((await session.execute(select(Counter.name, Counter.value))).all())
    for name in ("duplicates", "discarded", "loop_guarded", "held_back", "bounces_unmatched"):
        result[name] = counters.pop(name, 0)
    groups: dict[str, dict[str, int]] = {group: {} for group in GROUPS}
    for name, value in sorted(counters.items()):
        group, _, kind = name.partition(":")
        if group in groups and kind:
            groups[group][kind] = value
        else:
            result[name] = value
    result["rate_limited"] = groups["held_back_by_reason"].get("rate limited", 0)
    result["suppressed"] = groups["held_back_by_reason"].get("suppressed", 0)
    result["bounces"] = sum(groups["bounces_by_kind"].values())
    result.update(groups)
    return result

"""Figures about tickets for the board, the charts page, /metrics and the digest: SLA state, trends, compliance."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, or_, select

from gateway.clock import utc
from gateway.mail.commands import PRIORITIES
from gateway.schedule.sla import BREACH_FIRST, BREACH_RESOLUTION
from gateway.store.models import Ticket

OPEN_STATUSES = ("open", "pending")
DAYS = 30  # the window of the trends and of SLA compliance
AGE_BUCKETS = ((1, "< 1 day"), (3, "1–3 days"), (7, "3–7 days"), (14, "1–2 weeks"), (30, "2–4 weeks"),
               (None, "older"))
# Within a priority the board shows breached first, then warned, on time, and paused (waiting on the customer).
SLA_RANK = {"breached": 0, "warned": 1, "paused": 3}


def _sla_whens(now: datetime) -> list[tuple]:
    """(condition, state) in the order they are decided: a paused clock is paused whatever its dates."""
    first_open = Ticket.first_response_at.is_(None)
    return [
        (or_(Ticket.status == "pending", Ticket.paused_at.is_not(None)), "paused"),
        (or_(Ticket.resolution_due <= now, and_(first_open, Ticket.first_response_due <= now)), "breached"),
        (or_(Ticket.resolution_warn_at <= now, and_(first_open, Ticket.first_response_warn_at <= now)), "warned"),
    ]


def sla_state(now: datetime):
    """'paused', 'breached', 'warned' or 'on time' as SQL: the worst of the clocks still running.

    In SQL so the board reads one short string per ticket, not four due and warn times to convert.
    """
    return case(*_sla_whens(now), else_="on time")


def sla_rank(now: datetime):
    return case(*[(condition, SLA_RANK[state]) for condition, state in _sla_whens(now)], else_=2)


async def per_day(session, now: datetime) -> list[tuple[date, int, int]]:
    """(day, opened, resolved) for each of the last DAYS days (UTC), oldest first."""
    since = (now - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (await session.execute(select(Ticket.created_at, Ticket.resolved_at).where(
        or_(Ticket.created_at >= since, Ticket.resolved_at >= since)))).all()
    opened = Counter(utc(c).date() for c, _ in rows if utc(c) >= since)
    resolved = Counter(utc(r).date() for _, r in rows if r is not None and utc(r) >= since)
    days = [(since + timedelta(days=n)).date() for n in range(DAYS)]
    return [(day, opened[day], resolved[day]) for day in days]


async def backlog(session, now: datetime) -> list[tuple[str, int]]:
    """(age bucket, open and pending tickets of that age), youngest first."""
    ages = [(now - utc(c)).total_seconds() / 86400 for c in (await session.scalars(
        select(Ticket.created_at).where(Ticket.status.in_(OPEN_STATUSES)))).all()]
    counts, lower = [], 0
    for upper, label in AGE_BUCKETS:
        counts.append((label, sum(1 for a in ages if a >= lower and (upper is None or a < upper))))
        lower = upper or lower
    return counts


async def compliance(session, now: datetime, levels: list[int]) -> list[dict]:
    """Per level and priority, of the tickets opened in the last DAYS days: how many never breached a target.

    [{"level": 1, "priority": "medium", "tickets": 4, "met": 3, "share": 75}, …], levels and priorities in order.
    """
    # A breach the sweep saw is in sla_fired; an open ticket past due now counts too (the sweep may lag),
    # a resolved one does not: its clocks stopped when it was resolved.
    rows = (await session.execute(select(Ticket.level, Ticket.priority, Ticket.sla_fired, sla_state(now),
                                         Ticket.status).where(Ticket.created_at >= now - timedelta(days=DAYS)))).all()
    table = []
    for level in levels:
        for priority in PRIORITIES:
            mine = [r for r in rows if r[0] == level and r[1] == priority]
            if not mine:
                continue
            met = sum(1 for r in mine if not (r[2] or 0) & (BREACH_FIRST | BREACH_RESOLUTION)
                      and (r[4] == "resolved" or r[3] != "breached"))
            table.append({"level": level, "priority": priority, "tickets": len(mine), "met": met,
                          "share": round(100 * met / len(mine))})
    return table

"""Charts for people who would rather look than read: server-rendered SVG bars, no script, no library."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from starlette.requests import Request
from starlette.responses import Response

from gateway.clock import utc
from gateway.config_web import WebUser
from gateway.mail.commands import PRIORITIES
from gateway.schedule.sla import BREACH_FIRST, BREACH_RESOLUTION
from gateway.store.models import Ticket
from gateway.web.board_query import OPEN_STATUSES, sla_state
from gateway.web.deps import Deps, staff

DAYS = 30
AGE_BUCKETS = ((1, "< 1 day"), (3, "1–3 days"), (7, "3–7 days"), (14, "1–2 weeks"), (30, "2–4 weeks"),
               (None, "older"))


@dataclass(frozen=True)
class Bar:
    label: str
    values: tuple[int, ...]  # one per series


def scale(bars: list[Bar], height: int = 120) -> dict:
    """Geometry for a grouped bar chart: each value's height in pixels against the tallest one."""
    top = max((v for bar in bars for v in bar.values), default=0) or 1
    return {"bars": bars, "top": top, "height": height,
            "px": [[round(v * height / top) for v in bar.values] for bar in bars]}


async def per_day(session, now: datetime) -> list[Bar]:
    """Tickets opened and resolved on each of the last DAYS days (UTC)."""
    since = (now - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (await session.execute(select(Ticket.created_at, Ticket.resolved_at).where(
        or_(Ticket.created_at >= since, Ticket.resolved_at >= since)))).all()
    opened = Counter(utc(c).date() for c, _ in rows if utc(c) >= since)
    resolved = Counter(utc(r).date() for _, r in rows if r is not None and utc(r) >= since)
    days = [(since + timedelta(days=n)).date() for n in range(DAYS)]
    return [Bar(f"{day:%d %b}", (opened[day], resolved[day])) for day in days]


async def backlog(session, now: datetime) -> list[Bar]:
    """Open and pending tickets by age."""
    ages = [(now - utc(c)).total_seconds() / 86400 for c in (await session.scalars(
        select(Ticket.created_at).where(Ticket.status.in_(OPEN_STATUSES)))).all()]
    counts, lower = [], 0
    for upper, label in AGE_BUCKETS:
        counts.append(Bar(label, (sum(1 for a in ages if a >= lower and (upper is None or a < upper)),)))
        lower = upper or lower
    return counts


async def compliance(session, now: datetime, levels: list[int]) -> list[dict]:
    """Per level and priority, of the tickets opened in the last DAYS days: how many never breached a target."""
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


@staff
async def charts_page(request: Request, d: Deps, user: WebUser) -> Response:
    now = d.clock.now()
    async with d.db.sessions() as session:
        days = await per_day(session, now)
        ages = await backlog(session, now)
        sla = await compliance(session, now, [level.number for level in d.settings.levels])
    return d.render(request, "charts.html.j2", {"days": scale(days), "ages": scale(ages), "sla": sla,
                                                "window": DAYS})

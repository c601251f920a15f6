"""The board's data: open and pending tickets by priority and level, filtered, with SLA state and age."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.clock import utc
from gateway.mail.commands import CATEGORIES, PRIORITIES
from gateway.reports import OPEN_STATUSES, sla_rank, sla_state
from gateway.store.models import Ticket

PRIORITY_RANK = case({p: i for i, p in enumerate(PRIORITIES)}, value=Ticket.priority, else_=len(PRIORITIES))
COLUMNS = (Ticket.id, Ticket.subject, Ticket.requester, Ticket.category, Ticket.priority, Ticket.level,
           Ticket.status, Ticket.assignee, Ticket.created_at)


@dataclass(frozen=True)
class Filters:
    """What the board shows; every field comes from the query string and is checked here."""

    level: int | None = None
    category: str = ""
    priority: str = ""
    assignee: str = ""
    status: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, params, prefix: str) -> "Filters":
        level = params.get("level", "")
        return cls(level=int(level) if level.isdigit() and len(level) < 6 else None,
                   category=_one_of(params.get("category", ""), CATEGORIES),
                   priority=_one_of(params.get("priority", ""), PRIORITIES),
                   assignee=params.get("assignee", "").strip()[:320],
                   status=_one_of(params.get("status", ""), OPEN_STATUSES),
                   q=params.get("q", "").strip()[:200])


def _one_of(value: str, allowed) -> str:
    return value if value in allowed else ""


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally."""
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def where(filters: Filters, prefix: str) -> list:
    conditions = [Ticket.status.in_([filters.status] if filters.status else OPEN_STATUSES)]
    if filters.level is not None:
        conditions.append(Ticket.level == filters.level)
    for column, value in ((Ticket.category, filters.category), (Ticket.priority, filters.priority)):
        if value:
            conditions.append(column == value)
    if filters.assignee == "-":
        conditions.append(Ticket.assignee.is_(None))
    elif filters.assignee:
        conditions.append(func.lower(Ticket.assignee) == filters.assignee.lower())
    if filters.q:
        ref = re.fullmatch(rf"(?:{re.escape(prefix)}-)?(\d{{1,18}})", filters.q, re.IGNORECASE)
        pattern = _like(filters.q)
        matches = [func.lower(Ticket.subject).like(pattern, escape="\\"),
                   func.lower(Ticket.requester).like(pattern, escape="\\")]
        if ref:
            matches.append(Ticket.id == int(ref.group(1)))
        conditions.append(or_(*matches))
    return conditions


def age(since: datetime, now: datetime) -> str:
    """'3d 4h', '5h 12m', '7m'."""
    minutes = max(0, int((now - utc(since)).total_seconds() // 60))
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins}m" if hours else f"{mins}m"


async def board(session: AsyncSession, filters: Filters, *, prefix: str, now: datetime, limit: int) -> dict:
    """{"rows": [...], "total": n, "shown": m, "matrix": {(level, priority): count}} for the board."""
    conditions = where(filters, prefix)
    rows = (await session.execute(
        select(*COLUMNS, sla_state(now).label("sla")).where(*conditions)
        .order_by(PRIORITY_RANK, sla_rank(now), Ticket.level.desc(), Ticket.created_at, Ticket.id).limit(limit)
    )).all()
    counts = (await session.execute(
        select(Ticket.level, Ticket.priority, func.count()).where(*conditions).group_by(Ticket.level, Ticket.priority)
    )).all()
    matrix = {(level, priority): n for level, priority, n in counts}
    return {
        "rows": [{"ref": f"{prefix}-{r.id}", "id": r.id, "subject": r.subject, "requester": r.requester,
                  "category": r.category, "priority": r.priority, "level": r.level, "status": r.status,
                  "assignee": r.assignee or "", "sla": r.sla, "age": age(r.created_at, now)}
                 for r in rows],
        "total": sum(matrix.values()), "shown": len(rows), "matrix": matrix,
        "levels": sorted({level for level, _ in matrix}), "priorities": PRIORITIES,
        "level_totals": {lv: sum(n for (level, _), n in matrix.items() if level == lv) for lv, _ in matrix},
    }

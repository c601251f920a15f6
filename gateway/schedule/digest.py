"""The daily digest: what changed and what needs attention, mailed once per working day."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from gateway.clock import Clock, utc
from gateway.config import Settings
from gateway.mail.compose import make_message_id, message_bytes
from gateway.notify.outbox import Notifier
from gateway.notify.render import Renderer
from gateway.reports import DAYS, compliance
from gateway.schedule.businesstime import BusinessCalendar, parse_hhmm
from gateway.schedule.incident_reminders import open_incidents, remind_owners
from gateway.store.db import Database, insert_ignoring_conflicts
from gateway.store.models import Event, JobRun, Outbox, Ticket

JOB = "digest"
LIMIT = 200  # rows per section; a longer list ends with "and N more" (counts are always exact)
OPEN = ("open", "pending")


@dataclass
class Section:
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.rows))


def _row(ticket: Ticket, prefix: str, now: datetime, **extra) -> dict[str, Any]:
    return {"ref": f"{prefix}-{ticket.id}", "subject": ticket.subject, "priority": ticket.priority,
            "level": ticket.level, "status": ticket.status, "due": "", "age": "", "note": "", **extra}


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h {int(delta.total_seconds() // 60) % 60}m"


async def _section(session, title: str, query, count_query, shape) -> Section:
    rows = (await session.scalars(query.limit(LIMIT))).all()
    return Section(title=title, rows=[shape(t) for t in rows], total=await session.scalar(count_query))


async def build_digest(session, *, settings: Settings, now: datetime, since: datetime) -> dict[str, Any]:
    """The digest's data: {"since", "now", "open_by": [(level, priority, n)], "sections": [Section],
    "sla_met": reports.compliance rows (the web's /charts table)}."""
    prefix, t = settings.helpdesk.ticket_prefix, Ticket
    fr_open = t.first_response_at.is_(None)
    near = and_(t.status == "open", or_(and_(fr_open, t.first_response_warn_at <= now, t.first_response_due > now),
                                        and_(t.resolution_warn_at <= now, t.resolution_due > now)))
    breached = and_(t.status == "open", or_(and_(fr_open, t.first_response_due <= now), t.resolution_due <= now))
    stalled = and_(t.status == "open", t.stall_nudged_at >= t.last_activity_at)
    escalated_ids = select(Event.ticket_id).where(Event.kind == "escalated", Event.at >= since).distinct()

    def due(x: Ticket) -> dict:
        # The target at stake: the first response while nobody has answered, else the resolution.
        when = x.first_response_due if x.first_response_at is None and x.first_response_due else x.resolution_due
        return _row(x, prefix, now, due=utc(when).strftime("%Y-%m-%d %H:%M") if when else "")

    def count(where) -> Any:
        return select(func.count()).select_from(t).where(where)

    incidents = await open_incidents(session)
    sections = [
        # First: during an outage, the incidents and how long their reporters have waited for news.
        Section(title="Open incidents (oldest first)", total=len(incidents), rows=[
            _row(x, prefix, now, note=f"{x.incident_title}; open {_age(now - utc(x.created_at))}, "
                                      f"last update {last:%Y-%m-%d %H:%M} UTC") for x, last in incidents[:LIMIT]]),
        await _section(session, "New since the last digest", select(t).where(t.created_at >= since).order_by(t.id),
                       count(t.created_at >= since), lambda x: _row(x, prefix, now)),
        await _section(session, "Near breach", select(t).where(near).order_by(t.resolution_due), count(near), due),
        await _section(session, "Breached", select(t).where(breached).order_by(t.resolution_due), count(breached), due),
        await _section(session, "Escalated since the last digest", select(t).where(t.id.in_(escalated_ids))
                       .order_by(t.id), count(t.id.in_(escalated_ids)), lambda x: _row(x, prefix, now)),
        await _section(session, "Stalled (oldest first)", select(t).where(stalled).order_by(t.last_activity_at),
                       count(stalled), lambda x: _row(x, prefix, now, age=_age(now - utc(x.last_activity_at)))),
        await _section(session, "Resolved since the last digest", select(t).where(t.resolved_at >= since)
                       .order_by(t.resolved_at), count(t.resolved_at >= since), lambda x: _row(x, prefix, now)),
    ]
    open_by = (await session.execute(select(t.level, t.priority, func.count()).where(t.status.in_(OPEN))
                                     .group_by(t.level, t.priority).order_by(t.level, t.priority))).all()
    sla_met = await compliance(session, now, [level.number for level in settings.levels])
    return {"since": since, "now": now, "open_by": [tuple(r) for r in open_by],
            "open_total": sum(r[2] for r in open_by), "sections": sections, "sla_met": sla_met, "sla_days": DAYS}


def due_period(settings: Settings, cal: BusinessCalendar, now: datetime) -> str | None:
    """The local date the digest is due for at `now` ("2026-01-05"), or None before its time / off days."""
    local = now.astimezone(cal.zone)
    if not cal.is_business_day(local.date()) or local.time() < parse_hhmm(settings.digest.time):
        return None
    return local.date().isoformat()


async def run_digest(db: Database, *, settings: Settings, clock: Clock, renderer: Renderer | None = None) -> str | None:
    """Queue today's digest unless already done (by this or another instance); returns the period sent."""
    now = clock.now()
    cal = BusinessCalendar.from_config(settings.business)
    period = due_period(settings, cal, now)
    if period is None:
        return None
    async with db.transaction() as session:
        last = await session.scalar(select(func.max(JobRun.at)).where(JobRun.job == JOB))
        claimed = await session.execute(insert_ignoring_conflicts(session, JobRun)
                                        .values(job=JOB, period=period, at=now))
        if claimed.rowcount != 1:
            return None  # the unique (job, period) row says: already sent
        since = utc(last) if last is not None else now - timedelta(days=1)
        # The digest's once-a-working-day claim is also the incident owners' morning reminder.
        await remind_owners(session, settings=settings, now=now,
                            notifier=Notifier(settings=settings, clock=clock, renderer=renderer or Renderer()))
        data = await build_digest(session, settings=settings, now=now, since=since)
        rendered = (renderer or Renderer()).render("helpdesk/digest", {**data, "helpdesk": settings.helpdesk,
                                                                       "period": period, "ref": f"digest {period}"})
        for recipient in settings.digest.recipients:
            message_id = make_message_id(settings.message_id_domain)
            raw = message_bytes(from_name=settings.helpdesk.name, from_address=settings.outbound.from_address,
                                to=recipient, subject=rendered.subject, text=rendered.text, html=rendered.html,
                                message_id=message_id, date=now, in_reply_to=None, references=(),
                                reply_to=settings.smtp.addresses[0], auto_submitted="auto-generated",
                                loop_address=settings.smtp.addresses[0])
            session.add(Outbox(ticket_id=None, template="helpdesk/digest", recipient=recipient,
                               envelope_from=settings.outbound.from_address, automatic=False, message_id=message_id,
                               raw=raw, status="pending", attempts=0, next_attempt_at=now, created_at=now))
    return period

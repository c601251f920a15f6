"""An incident's final report: its timeline from the ticket's events, the people, the SLA, the close-out."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from gateway import incidents
from gateway.clock import utc
from gateway.errors import NotFound
from gateway.schedule.targets import AROUND_THE_CLOCK
from gateway.store.models import Event, FollowUp, Ticket
from gateway.store.repo import parse_ref

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from gateway.config import Settings
    from gateway.notify.render import Renderer

# Event kinds of the incident's own ticket that make a line of the timeline, with the words for them.
MOMENTS = {"incident_opened": "declared an incident", "command_incident": "declared an incident",
           "escalated": "escalated", "sla_breach": "SLA target missed", "paged": "level paged",
           "incident_update": "update sent", "incident_reminded": "owner reminded (no update for 24 hours)",
           "command_reopen": "reopened", "reopened": "reopened",
           "handed_off": "handed off to the developers' tracker", "handoff_failed": "hand-off to the tracker failed",
           "tracker_closed": "the tracker closed its issue"}


@dataclass(frozen=True)
class Moment:
    """One line of the timeline: when, what, who, and a short detail ('' when none)."""

    at: datetime
    what: str
    actor: str
    detail: str = ""


@dataclass(frozen=True)
class Target:
    """How long something took against its SLA target: took None while it has not happened."""

    name: str  # "acknowledge" | "resolve"
    took: timedelta | None
    hours: float  # the promise, in business hours (clock hours for around-the-clock priorities)
    business: bool
    due: datetime | None
    met: bool | None  # None: not happened yet, or no due time was set

    @property
    def took_text(self) -> str:
        return "not yet" if self.took is None else duration(self.took)

    @property
    def target_text(self) -> str:
        return f"{self.hours:g} {'business ' if self.business else ''}hour{'' if self.hours == 1 else 's'}"

    @property
    def verdict(self) -> str:
        return {True: "met", False: "missed", None: "open"}[self.met]


@dataclass(frozen=True)
class Report:
    ref: str
    title: str
    service: str | None
    status: str
    priority: str
    opened_at: datetime
    resolved_at: datetime | None
    resolution: str
    timeline: list[Moment]
    engineers: list[str]
    reporters: int
    tickets: int  # the incident and the tickets linked to it
    recipients: list[str]
    acknowledge: Target
    resolve: Target
    cause_category: str | None
    cause: str | None
    workaround: str | None
    followups: list[str]


def duration(span: timedelta) -> str:
    """'2 d 3 h 05 min', '1 h 00 min', '12 min' (whole minutes, rounded down)."""
    minutes = max(int(span.total_seconds()) // 60, 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if not days and not hours:
        return f"{minutes} min"
    return (f"{days} d " if days else "") + f"{hours} h {minutes:02d} min"


def target(name: str, start: datetime, done: datetime | None, due: datetime | None, hours: float,
           business: bool) -> Target:
    met = None if done is None or due is None else utc(done) <= utc(due)
    return Target(name=name, took=None if done is None else utc(done) - utc(start), hours=hours,
                  business=business, due=None if due is None else utc(due), met=met)


def moment(event: Event) -> Moment | None:
    """The timeline line for one of the incident's events, or None for the events a report leaves out."""
    data = event.data or {}
    what = MOMENTS.get(event.kind)
    if what is None:
        return None
    detail = ""
    if event.kind == "escalated":
        detail = f"level {data.get('from')} → {data.get('to')}: {data.get('reason', '')}".rstrip(": ")
    elif event.kind == "incident_update":
        detail = str(data.get("text", ""))
    elif event.kind in ("handed_off", "tracker_closed"):
        detail = str(data.get("issue_url") or data.get("tracker") or "")
    elif event.kind == "handoff_failed":
        detail = f"{data.get('tracker', '')}: {data.get('error', '')}"
    elif event.kind == "sla_breach":
        detail = str(data.get("target") or data.get("kind") or "")
    return Moment(utc(event.at), what, event.actor, brief(detail))


def brief(text: str, limit: int = 300) -> str:
    """`text` on one line, cut at `limit` characters: a timeline line, not the whole mail."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def build(incident: Ticket, events: list[Event], linked: list[Ticket], followups: list[str],
          recipients: list[str], settings: Settings) -> Report:
    """The report of `incident` from its events (any order), its linked tickets and its close-out; pure."""
    prefix = settings.helpdesk.ticket_prefix
    ordered = sorted(events, key=lambda e: (utc(e.at), e.id or 0))
    opened = utc(incident.created_at)
    timeline = [Moment(opened, "detected: first mail", incident.requester, brief(incident.subject))]
    if incident.first_response_at is not None:
        timeline.append(Moment(utc(incident.first_response_at), "acknowledged: first answer to the reporter",
                               first_actor(ordered, utc(incident.first_response_at))))
    own = [e for e in ordered if e.ticket_id == incident.id]
    timeline += [m for m in map(moment, own) if m is not None]
    resolution = ""
    if incident.resolved_at is not None:
        resolves = [e for e in own if e.kind == "command_resolve"]
        resolution = str(resolves[-1].data.get("arg", "")) if resolves else ""
        timeline.append(Moment(utc(incident.resolved_at), "resolved", resolves[-1].actor if resolves else "",
                               brief(resolution)))
    timeline.sort(key=lambda m: m.at)  # stable: the detection stays first at equal times
    promise, business = settings.sla.target(incident.priority), incident.priority not in AROUND_THE_CLOCK
    everyone = [incident, *linked]
    return Report(
        ref=f"{prefix}-{incident.id}", title=incident.incident_title or incident.subject,
        service=incident.incident_service, status=incident.status, priority=incident.priority,
        opened_at=opened, resolved_at=None if incident.resolved_at is None else utc(incident.resolved_at),
        resolution=resolution, timeline=timeline, engineers=engineers(ordered, settings),
        reporters=len({t.requester.lower() for t in everyone}), tickets=len(everyone), recipients=recipients,
        acknowledge=target("acknowledge", opened, incident.first_response_at, incident.first_response_due,
                           promise.first_response_hours, business),
        resolve=target("resolve", opened, incident.resolved_at, incident.resolution_due,
                       promise.resolution_hours, business),
        cause_category=incident.cause_category, cause=incident.cause, workaround=incident.workaround,
        followups=followups)


def first_actor(events: list[Event], at: datetime) -> str:
    """Who sent the first answer at `at`: the actor of an event then that told the reporter."""
    for e in events:
        if utc(e.at) == at and e.kind in ("customer_told", "incident_update"):
            return e.actor
    return ""


def engineers(events: list[Event], settings: Settings) -> list[str]:
    """Everyone who acted on the incident or its linked tickets by command or from the web page, sorted."""
    staff = settings.engineers
    return sorted({e.actor.lower() for e in events
                   if e.kind.startswith("command_") or (e.actor.lower() in staff and e.kind != "message_in")})


async def load(session: AsyncSession, ref: str, settings: Settings) -> Report:
    """The final report of incident `ref` ('HD-42' or '42').

    Raises UsageError for a malformed reference, NotFound for a missing ticket or one that is not an incident.
    """
    prefix = settings.helpdesk.ticket_prefix
    number = parse_ref(ref, prefix)
    incident = await session.get(Ticket, number)
    if incident is None:
        raise NotFound(f"ticket {prefix}-{number} does not exist; `gateway tickets list` shows the ones that do")
    if incident.incident_title is None:
        hint = (f"it is part of incident {prefix}-{incident.incident_id}: run `gateway report {prefix}-"
                f"{incident.incident_id}`" if incident.incident_id else "make it one with /incident [title]")
        raise NotFound(f"{prefix}-{number} is not an incident, so it has no final report; {hint}")
    return await for_incident(session, incident, settings, await incidents.listed(session, settings, incident.id))


async def for_incident(session: AsyncSession, incident: Ticket, settings: Settings, recipients: list[str]) -> Report:
    """The report of `incident` as the session sees it now (pending changes of this transaction included)."""
    linked = list((await session.scalars(select(Ticket).where(Ticket.incident_id == incident.id)
                                         .order_by(Ticket.id))).all())
    ids = [incident.id, *(t.id for t in linked)]
    events = list((await session.scalars(select(Event).where(Event.ticket_id.in_(ids)).order_by(Event.id))).all())
    followups = list((await session.scalars(select(FollowUp.text).where(FollowUp.ticket_id == incident.id)
                                            .order_by(FollowUp.id))).all())
    return build(incident, events, linked, followups, recipients, settings)



def render(report: Report, fmt: str, renderer: Renderer, settings: Settings) -> bytes:
    """The report as `fmt` (md, html or pdf), from the templates in templates/report/."""
    context = {"report": report, "helpdesk": settings.helpdesk, "ref": report.ref}
    if fmt == "html":
        return renderer.render_file("report/incident_page.html.j2", context).encode()
    markdown = renderer.render_file("report/incident.md.j2", context)
    if fmt == "pdf":
        from gateway.report_pdf import pdf_bytes  # fpdf2 is imported only for a PDF

        return pdf_bytes(markdown, title=f"{report.ref} final report: {report.title}")
    return markdown.encode()

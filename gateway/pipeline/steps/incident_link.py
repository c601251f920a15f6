"""Step: a new ticket much like a recent ticket of an open incident joins it (or the announcement suggests it)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from gateway.clock import utc
from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step
from gateway.store.models import Event, Ticket


@dataclass(frozen=True)
class IncidentMatch:
    """The open incident a new ticket looks like a part of, through which similar ticket, and how sure."""

    incident_id: int
    title: str
    via: int  # the similar ticket (the incident itself, or one of its linked tickets)
    score: float
    words: tuple[str, ...]
    linked: bool  # True: linked automatically; False: only suggested

    def as_dict(self, prefix: str) -> dict:
        return {"ref": f"{prefix}-{self.incident_id}", "title": self.title, "via": f"{prefix}-{self.via}",
                "score": f"{self.score:.2f}", "words": ", ".join(self.words), "linked": self.linked, "opened": False}


def announced(ctx: MailContext) -> dict | None:
    """What the level's announcement says of incidents: the match, or that this ticket opened one."""
    prefix = ctx.settings.helpdesk.ticket_prefix
    if ctx.incident is not None:
        return ctx.incident.as_dict(prefix)
    if ctx.new_ticket and ctx.ticket is not None and ctx.ticket.incident_title is not None:
        return {"ref": f"{prefix}-{ctx.ticket.id}", "title": ctx.ticket.incident_title, "opened": True}
    return None


async def best_match(ctx: MailContext) -> IncidentMatch | None:
    """The best of ctx.similar that belongs to an open incident and was opened within the window."""
    if not ctx.similar:
        return None
    config, since = ctx.settings.incidents, ctx.now - timedelta(hours=ctx.settings.incidents.window_hours)
    rows = {t.id: t for t in (await ctx.session.scalars(
        select(Ticket).where(Ticket.id.in_([s.ticket_id for s in ctx.similar])))).all()}
    for found in ctx.similar:  # best first
        ticket = rows.get(found.ticket_id)
        if ticket is None or utc(ticket.created_at) < since:
            continue
        incident = ticket if ticket.incident_title is not None else (
            await ctx.session.get(Ticket, ticket.incident_id) if ticket.incident_id else None)
        if incident is None or incident.status == "resolved":
            continue
        sure = config.link_at > 0 and found.score >= config.link_at
        return IncidentMatch(incident.id, incident.incident_title or "", ticket.id, found.score, found.words, sure)
    return None


@step
class IncidentLink:
    name = "incident_link"
    description = "Link a new ticket to the open incident its most similar recent ticket belongs to, when sure."

    async def run(self, ctx: MailContext) -> None:
        if not ctx.new_ticket or ctx.history or ctx.ticket is None:
            return
        ctx.incident = match = await best_match(ctx)
        if match is None and ctx.priority == "urgent" and ctx.settings.incidents.open_for_urgent:
            ctx.ticket.incident_title = ctx.ticket.subject[:200]
            ctx.session.add(Event(ticket_id=ctx.ticket.id, kind="incident_opened", actor="gateway", at=ctx.now,
                                  data={"why": "an urgent ticket that joined no open incident "
                                               "([incidents] open_for_urgent)"}))
            return
        if match is None or not match.linked:
            return
        prefix = ctx.settings.helpdesk.ticket_prefix
        ctx.ticket.incident_id = match.incident_id
        why = f"similar to {prefix}-{match.via} ({match.score:.2f}: {', '.join(match.words)})"
        ctx.session.add_all([
            Event(ticket_id=match.incident_id, kind="incident_linked", actor="gateway", at=ctx.now,
                  data={"ticket": ctx.ticket.id, "why": why}),
            Event(ticket_id=ctx.ticket.id, kind="linked_to_incident", actor="gateway", at=ctx.now,
                  data={"incident": match.incident_id, "why": why}),
        ])

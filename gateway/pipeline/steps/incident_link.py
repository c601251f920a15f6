"""Step: a new ticket naming an open incident's service, or much like a recent ticket of one, joins it (or the
announcement suggests it)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, func, select

from gateway.clock import utc
from gateway.incident_services import Named, named
from gateway.pipeline.context import MailContext, Preparation
from gateway.pipeline.registry import prepared, step
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
    service: str | None = None  # set: joined because the mail names the incident's service (words: the word)

    def as_dict(self, prefix: str) -> dict:
        return {"ref": f"{prefix}-{self.incident_id}", "title": self.title, "via": f"{prefix}-{self.via}",
                "score": f"{self.score:.2f}", "words": ", ".join(self.words), "linked": self.linked, "opened": False,
                "service": self.service}


def announced(ctx: MailContext) -> dict | None:
    """What the level's announcement says of incidents: the match, or that this ticket opened one."""
    prefix = ctx.settings.helpdesk.ticket_prefix
    if ctx.incident is not None:
        return ctx.incident.as_dict(prefix)
    if ctx.new_ticket and ctx.ticket is not None and ctx.ticket.incident_title is not None:
        return {"ref": f"{prefix}-{ctx.ticket.id}", "title": ctx.ticket.incident_title, "opened": True}
    return None


async def service_match(ctx: MailContext, services: list[Named]) -> IncidentMatch | None:
    """The newest open incident of a service the mail names whose newest ticket is within the window."""
    if not services:
        return None
    since = ctx.now - timedelta(hours=ctx.settings.incidents.window_hours)
    word = {n.service: n.word for n in services}
    incidents = (await ctx.session.scalars(select(Ticket).where(
        Ticket.incident_title.is_not(None), Ticket.status != "resolved", Ticket.id != ctx.ticket.id,
        Ticket.incident_service.in_(list(word))).order_by(Ticket.id.desc()))).all()
    for incident in incidents:
        newest = await ctx.session.scalar(select(func.max(Ticket.created_at)).where(
            (Ticket.id == incident.id) | (Ticket.incident_id == incident.id), Ticket.id != ctx.ticket.id))
        if newest is not None and utc(newest) >= since:
            return IncidentMatch(incident.id, incident.incident_title or "", incident.id, 1.0,
                                 (word[incident.incident_service],), True, incident.incident_service)
    return None


async def of_another_service(ctx: MailContext, match: IncidentMatch, services: list[Named]) -> bool:
    """Whether the similar incident is of a service other than the ones the mail names (two outages at once)."""
    if not services:
        return False
    theirs = (await ctx.session.get(Ticket, match.incident_id)).incident_service
    return theirs is not None and theirs not in {n.service for n in services}


# Built once, and only the columns best_match reads: whole Ticket rows (some forty columns) for the up to
# similar_max tickets compared cost more than the query, once per new ticket.
_T = Ticket.__table__
_CANDIDATES = select(_T.c.id, _T.c.created_at, _T.c.incident_title, _T.c.incident_id, _T.c.status).where(
    _T.c.id.in_(bindparam("ids", expanding=True)))


async def best_match(ctx: MailContext) -> IncidentMatch | None:
    """The best of ctx.similar that belongs to an open incident and was opened within the window."""
    if not ctx.similar:
        return None
    config, since = ctx.settings.incidents, ctx.now - timedelta(hours=ctx.settings.incidents.window_hours)
    rows = {row.id: row for row in (await ctx.session.execute(
        _CANDIDATES, {"ids": [s.ticket_id for s in ctx.similar]})).all()}
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
    description = ("Link a new ticket to the open incident of a service it names, else of its most similar "
                   "recent ticket when sure; open one for urgent mail when configured.")

    def prepare(self, prep: Preparation) -> list[Named]:
        # The configured services this mail names: pattern work on its text, off the event loop.
        return named(prep.settings.incidents.services, prep.mail.subject or "", prep.mail.text or "")

    async def run(self, ctx: MailContext) -> None:
        if not ctx.new_ticket or ctx.history or ctx.ticket is None:
            return
        config = ctx.settings.incidents
        services = prepared(ctx, self) if config.services else []
        # Named services first: an operator's words are surer than word similarity, and keep two outages apart.
        match = await service_match(ctx, services)
        if match is None:
            match = await best_match(ctx)
            if match is not None and await of_another_service(ctx, match, services):
                match = None
        ctx.incident = match
        if match is None and ctx.priority == "urgent" and config.open_for_urgent and (services or not config.services):
            ctx.ticket.incident_title = ctx.ticket.subject[:200]
            ctx.ticket.incident_service = services[0].service if services else None
            about = f" about the service {services[0].service} ({services[0].word})" if services else ""
            ctx.session.add(Event(ticket_id=ctx.ticket.id, kind="incident_opened", actor="gateway", at=ctx.now,
                                  data={"why": f"an urgent ticket{about} that joined no open incident "
                                               "([incidents] open_for_urgent)", "service": ctx.ticket.incident_service}))
            return
        if match is None or not match.linked:
            return
        prefix = ctx.settings.helpdesk.ticket_prefix
        ctx.ticket.incident_id = match.incident_id
        why = (f"names the service {match.service} ({match.words[0]})" if match.service else
               f"similar to {prefix}-{match.via} ({match.score:.2f}: {', '.join(match.words)})")
        ctx.session.add_all([
            Event(ticket_id=match.incident_id, kind="incident_linked", actor="gateway", at=ctx.now,
                  data={"ticket": ctx.ticket.id, "why": why}),
            Event(ticket_id=ctx.ticket.id, kind="linked_to_incident", actor="gateway", at=ctx.now,
                  data={"incident": match.incident_id, "why": why}),
        ])

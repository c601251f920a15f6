"""Incidents: one ticket stands for an outage; others link to it, hear its updates and its resolution."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Awaitable, Callable

from sqlalchemy import func, select

from gateway.incident_services import Named, named
from gateway.mail.commands import USAGE, Command
from gateway.schedule.businesstime import BusinessCalendar
from gateway.notify.outbox import unique_recipients
from gateway.store.models import Event, Message, Participant, Ticket
from gateway.triage.features import MAX_BODY

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from gateway.config import Settings
    from gateway.tickets import Acting

LIST_ROLE = "incident_cc"  # a Participant on the incident's recipient list


def problems(a: Acting, commands: list[Command], rest: str) -> list[str]:
    """Incident commands that cannot apply to this ticket now, as error lines."""
    ticket, ref, found = a.ticket, a.ref, []
    # "/incident" followed by "/cc" or "/update" in one mail: the later lines act on the new incident.
    incident = ticket.incident_title is not None or any(c.name == "incident" for c in commands)
    for c in commands:
        why = None
        if c.name == "incident" and ticket.incident_title is not None:
            why = f"{ref} is already an incident"
        elif c.name == "incident" and ticket.incident_id is not None:
            incident = f"{a.settings.helpdesk.ticket_prefix}-{ticket.incident_id}"
            why = f"{ref} is linked to incident {incident}; /unlink it first"
        elif c.name == "link" and incident:
            why = f"{ref} is an incident itself"
        elif c.name == "link" and int(c.arg) == ticket.id:
            why = f"{ref} cannot be linked to itself"
        elif c.name == "unlink" and ticket.incident_id is None:
            why = f"{ref} is not linked to an incident"
        elif c.name == "update" and not incident:
            why = f"{ref} is not an incident; make it one with /incident [title]"
        elif c.name == "update" and not (c.arg or rest):
            why = "needs the text to send"
        elif c.name == "cc" and not incident:
            why = f"{ref} is not an incident; make it one with /incident [title]"
        elif c.name == "cc" and c.arg == ticket.requester.lower():
            why = f"{c.arg} reported {ref} and hears every update already"
        if why:
            found.append(f"line {c.line}: /{c.name}: {why}; usage: {USAGE[c.name]}")
    return found


async def missing_incidents(a: Acting, commands: list[Command]) -> list[str]:
    """/link lines naming a ticket that does not exist or is not an incident, as error lines."""
    found, prefix = [], a.settings.helpdesk.ticket_prefix
    for c in commands:
        if c.name != "link" or int(c.arg) == a.ticket.id:
            continue
        target = await a.session.get(Ticket, int(c.arg))
        if target is None or target.incident_title is None:
            why = "there is no ticket" if target is None else "it is not an incident:"
            found.append(f"line {c.line}: /link: {why} {prefix}-{c.arg}; usage: {USAGE['link']}")
    return found


async def open_incident(a: Acting, arg: str) -> str:
    a.ticket.incident_title = (arg or a.ticket.subject)[:200]  # sent to every reporter: kept short
    service = await service_of(a)
    a.ticket.incident_service = service.service if service else None
    about = f" of the service {service.service}" if service else ""
    return f"{a.ref} is now the incident {a.ticket.incident_title!r}{about}: /link {a.ref} joins tickets to it"


async def service_of(a: Acting) -> Named | None:
    """The first configured service the incident's title, subject or first mail names (1,500 characters of
    it: a bounded scan, on the loop), or None."""
    if not a.settings.incidents.services:
        return None
    first = await a.session.scalar(select(func.substr(Message.text, 1, MAX_BODY)).where(
        Message.ticket_id == a.ticket.id, Message.direction == "in").order_by(Message.id).limit(1))
    found = named(a.settings.incidents.services, f"{a.ticket.incident_title}\n{a.ticket.subject}", first or "")
    return found[0] if found else None


async def link(a: Acting, arg: str) -> str:
    a.ticket.incident_id = int(arg)
    a.session.add(Event(ticket_id=int(arg), kind="incident_linked", actor=a.actor, at=a.now,
                        data={"ticket": a.ticket.id}))
    return f"linked to incident {a.settings.helpdesk.ticket_prefix}-{arg}: its updates reach {a.ticket.requester}"


async def unlink(a: Acting, arg: str) -> str:
    incident, a.ticket.incident_id = a.ticket.incident_id, None
    a.session.add(Event(ticket_id=incident, kind="incident_unlinked", actor=a.actor, at=a.now,
                        data={"ticket": a.ticket.id}))
    return f"unlinked from incident {a.settings.helpdesk.ticket_prefix}-{incident}"


async def cc(a: Acting, arg: str) -> str:
    """Put `arg` on the incident's recipient list: every update and the resolution, once each."""
    found = await a.session.scalar(select(Participant).where(Participant.ticket_id == a.ticket.id,
                                                             Participant.address == arg))
    if found is None:
        a.session.add(Participant(ticket_id=a.ticket.id, address=arg, role=LIST_ROLE))
    else:
        found.role = LIST_ROLE
    return f"{arg} is on the recipient list of {a.ref}"


async def listed(session: AsyncSession, settings: Settings, incident_id: int) -> list[str]:
    """The recipient list of an incident: [incidents] announce, then its /cc addresses, each once."""
    cc = (await session.scalars(select(Participant.address).where(
        Participant.ticket_id == incident_id, Participant.role == LIST_ROLE).order_by(Participant.id))).all()
    return unique_recipients([*settings.incidents.announce, *cc])


async def recipient_list(a: Acting, reporters: set[str]) -> list[str]:
    """The recipient list of incident `a.ticket`, without those told as reporters."""
    return [address for address in await listed(a.session, a.settings, a.ticket.id)
            if address.lower() not in reporters]


async def tell_list(a: Acting, template: str, reporters: set[str], context: dict) -> int:
    rows = await a.notifier.enqueue(a.session, ticket=a.ticket, template=template, automatic=False,
                                    recipients=await recipient_list(a, reporters),
                                    context={"title": a.ticket.incident_title, **context})
    return len(rows)


async def open_linked(a: Acting) -> list[Ticket]:
    """The tickets linked to incident `a.ticket` that are not resolved, oldest first."""
    query = select(Ticket).where(Ticket.incident_id == a.ticket.id, Ticket.status != "resolved").order_by(Ticket.id)
    return list((await a.session.scalars(query)).all())


async def subscribers(a: Acting) -> list[Ticket]:
    """The incident and its linked tickets still open, one per requester (the oldest ticket)."""
    linked = await open_linked(a)
    seen, result = set(), []
    for ticket in [a.ticket, *linked]:
        if ticket.requester.lower() not in seen:
            seen.add(ticket.requester.lower())
            result.append(ticket)
    return result


async def update(a: Acting, arg: str) -> str:
    """The update's text goes to every subscriber once, in the thread of their own ticket."""
    text = "\n\n".join(part for part in (arg, a.rest) if part)
    told = 0
    for ticket in await subscribers(a):
        rows = await a.notifier.enqueue(a.session, ticket=ticket, template="customer/incident_update",
                                        recipients=[ticket.requester], automatic=False,
                                        context={"text": text, "incident_ref": a.ref, "title": a.ticket.incident_title})
        if rows and ticket.first_response_at is None:
            ticket.first_response_at = a.now
        ticket.updated_at = a.now
        a.session.add(Event(ticket_id=ticket.id, kind="incident_update", actor=a.actor, at=a.now,
                            data={"incident": a.ticket.id, "text": text, "sent": bool(rows)}))
        told += bool(rows)
    reporters = {t.requester.lower() for t in await subscribers(a)}
    listed = await tell_list(a, "stakeholder/incident_update", reporters, {"text": text, "reporters": told})
    return f"update sent to {told} reporter{'' if told == 1 else 's'}" + (f" and {listed} on the list" if listed else "")


async def resolve_linked(a: Acting, resolution: str, resolve: Callable[[Acting, str], Awaitable[str]]) -> str:
    """Resolve every open ticket linked to incident `a.ticket` with `resolve`, telling each reporter once."""
    told = {a.ticket.requester.lower()}  # the incident's own reporter hears through the command's own mail
    linked = await open_linked(a)
    for ticket in linked:
        cal = BusinessCalendar.from_config(a.settings.business_for_level(ticket.level))
        await resolve(dataclasses.replace(a, ticket=ticket, cal=cal), resolution)
        ticket.updated_at = a.now
        a.session.add(Event(ticket_id=ticket.id, kind="resolved_with_incident", actor=a.actor, at=a.now,
                            data={"incident": a.ticket.id, "resolution": resolution}))
        if ticket.requester.lower() in told:
            continue
        told.add(ticket.requester.lower())
        await a.notifier.enqueue(a.session, ticket=ticket, template="customer/resolved", recipients=[ticket.requester],
                                 automatic=False, context={"text": "", "resolution": resolution})
    # The recipient list hears of the close once every command of this change is done, with the final
    # report (gateway.closeout.mail_report): a /cause beside the /resolve belongs in it.
    return f"; {len(linked)} linked ticket{'' if len(linked) == 1 else 's'} resolved" if linked else ""

"""An incident's close-out: cause, workaround and follow-ups by command, and its final report to the recipient list."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from gateway import incident_report, incidents
from gateway.mail.commands import USAGE, Command, split_cause
from gateway.store.models import Event, FollowUp, Ticket

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from gateway.tickets import Acting

NAMES = frozenset({"cause", "workaround", "followup"})


def problems(a: Acting, commands: list[Command]) -> list[str]:
    """Close-out commands on a ticket that is not an incident (nor becomes one in this mail), as error lines."""
    incident = a.ticket.incident_title is not None or any(c.name == "incident" for c in commands)
    return [f"line {c.line}: /{c.name}: {a.ref} is not an incident; "
            + (f"its incident {a.settings.helpdesk.ticket_prefix}-{a.ticket.incident_id} takes the close-out"
               if a.ticket.incident_id else "make it one with /incident [title]") + f"; usage: {USAGE[c.name]}"
            for c in commands if c.name in NAMES and not incident]


async def cause(a: Acting, arg: str) -> str:
    """The category and/or the text given replace the ones before; the other part is kept."""
    category, text = split_cause(arg)
    if category:
        a.ticket.cause_category = category
    if text:
        a.ticket.cause = text
    return f"cause: {a.ticket.cause_category or 'no category yet'}: {a.ticket.cause or 'no text yet'}"


async def workaround(a: Acting, arg: str) -> str:
    a.ticket.workaround = arg
    return f"workaround: {arg}"


async def followup(a: Acting, arg: str) -> str:
    a.session.add(FollowUp(ticket_id=a.ticket.id, text=arg, actor=a.actor, at=a.now))
    return f"follow-up added: {arg}"


async def missing(session: AsyncSession, ticket: Ticket) -> list[str]:
    """The close-out commands whose part of a resolved incident's report is still empty, as usage lines."""
    if ticket.incident_title is None or ticket.status != "resolved":
        return []
    followups = await session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.ticket_id == ticket.id))
    gaps = [("cause", not (ticket.cause_category and ticket.cause)), ("workaround", not ticket.workaround),
            ("followup", not followups)]
    return [USAGE[name] for name, empty in gaps if empty]


async def mail_report(a: Acting, names: set[str]) -> str:
    """The incident's recipient list hears of its close once, with the final report (stakeholder/incident_resolved);
    a close-out command after that sends the report again (stakeholder/final_report_updated).

    Returns the line for the engineer's confirmation, '' when nothing was sent. The list's addresses
    that reported the outage heard of the close as reporters already and get neither mail.
    """
    ticket = a.ticket
    if ticket.incident_title is None or ticket.status != "resolved" or not ("resolve" in names or names & NAMES):
        return ""
    updated = "resolve" not in names
    reporters = {r.lower() for r in (await a.session.scalars(select(Ticket.requester).where(
        (Ticket.id == ticket.id) | (Ticket.incident_id == ticket.id)))).all()}
    listed = await incidents.listed(a.session, a.settings, ticket.id)
    recipients = [r for r in listed if r.lower() not in reporters]
    if not recipients:
        return ""
    report = await incident_report.for_incident(a.session, ticket, a.settings, listed)
    template = "stakeholder/final_report_updated" if updated else "stakeholder/incident_resolved"
    rows = await a.notifier.enqueue(a.session, ticket=ticket, template=template, recipients=recipients,
                                    automatic=False, context={"report": report, "title": ticket.incident_title,
                                                              "resolution": report.resolution,
                                                              "tickets": report.tickets})
    a.session.add(Event(ticket_id=ticket.id, kind="final_report_sent", actor=a.actor, at=a.now,
                        data={"recipients": [r.recipient for r in rows], "updated": updated}))
    if updated:
        return f"final report updated: sent again to {len(rows)} on the recipient list"
    return f"{len(rows)} on the recipient list told, with the final report"

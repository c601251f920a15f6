"""The ticket lifecycle: the changes a person makes to a ticket, the same for mail commands and the web."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gateway import closeout, incidents
from gateway.clock import utc
from gateway.handoff import command as handoff_command
from gateway.handoff.queue import apply_rules
from gateway.mail.commands import USAGE, Command, ParsedCommands
from gateway.schedule import sla
from gateway.schedule.businesstime import BusinessCalendar
from gateway.schedule.escalate import escalate, next_level, tell_completed
from gateway.store.models import Event, Ticket

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from gateway.config import Settings
    from gateway.notify.outbox import Notifier

# Commands that change what the customer is told; the first one present picks the mail.
CUSTOMER_TEMPLATES = (("duplicate", "customer/duplicate"), ("resolve", "customer/resolved"),
                      ("reopen", "customer/reopened"), ("pending", "customer/reply"))


@dataclass
class Acting:
    """Who changes which ticket, when, and with what: a command mail or a web form."""

    session: AsyncSession
    ticket: Ticket
    settings: Settings
    notifier: Notifier
    actor: str
    now: datetime
    cal: BusinessCalendar
    note: str = ""  # the text that came with the change (an escalation carries it to the new level)
    rest: str = ""  # the text after the command lines (an incident's /update sends it)
    # Levels told of a completion in this change, shared with the incident's linked tickets: once each.
    levels_told: set[int] = field(default_factory=set)

    @property
    def ref(self) -> str:
        return f"{self.settings.helpdesk.ticket_prefix}-{self.ticket.id}"


def calendar_for(ticket: Ticket, settings: Settings) -> BusinessCalendar:
    return BusinessCalendar.from_config(settings.business_for_level(ticket.level))


def problems(a: Acting, commands: list[Command]) -> list[str]:
    """Commands that are well-formed but cannot apply to this ticket now, as error lines."""
    ticket, settings, ref, found = a.ticket, a.settings, a.ref, []
    numbers = [level.number for level in settings.levels]
    for c in commands:
        why = None
        if c.name == "resolve" and ticket.status == "resolved":
            why = f"{ref} is already resolved"
        elif c.name == "reopen" and ticket.status != "resolved":
            why = f"{ref} is {ticket.status}, not resolved"
        elif c.name == "pending" and ticket.status != "open":
            why = f"{ref} is {ticket.status}; only an open ticket can wait on the customer"
        elif c.name == "duplicate" and int(c.arg) == ticket.id:
            why = f"{ref} cannot be a duplicate of itself"
        elif c.name == "duplicate" and ticket.status == "resolved":
            why = f"{ref} is already resolved"
        elif c.name == "escalate" and c.arg and int(c.arg) not in numbers:
            why = f"there is no level {c.arg}; the levels are {', '.join(map(str, numbers))}"
        elif c.name == "escalate" and c.arg and int(c.arg) == ticket.level:
            why = f"{ref} is already at level {c.arg}"
        elif c.name == "escalate" and not c.arg and next_level(settings, ticket.level) is None:
            why = f"{ref} is at the top level ({ticket.level}); name a level"
        if why:
            found.append(f"line {c.line}: /{c.name}: {why}; usage: {USAGE[c.name]}")
    return (found + incidents.problems(a, commands, a.rest) + closeout.problems(a, commands)
            + handoff_command.problems(a, commands))


async def missing_tickets(a: Acting, commands: list[Command]) -> list[str]:
    """/duplicate lines naming a ticket that does not exist, as error lines."""
    found = []
    for c in commands:
        if c.name == "duplicate" and int(c.arg) != a.ticket.id and await a.session.get(Ticket, int(c.arg)) is None:
            prefix = a.settings.helpdesk.ticket_prefix
            found.append(f"line {c.line}: /duplicate: there is no ticket {prefix}-{c.arg}; usage: {USAGE['duplicate']}")
    return found + await incidents.missing_incidents(a, commands) + await handoff_command.already(a, commands)


def reply_reopens(ticket: Ticket, settings: Settings, now: datetime) -> bool:
    """Whether a customer's reply to resolved `ticket` reopens it (else it opens a new, linked ticket).

    The policy of the level it was resolved at: within that level's reopen_days; 0 means never.
    """
    days = settings.reopen_days_for_level(ticket.level)
    return ticket.resolved_at is None or (days > 0 and now - utc(ticket.resolved_at) <= timedelta(days=days))


async def resolve(a: Acting, arg: str) -> str:
    a.ticket.status, a.ticket.resolved_at, a.ticket.sla_check_at = "resolved", a.now, None
    done = "resolved" + (f": {arg}" if arg else "") + await completion_flows_down(a, arg)
    if a.ticket.incident_title is not None:  # an incident: its linked tickets are resolved with it
        done += await incidents.resolve_linked(a, arg, resolve)
    return done


async def completion_flows_down(a: Acting, resolution: str) -> str:
    """The lower levels that escalated this ticket hear it was resolved; '' or '; level(s) ... told'."""
    told = await tell_completed(a.session, ticket=a.ticket, actor=a.actor, now=a.now, settings=a.settings,
                                notifier=a.notifier, resolution=resolution, skip=frozenset(a.levels_told))
    told = [n for n in told if n not in a.levels_told]
    a.levels_told.update(told)
    return f"; level {', '.join(map(str, told))} told it is done" if told else ""


async def reopen(a: Acting, arg: str) -> str:
    a.ticket.status, a.ticket.resolved_at = "open", None
    sla.set_targets(a.ticket, start=a.now, settings=a.settings, cal=a.cal, first_response=False)
    return "reopened"


async def pending(a: Acting, arg: str) -> str:
    sla.pause(a.ticket, now=a.now)
    return "pending on the customer: the SLA clock is paused"


async def escalate_to(a: Acting, arg: str) -> str:
    old = a.ticket.level
    new = await escalate(a.session, ticket=a.ticket, to_level=int(arg) if arg else None, actor=a.actor, now=a.now,
                         settings=a.settings, notifier=a.notifier, reason=f"escalated by {a.actor}", note=a.note)
    return f"escalated from level {old} to level {new} ({a.settings.level(new).name})"


async def assign(a: Acting, arg: str) -> str:
    a.ticket.assignee = a.actor if arg == "me" else arg
    return f"assigned to {a.ticket.assignee}"


async def set_priority(a: Acting, arg: str) -> str:
    ticket = a.ticket
    old, ticket.priority = ticket.priority, arg
    sla.set_targets(ticket, start=utc(ticket.created_at), settings=a.settings, cal=a.cal,
                    first_response=ticket.first_response_at is None)
    return f"priority {old} → {arg}; due {utc(ticket.resolution_due):%Y-%m-%d %H:%M} UTC"


async def set_category(a: Acting, arg: str) -> str:
    old, a.ticket.category = a.ticket.category, arg
    return f"category {old} → {arg}"


async def note(a: Acting, arg: str) -> str:
    return "internal note added (not sent to the customer)"


async def duplicate(a: Acting, arg: str) -> str:
    """Link this ticket to HD-<arg> as the same problem, and resolve it (its customer is told which)."""
    ticket, target = a.ticket, int(arg)
    ticket.linked_ticket_id = target
    ticket.status, ticket.resolved_at, ticket.sla_check_at = "resolved", a.now, None
    a.session.add(Event(ticket_id=target, kind="duplicate_linked", actor=a.actor, at=a.now,
                        data={"ticket": ticket.id, "why": f"{a.ref} is the same problem"}))
    other = f"{a.settings.helpdesk.ticket_prefix}-{target}"
    told = await completion_flows_down(a, f"the same problem as {other}")
    return f"linked to {other} as the same problem, and resolved" + told


async def help_(a: Acting, arg: str) -> str:
    return "help sent"


CHANGES = {"resolve": resolve, "reopen": reopen, "pending": pending, "escalate": escalate_to, "assign": assign,
           "priority": set_priority, "category": set_category, "note": note, "duplicate": duplicate, "help": help_,
           "incident": incidents.open_incident, "link": incidents.link, "unlink": incidents.unlink,
           "update": incidents.update, "cc": incidents.cc, "handoff": handoff_command.handoff,
           "cause": closeout.cause, "workaround": closeout.workaround, "followup": closeout.followup}


async def apply(a: Acting, c: Command) -> str:
    """Carry out one checked command; returns one line saying what changed."""
    return await CHANGES[c.name](a, c.arg)


async def carry_out(a: Acting, parsed: ParsedCommands) -> list[str]:
    """Checked commands, one `command_<name>` event each, then the customer's mail; the changes as lines."""
    names = {c.name for c in parsed.commands}
    changes = []
    for c in parsed.commands:
        changes.append(await apply(a, c))
        a.session.add(Event(ticket_id=a.ticket.id, kind=f"command_{c.name}", actor=a.actor, at=a.now,
                            data={"arg": c.arg, "line": c.line, "text": parsed.rest if c.name == "note" else ""}))
    told = await tell_customer(a, parsed, names)
    if told:
        changes.append(f"sent to {a.ticket.requester}: {told}")
    # A category or level the commands set may be one [[handoff.rules]] hands off by itself.
    if a.settings.handoff.rules:
        changes += [f"handed off to {name} by rule" for name in await apply_rules(
            a.session, ticket=a.ticket, settings=a.settings, renderer=a.notifier.renderer, now=a.now)]
    # Last: the report holds every command of this change (a /cause beside the /resolve) and the answer just sent.
    reported = await closeout.mail_report(a, names)
    if reported:
        changes.append(reported)
    a.ticket.updated_at = a.now
    return changes


async def tell_customer(a: Acting, parsed: ParsedCommands, names: set[str]) -> str:
    """Queue the one mail the customer gets for these commands, if any; returns its template name or ''."""
    ticket = a.ticket
    by_name = {c.name: c for c in parsed.commands}
    template, text = "", "" if "note" in names else parsed.rest
    for name, candidate in CUSTOMER_TEMPLATES:
        if name in names:
            template = candidate
            if name == "pending" and by_name[name].arg:
                text = "\n\n".join(part for part in (by_name[name].arg, text) if part)
            break
    if not template and text and "update" not in names:  # an /update's text went out as the update
        template = "customer/reply"
    if not template or (template == "customer/reply" and not text):
        return ""
    resolution = by_name["resolve"].arg if "resolve" in names else ""
    if "duplicate" in names:
        resolution = f"{a.settings.helpdesk.ticket_prefix}-{by_name['duplicate'].arg}"
    await a.notifier.enqueue(a.session, ticket=ticket, template=template, recipients=[ticket.requester],
                             automatic=False, context={"text": text, "resolution": resolution})
    if ticket.first_response_at is None:
        ticket.first_response_at = a.now
    a.session.add(Event(ticket_id=ticket.id, kind="customer_told", actor=a.actor, at=a.now,
                        data={"template": template}))
    return template

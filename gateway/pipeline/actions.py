"""What a reply does to its ticket: an engineer's commands, a customer's reopening or resumption."""
from __future__ import annotations

from gateway.clock import utc
from gateway.mail.commands import USAGE, Command, ParsedCommands, help_text
from gateway.pipeline.context import MailContext
from gateway.schedule import sla
from gateway.schedule.businesstime import BusinessCalendar
from gateway.schedule.escalate import escalate, next_level
from gateway.store.models import Event, Ticket

# Commands that change what the customer is told; the first one present picks the mail.
CUSTOMER_TEMPLATES = (("duplicate", "customer/duplicate"), ("resolve", "customer/resolved"),
                      ("reopen", "customer/reopened"), ("pending", "customer/reply"))


def ref(ctx: MailContext) -> str:
    return f"{ctx.settings.helpdesk.ticket_prefix}-{ctx.ticket.id}"


def problems(ctx: MailContext, commands: list[Command]) -> list[str]:
    """Commands that are well-formed but cannot apply to this ticket now, as error lines."""
    ticket, settings, found = ctx.ticket, ctx.settings, []
    numbers = [level.number for level in settings.levels]
    for c in commands:
        why = None
        if c.name == "resolve" and ticket.status == "resolved":
            why = f"{ref(ctx)} is already resolved"
        elif c.name == "reopen" and ticket.status != "resolved":
            why = f"{ref(ctx)} is {ticket.status}, not resolved"
        elif c.name == "pending" and ticket.status != "open":
            why = f"{ref(ctx)} is {ticket.status}; only an open ticket can wait on the customer"
        elif c.name == "duplicate" and int(c.arg) == ticket.id:
            why = f"{ref(ctx)} cannot be a duplicate of itself"
        elif c.name == "duplicate" and ticket.status == "resolved":
            why = f"{ref(ctx)} is already resolved"
        elif c.name == "escalate" and c.arg and int(c.arg) not in numbers:
            why = f"there is no level {c.arg}; the levels are {', '.join(map(str, numbers))}"
        elif c.name == "escalate" and c.arg and int(c.arg) == ticket.level:
            why = f"{ref(ctx)} is already at level {c.arg}"
        elif c.name == "escalate" and not c.arg and next_level(settings, ticket.level) is None:
            why = f"{ref(ctx)} is at the top level ({ticket.level}); name a level"
        if why:
            found.append(f"line {c.line}: /{c.name}: {why}; usage: {USAGE[c.name]}")
    return found


async def apply(ctx: MailContext, c: Command, cal: BusinessCalendar) -> str:
    """Carry out one checked command; returns one line saying what changed."""
    ticket, settings, now, sender = ctx.ticket, ctx.settings, ctx.now, ctx.sender
    if c.name == "resolve":
        ticket.status, ticket.resolved_at, ticket.sla_check_at = "resolved", now, None
        return "resolved" + (f": {c.arg}" if c.arg else "")
    if c.name == "reopen":
        ticket.status, ticket.resolved_at = "open", None
        sla.set_targets(ticket, start=now, settings=settings, cal=cal, first_response=False)
        return "reopened"
    if c.name == "pending":
        sla.pause(ticket, now=now)
        return "pending on the customer: the SLA clock is paused"
    if c.name == "escalate":
        old = ticket.level
        new = await escalate(ctx.session, ticket=ticket, to_level=int(c.arg) if c.arg else None, actor=sender,
                             now=now, settings=settings, notifier=ctx.notifier, reason=f"escalated by {sender}",
                             note=ctx.message.new_text if ctx.message else "")
        return f"escalated from level {old} to level {new} ({settings.level(new).name})"
    if c.name == "assign":
        ticket.assignee = sender if c.arg == "me" else c.arg
        return f"assigned to {ticket.assignee}"
    if c.name == "priority":
        old, ticket.priority = ticket.priority, c.arg
        sla.set_targets(ticket, start=utc(ticket.created_at), settings=settings, cal=cal,
                        first_response=ticket.first_response_at is None)
        return f"priority {old} → {c.arg}; due {utc(ticket.resolution_due):%Y-%m-%d %H:%M} UTC"
    if c.name == "category":
        old, ticket.category = ticket.category, c.arg
        return f"category {old} → {c.arg}"
    if c.name == "note":
        return "internal note added (not sent to the customer)"
    if c.name == "duplicate":
        target = f"{settings.helpdesk.ticket_prefix}-{c.arg}"
        ticket.linked_ticket_id = int(c.arg)
        ticket.status, ticket.resolved_at, ticket.sla_check_at = "resolved", now, None
        ctx.session.add(Event(ticket_id=int(c.arg), kind="duplicate_linked", actor=sender, at=now,
                              data={"ticket": ticket.id, "why": f"{ref(ctx)} is the same problem"}))
        return f"linked to {target} as the same problem, and resolved"
    return "help sent"


async def missing_tickets(ctx: MailContext, commands: list[Command]) -> list[str]:
    """/duplicate lines naming a ticket that does not exist, as error lines."""
    found = []
    for c in commands:
        if c.name == "duplicate" and int(c.arg) != ctx.ticket.id and await ctx.session.get(Ticket, int(c.arg)) is None:
            prefix = ctx.settings.helpdesk.ticket_prefix
            found.append(f"line {c.line}: /duplicate: there is no ticket {prefix}-{c.arg}; usage: {USAGE['duplicate']}")
    return found


async def run_commands(ctx: MailContext, parsed: ParsedCommands, cal: BusinessCalendar) -> None:
    """An authorised engineer's reply: commands, then the rest as a reply to the customer (unless /note)."""
    ticket, session = ctx.ticket, ctx.session
    ctx.handled = True  # the notify step must not forward an engineer's mail
    engineer = {"in_reply_to": ctx.mail.message_id, "references": [*ctx.mail.references,
                                                                   *([ctx.mail.message_id] if ctx.mail.message_id else [])]}
    errors = [*parsed.errors, *problems(ctx, parsed.commands), *await missing_tickets(ctx, parsed.commands)]
    if errors:
        session.add(Event(ticket_id=ticket.id, kind="commands_failed", actor=ctx.sender, at=ctx.now,
                          data={"errors": errors}))
        await ctx.notifier.enqueue(session, ticket=ticket, template="engineer/error", recipients=[ctx.sender],
                                   automatic=False, context={"errors": errors, "usage": help_text()}, **engineer)
        return
    names = {c.name for c in parsed.commands}
    changes = []
    for c in parsed.commands:
        changes.append(await apply(ctx, c, cal))
        session.add(Event(ticket_id=ticket.id, kind=f"command_{c.name}", actor=ctx.sender, at=ctx.now,
                          data={"arg": c.arg, "line": c.line, "text": parsed.rest if c.name == "note" else ""}))
    told = await _tell_customer(ctx, parsed, names)
    if told:
        changes.append(f"sent to {ticket.requester}: {told}")
    ticket.updated_at = ctx.now
    if parsed.commands:
        await ctx.notifier.enqueue(session, ticket=ticket, template="engineer/result", recipients=[ctx.sender],
                                   automatic=False,
                                   context={"changes": changes, "help": help_text() if "help" in names else ""},
                                   **engineer)
    sla.schedule_check(ticket, settings=ctx.settings, cal=cal)


async def _tell_customer(ctx: MailContext, parsed: ParsedCommands, names: set[str]) -> str:
    """Queue the one mail the customer gets for this reply, if any; returns its template name or ''."""
    ticket = ctx.ticket
    by_name = {c.name: c for c in parsed.commands}
    template, text = "", "" if "note" in names else parsed.rest
    for name, candidate in CUSTOMER_TEMPLATES:
        if name in names:
            template = candidate
            if name == "pending" and by_name[name].arg:
                text = "\n\n".join(part for part in (by_name[name].arg, text) if part)
            break
    if not template and text:
        template = "customer/reply"
    if not template or (template == "customer/reply" and not text):
        return ""
    resolution = by_name["resolve"].arg if "resolve" in names else ""
    if "duplicate" in names:
        resolution = f"{ctx.settings.helpdesk.ticket_prefix}-{by_name['duplicate'].arg}"
    await ctx.notifier.enqueue(ctx.session, ticket=ticket, template=template, recipients=[ticket.requester],
                               automatic=False, context={"text": text, "resolution": resolution})
    if ticket.first_response_at is None:
        ticket.first_response_at = ctx.now
    ctx.session.add(Event(ticket_id=ticket.id, kind="customer_told", actor=ctx.sender, at=ctx.now,
                          data={"template": template}))
    return template


async def customer_follow_up(ctx: MailContext, cal: BusinessCalendar) -> None:
    """A customer's reply restarts a paused clock, and reopens a resolved ticket (inside reopen_days)."""
    ticket, now = ctx.ticket, ctx.now
    if ticket.status == "pending":
        paused = sla.resume(ticket, now=now, settings=ctx.settings, cal=cal)
        ctx.session.add(Event(ticket_id=ticket.id, kind="resumed", actor=ctx.sender, at=now,
                              data={"paused_seconds": paused}))
    elif ticket.status == "resolved":
        ticket.status, ticket.resolved_at = "open", None
        sla.set_targets(ticket, start=now, settings=ctx.settings, cal=cal, first_response=False)
        ctx.session.add(Event(ticket_id=ticket.id, kind="reopened", actor=ctx.sender, at=now,
                              data={"by": "customer reply"}))
        # Caused by the customer's own mail, not by a person: automatic, so capped and suppressible.
        await ctx.notifier.enqueue(ctx.session, ticket=ticket, template="customer/reopened",
                                   recipients=[ticket.requester], automatic=True, context={"text": ""})

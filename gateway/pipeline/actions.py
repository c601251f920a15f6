"""What a reply does to its ticket: an engineer's commands, a customer's reopening or resumption."""
from __future__ import annotations

from gateway import closeout, tickets
from gateway.mail.commands import ParsedCommands, help_text
from gateway.pipeline.context import MailContext
from gateway.schedule import sla
from gateway.schedule.businesstime import BusinessCalendar
from gateway.store.models import Event


def acting(ctx: MailContext, cal: BusinessCalendar) -> tickets.Acting:
    """The engineer's mail as a lifecycle change: its sender acts, its new text is the note."""
    return tickets.Acting(session=ctx.session, ticket=ctx.ticket, settings=ctx.settings, notifier=ctx.notifier,
                          actor=ctx.sender, now=ctx.now, cal=cal, note=ctx.message.new_text if ctx.message else "")


async def run_commands(ctx: MailContext, parsed: ParsedCommands, cal: BusinessCalendar) -> None:
    """An authorised engineer's reply: commands, then the rest as a reply to the customer (unless /note)."""
    ticket, session = ctx.ticket, ctx.session
    ctx.handled = True  # the notify step must not forward an engineer's mail
    engineer = {"in_reply_to": ctx.mail.message_id, "references": [*ctx.mail.references,
                                                                   *([ctx.mail.message_id] if ctx.mail.message_id else [])]}
    change = acting(ctx, cal)
    change.rest = parsed.rest
    errors = [*parsed.errors, *tickets.problems(change, parsed.commands),
              *await tickets.missing_tickets(change, parsed.commands)]
    if errors:
        session.add(Event(ticket_id=ticket.id, kind="commands_failed", actor=ctx.sender, at=ctx.now,
                          data={"errors": errors}))
        await ctx.notifier.enqueue(session, ticket=ticket, template="engineer/error", recipients=[ctx.sender],
                                   automatic=False, context={"errors": errors, "usage": help_text()}, **engineer)
        return
    names = {c.name for c in parsed.commands}
    changes = await tickets.carry_out(change, parsed)
    if parsed.commands:
        await ctx.notifier.enqueue(session, ticket=ticket, template="engineer/result", recipients=[ctx.sender],
                                   automatic=False,
                                   context={"changes": changes, "help": help_text() if "help" in names else "",
                                            "closeout": await closeout.missing(session, ticket)},
                                   **engineer)
    sla.schedule_check(ticket, settings=ctx.settings, cal=cal)


async def customer_follow_up(ctx: MailContext, cal: BusinessCalendar) -> None:
    """A customer's reply restarts a paused clock, and reopens a resolved ticket (the reopen step has already
    sent replies past the level's reopen_days to a new ticket: gateway.tickets.reply_reopens)."""
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

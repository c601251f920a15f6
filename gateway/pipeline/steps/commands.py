"""Step: engineers act on a ticket by replying; anyone else's command lines stay plain text."""
from __future__ import annotations

from gateway.handoff.queue import apply_rules
from gateway.mail.commands import ParsedCommands, parse_commands
from gateway.pipeline import actions
from gateway.pipeline.context import MailContext, Preparation
from gateway.pipeline.registry import prepared, step
from gateway.pipeline.steps.record import reply_text
from gateway.schedule import sla
from gateway.schedule.businesstime import BusinessCalendar
from gateway.store.models import Event


def authorisation(ctx: MailContext) -> str | None:
    """None when the sender may run commands on this ticket, else why not (for the refusal event)."""
    if ctx.sender not in ctx.settings.engineers:
        return f"{ctx.sender or 'the sender'} is not an engineer of any level"
    envelope = (ctx.envelope_from or "").strip().strip("<>").lower()
    if ctx.envelope_from is not None and envelope != ctx.sender:
        # A From header is easy to forge; over SMTP the envelope sender must at least agree with it.
        return f"envelope sender {envelope or '<>'} differs from From {ctx.sender}"
    if not ctx.settings.security.require_token:
        return None
    if ctx.grant is None:
        return "not sent to the ticket's reply-token address (security.require_token is on)"
    if ctx.grant.holder != ctx.sender:
        # A customer's token only threads; an engineer's works for that engineer; a level list's for its engineers.
        return f"the reply token was not issued to {ctx.sender} as an engineer of this ticket"
    return None


@step
class Commands:
    name = "commands"
    description = "Run authorised /commands at the top of a reply (engineer + reply token); link reopened tickets."

    def prepare(self, prep: Preparation) -> ParsedCommands:
        # A reply of megabytes of blank lines took seconds to read for commands: off the loop, like the rest.
        return parse_commands(reply_text(prep))

    async def run(self, ctx: MailContext) -> None:
        ticket = ctx.ticket
        if ctx.new_ticket:  # its SLA clocks were set when it was recorded
            if ctx.linked_ticket_id is not None:
                ticket.linked_ticket_id = ctx.linked_ticket_id
                ctx.session.add(Event(ticket_id=ticket.id, kind="linked", at=ctx.now,
                                      data={"ticket": ctx.linked_ticket_id, "why": ctx.link_why}))
            if ctx.settings.handoff.rules:  # a new ticket may start where a rule hands off (e.g. bugs at level 4)
                await apply_rules(ctx.session, ticket=ticket, settings=ctx.settings,
                                  renderer=ctx.notifier.renderer, now=ctx.now)
            return
        if ctx.auto_reason is not None:
            return  # out-of-office and other automatic mail neither acts nor reopens
        cal = BusinessCalendar.from_config(ctx.settings.business_for_level(ticket.level))
        parsed = prepared(ctx, self)
        refused = authorisation(ctx)
        if refused is None:
            await actions.run_commands(ctx, parsed, cal)
            return
        if parsed.commands or parsed.errors:
            ctx.session.add(Event(ticket_id=ticket.id, kind="commands_refused", actor=ctx.sender or "unknown",
                                  at=ctx.now, data={"reason": refused,
                                                    "lines": [f"/{c.name} {c.arg}".strip() for c in parsed.commands]}))
        if ctx.sender not in ctx.settings.engineers:
            await actions.customer_follow_up(ctx, cal)
        sla.schedule_check(ticket, settings=ctx.settings, cal=cal)

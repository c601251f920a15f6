"""Step: a customer's reply to a resolved ticket past its level's reopen_days starts a new, linked ticket."""
from __future__ import annotations

from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step
from gateway.tickets import reply_reopens


@step
class Reopen:
    name = "reopen"
    description = "Send replies to long-resolved tickets to a new ticket that links the old one."

    async def run(self, ctx: MailContext) -> None:
        ticket = ctx.ticket
        if ctx.new_ticket or ticket is None or ticket.status != "resolved" or ticket.resolved_at is None:
            return
        if ctx.sender in ctx.settings.engineers or ctx.auto_reason is not None:
            return
        if reply_reopens(ticket, ctx.settings, ctx.now):
            return  # the commands step reopens it
        days = ctx.settings.reopen_days_for_level(ticket.level)
        prefix = ctx.settings.helpdesk.ticket_prefix
        ctx.linked_ticket_id, ctx.ticket, ctx.new_ticket, ctx.grant = ticket.id, None, True, None
        ctx.link_why = (f"reply to a ticket resolved more than {days} days ago" if days
                        else f"reply to a ticket resolved at level {ticket.level}, where replies open new tickets")
        ctx.thread_reason = f"new ticket: {prefix}-{ticket.id} was resolved ({ctx.link_why})"

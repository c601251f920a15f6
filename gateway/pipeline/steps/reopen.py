"""Step: a customer's reply to a ticket resolved more than reopen_days ago starts a new, linked ticket."""
from __future__ import annotations

from datetime import timedelta

from gateway.clock import utc
from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step


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
        days = ctx.settings.tickets.reopen_days
        if ctx.now - utc(ticket.resolved_at) <= timedelta(days=days):
            return  # the commands step reopens it
        prefix = ctx.settings.helpdesk.ticket_prefix
        ctx.linked_ticket_id, ctx.ticket, ctx.new_ticket, ctx.grant = ticket.id, None, True, None
        ctx.link_why = f"reply to a ticket resolved more than {days} days ago"
        ctx.thread_reason = f"new ticket: {prefix}-{ticket.id} was resolved more than {days} days ago"

"""Step: new tickets note up to three open tickets that look like the same problem (for the announcement)."""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step
from gateway.store.models import Message, Ticket
from gateway.triage.features import MAX_BODY
from gateway.triage.similar import similar


async def open_tickets(session, *, among: int) -> list[tuple[int, str, str]]:
    """The newest `among` open tickets as (id, subject, start of their first inbound text)."""
    newest = (select(Ticket.id, Ticket.subject).where(Ticket.status != "resolved")
              .order_by(Ticket.id.desc()).limit(among).subquery())
    first = (select(Message.ticket_id, func.min(Message.id).label("id"))
             .where(Message.direction == "in", Message.ticket_id.in_(select(newest.c.id)))
             .group_by(Message.ticket_id).subquery())
    rows = await session.execute(
        select(newest.c.id, newest.c.subject, func.substr(Message.text, 1, MAX_BODY))
        .join(first, first.c.ticket_id == newest.c.id).join(Message, Message.id == first.c.id)
        .order_by(newest.c.id.desc()))
    return [(ticket_id, subject or "", text or "") for ticket_id, subject, text in rows.all()]


@step
class Similar:
    name = "similar"
    description = "Find up to [tickets] similar_max open tickets whose subject and text look like this mail's."

    async def run(self, ctx: MailContext) -> None:
        config = ctx.settings.tickets
        if not ctx.new_ticket or ctx.history or config.similar_max == 0:  # history is never announced
            return
        candidates = await open_tickets(ctx.session, among=config.similar_among)
        # CPU work (tokens, cosine over up to similar_among tickets) on a worker thread
        ctx.similar = await asyncio.to_thread(similar, ctx.mail.subject, ctx.mail.text, candidates,
                                              top=config.similar_max, at_least=config.similar_at)

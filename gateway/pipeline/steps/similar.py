"""Step: new tickets note up to three open tickets that look like the same problem (for the announcement)."""
from __future__ import annotations

import asyncio
from collections import Counter
from typing import Sequence

from sqlalchemy import bindparam, func, select

from gateway.pipeline.context import MailContext, Preparation
from gateway.pipeline.registry import prepared, step
from gateway.store.models import Message, Ticket
from gateway.triage.features import MAX_BODY
from gateway.triage.similar import rank, terms, tf


# Built once: making a statement (and its cache key) cost more than running it, once per new ticket.
_TICKETS = Ticket.__table__
_OPEN = (select(_TICKETS.c.id, _TICKETS.c.reply_token).where(_TICKETS.c.status != "resolved")
         .order_by(_TICKETS.c.id.desc()).limit(bindparam("among")))
_FIRST = (select(Message.ticket_id, func.min(Message.id).label("id"))
          .where(Message.direction == "in", Message.ticket_id.in_(bindparam("ids", expanding=True)))
          .group_by(Message.ticket_id).subquery())
_FIRST_TEXTS = (select(Ticket.id, Ticket.subject, func.substr(Message.text, 1, MAX_BODY))
                .join(_FIRST, _FIRST.c.ticket_id == Ticket.id).join(Message, Message.id == _FIRST.c.id))


async def open_tickets(session, *, among: int) -> list[tuple[int, str]]:
    """The newest `among` open tickets as (id, reply token): the token tells a ticket from one that
    got the same id after a rolled-back transaction (SQLite reuses the ids of rows rolled back)."""
    return [tuple(row) for row in (await session.execute(_OPEN, {"among": among})).all()]


async def first_texts(session, ids: Sequence[int]) -> list[tuple[int, str, str]]:
    """(id, subject, start of the first inbound text) of the tickets `ids`."""
    rows = await session.execute(_FIRST_TEXTS, {"ids": list(ids)})
    return [(ticket_id, subject or "", text or "") for ticket_id, subject, text in rows.all()]


@step
class Similar:
    name = "similar"
    description = "Find up to [tickets] similar_max open tickets whose subject and text look like this mail's."

    def __init__(self) -> None:
        # The words of open tickets (their tf weights), by (id, reply token): a ticket's subject and first mail never change,
        # so each is read and cut into words once, not once per new ticket (similar_among of them each).
        # None: a ticket without inbound mail (opened by an engineer), which is compared with nothing.
        self._words: dict[tuple[int, str], dict[str, float] | None] = {}

    def prepare(self, prep: Preparation) -> Counter[str]:
        return terms(prep.mail.subject, prep.mail.text)

    async def run(self, ctx: MailContext) -> None:
        config = ctx.settings.tickets
        if not ctx.new_ticket or ctx.history or config.similar_max == 0:  # history is never announced
            return
        heads = await open_tickets(ctx.session, among=config.similar_among)
        missing = [head for head in heads if head not in self._words]
        texts = await first_texts(ctx.session, [ticket_id for ticket_id, _ in missing]) if missing else []
        # CPU work (tokens, cosine over up to similar_among tickets) on a worker thread
        ctx.similar = await asyncio.to_thread(self._rank, prepared(ctx, self), heads, missing, texts,
                                              top=config.similar_max, at_least=config.similar_at)

    def _rank(self, mine: Counter[str], heads: list[tuple[int, str]], missing: list[tuple[int, str]],
              new: list[tuple[int, str, str]], *, top: int, at_least: float):
        found = {ticket_id: tf(terms(subject, body)) for ticket_id, subject, body in new}
        for ticket_id, token in missing:
            self._words[ticket_id, token] = found.get(ticket_id)
        if len(self._words) > 2 * len(heads) + 100:  # forget tickets no longer among the newest open ones
            keep = set(heads)
            self._words = {key: words for key, words in self._words.items() if key in keep}
        docs = [(ticket_id, words) for ticket_id, token in heads
                if (words := self._words.get((ticket_id, token))) is not None]
        return rank(mine, docs, top=top, at_least=at_least)

"""Step: new tickets note up to three open tickets that look like the same problem (for the announcement)."""
from __future__ import annotations

import asyncio
import threading
import weakref
from collections import Counter
from typing import Sequence

from sqlalchemy import bindparam, func, select

from gateway.pipeline.context import MailContext, Preparation
from gateway.pipeline.registry import prepared, step
from gateway.store.models import Message, Ticket
from gateway.triage.features import MAX_BODY
from gateway.triage.similar import Similar, terms, tf
from gateway.triage.similar_index import Key, SimilarIndex

# Tickets new to the index (their first mail to read and cut into words) that a mail may bring along
# and still be ranked on the loop: one or two a mail, more in a batch of new tickets.
FEW = 8
# Postings (ticket, word) that updating the index and ranking may touch on the loop: about 0.7 ms.
LOOP_WORK = 10_000


# Built once: making a statement (and its cache key) cost more than running it, once per new ticket.
_TICKETS = Ticket.__table__
_OPEN = (select(_TICKETS.c.id, _TICKETS.c.reply_token).where(_TICKETS.c.status != "resolved")
         .order_by(_TICKETS.c.id.desc()).limit(bindparam("among")))
# A ticket's first inbound mail: a subquery per ticket rather than one grouping all their mail, a third
# less time for the statement a batch's later new tickets each run.
_FIRST_IN = Message.__table__.alias("first_in")
_FIRST_ID = (select(func.min(_FIRST_IN.c.id))
             .where(_FIRST_IN.c.ticket_id == _TICKETS.c.id, _FIRST_IN.c.direction == "in").scalar_subquery())
_FIRST_TEXTS = (select(_TICKETS.c.id, _TICKETS.c.subject, func.substr(Message.text, 1, MAX_BODY))
                .select_from(_TICKETS.join(Message, Message.id == _FIRST_ID))
                .where(_TICKETS.c.id.in_(bindparam("ids", expanding=True))))
_OPENED_SINCE = (select(_TICKETS.c.id, _TICKETS.c.reply_token, Message.id, _TICKETS.c.subject,
                        func.substr(Message.text, 1, MAX_BODY))
                 .select_from(_TICKETS.outerjoin(Message, Message.id == _FIRST_ID))
                 .where(_TICKETS.c.status != "resolved", _TICKETS.c.id > bindparam("since"))
                 .order_by(_TICKETS.c.id.desc()).limit(bindparam("among")))


async def open_tickets(session, *, among: int) -> list[tuple[int, str]]:
    """The newest `among` open tickets as (id, reply token): the token tells a ticket from one that
    got the same id after a rolled-back transaction (SQLite reuses the ids of rows rolled back)."""
    return [tuple(row) for row in (await session.execute(_OPEN, {"among": among})).all()]


async def first_texts(session, ids: Sequence[int]) -> list[tuple[int, str, str]]:
    """(id, subject, start of the first inbound text) of the tickets `ids`."""
    rows = await session.execute(_FIRST_TEXTS, {"ids": list(ids)})
    return [(ticket_id, subject or "", text or "") for ticket_id, subject, text in rows.all()]


async def opened_since(session, *, since: int, among: int) -> tuple[list[tuple[int, str]], list[tuple[int, str, str]]]:
    """open_tickets() of ids above `since`, and first_texts() of them, in one statement."""
    rows = (await session.execute(_OPENED_SINCE, {"since": since, "among": among})).all()
    return ([(ticket_id, token) for ticket_id, token, *_ in rows],
            [(ticket_id, subject or "", text or "") for ticket_id, _, first, subject, text in rows
             if first is not None])


@step
class Similar:
    name = "similar"
    description = "Find up to [tickets] similar_max open tickets whose subject and text look like this mail's."

    def __init__(self) -> None:
        # The newest open tickets' words, kept between mails: a ticket's subject and first mail never
        # change, so each is read and cut into words once, and a new ticket touches only the tickets
        # that share its words (gateway/triage/similar_index.py). The lock: a ranking on a worker
        # thread goes on when the mail's task is cancelled, and the next must not run beside it.
        self._index = SimilarIndex()
        self._lock = threading.Lock()
        # The candidates (newest first) as the transaction of the current batch saw them at its last new
        # ticket, and that transaction: the list is read whole once per batch, then only the tickets opened
        # since. Within a batch its own mails change tickets: a new ticket adds itself, and a follow-up
        # may resolve or reopen any, so after one the list is read whole again. What other transactions
        # commit meanwhile (on PostgreSQL: other instances, the web pages, the scheduler) the next batch sees.
        self._batch: weakref.ref | None = None
        self._heads: list[Key] = []

    def prepare(self, prep: Preparation) -> Counter[str]:
        return terms(prep.mail.subject, prep.mail.text)

    async def run(self, ctx: MailContext) -> None:
        config = ctx.settings.tickets
        if not ctx.new_ticket:
            self._batch = None
        if not ctx.new_ticket or ctx.history or config.similar_max == 0:  # history is never announced
            return
        heads, unknown, texts = await self._candidates(ctx.session, config.similar_among)
        mine, top, at_least = prepared(ctx, self), config.similar_max, config.similar_at
        if len(unknown) > FEW:  # after a start: up to similar_among first mails to cut into words and index
            ctx.similar = await asyncio.to_thread(
                lambda: self._rank(mine, heads, words_of(unknown, texts), top, at_least))
        else:
            found = words_of(unknown, texts)
            with self._lock:
                work = self._index.work(heads, found, mine)
            # On the loop unless the words involved are in very many of the tickets: a mail's usual share
            # is well under a millisecond, less than the hand-off to a worker thread costs.
            if work > LOOP_WORK:
                ctx.similar = await asyncio.to_thread(self._rank, mine, heads, found, top, at_least)
            else:
                ctx.similar = self._rank(mine, heads, found, top, at_least)
        self._batch, self._heads = weakref.ref(ctx.session), heads  # the index now holds these

    async def _candidates(self, session, among: int) -> tuple[list[Key], list[Key], list[tuple[int, str, str]]]:
        """The newest `among` open tickets (newest first), those of them the index lacks, and first_texts()
        of those (or of more)."""
        if self._batch is not None and self._batch() is session:
            opened, texts = await opened_since(session, since=self._heads[0][0] if self._heads else 0, among=among)
            heads = (opened + self._heads)[:among]
        else:
            heads, texts = await open_tickets(session, among=among), None
        with self._lock:
            unknown = self._index.unknown(heads)
        if texts is None:
            texts = await first_texts(session, [ticket_id for ticket_id, _ in unknown]) if unknown else []
        return heads, unknown, texts

    def _rank(self, mine: Counter[str], heads: list[Key], found: dict[Key, dict[str, float] | None], top: int,
              at_least: float) -> list[Similar]:
        with self._lock:
            try:
                self._index.update(heads, found)
                return self._index.rank(mine, top=top, at_least=at_least)
            except BaseException:
                # Half updated, the index would be wrong from now on: start again, and read the list whole.
                self._index, self._batch = SimilarIndex(), None
                raise


def words_of(unknown: list[Key], texts: list[tuple[int, str, str]]) -> dict[Key, dict[str, float] | None]:
    """tf() of the terms() of each ticket of `unknown`, None for one without inbound mail (not in `texts`)."""
    found = {ticket_id: tf(terms(subject, body)) for ticket_id, subject, body in texts}
    return {key: found.get(key[0]) for key in unknown}

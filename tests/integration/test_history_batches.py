"""A batch of mail, imported history or live, is stored in one transaction without a savepoint per mail,
and redone with them when a mail of the batch is not simply stored: the rows are those the savepoints
would have left, and no mail goes out twice."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, func, select

from gateway.ingest import Incoming, Ingestor
from gateway.pipeline.context import HISTORY_SOURCE
from gateway.store import repo
from gateway.store.models import Blob, Message, Outbox, Ticket
from tests.integration.serving import make_mail


@contextmanager
def savepoints_seen(db):
    """The SAVEPOINT statements sent while inside, as a list that fills."""
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SAVEPOINT"):
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", before)


def history(*mails) -> list[Incoming]:
    return [Incoming(mail.as_bytes(), HISTORY_SOURCE) for mail in mails]


async def test_history_batches_use_savepoints_only_after_a_mail_that_needs_them(any_db, settings_factory, clock):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    first, second, third, fourth, fifth = (make_mail(subject=f"Printer {n} jammed", sender=f"user{n}@example.org")
                                           for n in range(5))
    reply = make_mail(subject="Re: Printer 0 jammed", sender="user0@example.org", In_Reply_To=first["Message-ID"])
    with savepoints_seen(any_db) as seen:
        clean = await ingestor.ingest_many(history(first, second), batch=2)
    assert [o.status for o in clean] == ["stored", "stored"] and seen == []

    with savepoints_seen(any_db) as seen:  # a duplicate in the middle: the batch again, a savepoint a mail
        mixed = await ingestor.ingest_many(history(third, first, reply), batch=3)
    assert [o.status for o in mixed] == ["stored", "duplicate", "stored"]
    assert mixed[2].ticket_id == clean[0].ticket_id and not mixed[2].new_ticket
    assert len(seen) >= 3

    with savepoints_seen(any_db) as seen:  # the batch after one with a duplicate keeps them, and stores all
        await ingestor.ingest_many(history(fourth), batch=1)
    assert len(seen) == 1
    with savepoints_seen(any_db) as seen:  # ... and the next one goes without
        await ingestor.ingest_many(history(fifth), batch=1)
    assert seen == []

    async with any_db.transaction() as session:
        stats = await repo.stats(session)
        subjects = (await session.scalars(select(Message.subject).order_by(Message.id))).all()
        tickets = await session.scalar(select(func.count()).select_from(Ticket))
        blobs = await session.scalar(select(func.count()).select_from(Blob))
    assert subjects == ["Printer 0 jammed", "Printer 1 jammed", "Printer 2 jammed", "Re: Printer 0 jammed",
                        "Printer 3 jammed", "Printer 4 jammed"]
    assert tickets == 5 and blobs == 6 and stats["duplicates"] == 1


def live(*mails) -> list[Incoming]:
    return [Incoming(mail.as_bytes(), "smtp", "customer@example.org") for mail in mails]


async def test_live_batches_too_and_a_redone_batch_sends_each_mail_once(any_db, settings_factory, clock):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    first, second, third = (make_mail(subject=f"Scanner {n} offline", sender=f"user{n}@example.org") for n in range(3))
    with savepoints_seen(any_db) as seen:
        clean = await ingestor.ingest_many(live(first, second), batch=2)
    assert [o.status for o in clean] == ["stored", "stored"] and seen == []

    with savepoints_seen(any_db) as seen:  # a copy of the first: rolled back and stored again, a savepoint a mail
        mixed = await ingestor.ingest_many(live(third, first), batch=2)
    assert [o.status for o in mixed] == ["stored", "duplicate"] and mixed[0].new_ticket and len(seen) >= 2

    async with any_db.transaction() as session:
        sent = (await session.execute(select(Outbox.ticket_id, Outbox.template, Outbox.recipient))).all()
        stats = await repo.stats(session)
    tickets = {o.ticket_id for o in clean + mixed[:1]}
    assert len(tickets) == 3 and {ticket for ticket, _, _ in sent} == tickets
    assert len(sent) == len(set(sent))  # the rolled-back run's acknowledgement and announcement are gone
    assert sum(template == "customer/ack" for _, template, _ in sent) == 3
    assert stats["duplicates"] == 1

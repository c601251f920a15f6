"""A drain whose mail is prepared in worker processes stores what one preparing on a thread stores, in order."""
from __future__ import annotations

from sqlalchemy import select

from gateway.ingest import LARGE, Incoming, Ingestor
from gateway.store.db import Database
from gateway.store.migrate import upgrade
from gateway.store.models import Outbox, QuarantineEntry, Ticket
from tests.conftest import DATA
from tests.integration.serving import make_mail


def mails() -> list[Incoming]:
    """Human and nasty mail, a mail of more than LARGE bytes, and replies right behind their parents: one
    in the parent's batch, one in the batch after (prepared ahead, while the parent's batch is stored)."""
    raws = [path.read_bytes() for path in sorted((DATA / "human").glob("*.eml"))[:6]]
    raws += [path.read_bytes() for path in sorted((DATA / "nasty").rglob("*.eml"))[:4]]
    first, second = make_mail(subject="VPN down"), make_mail(subject="Laptop will not boot")
    raws[6:6] = [first.as_bytes(), make_mail(subject="Re: VPN down", In_Reply_To=first["Message-ID"]).as_bytes(),
                 second.as_bytes(), make_mail(subject="Re: Laptop", References=second["Message-ID"]).as_bytes()]
    raws.insert(3, make_mail(subject="Log files", body="error 500 in the log\n" * (LARGE // 20)).as_bytes())
    return [Incoming(raw, "test", "customer@example.org", ("ihelp@example.com",)) for raw in raws]


async def stored(db: Database) -> tuple:
    async with db.transaction() as session:
        tickets = (await session.execute(select(Ticket.id, Ticket.subject, Ticket.category, Ticket.priority,
                                                Ticket.level, Ticket.status).order_by(Ticket.id))).all()
        outbox = (await session.execute(select(Outbox.ticket_id, Outbox.template, Outbox.recipient)
                                        .order_by(Outbox.id))).all()
        held = (await session.execute(select(QuarantineEntry.raw_sha256, QuarantineEntry.reason)
                                      .order_by(QuarantineEntry.id))).all()
    return [tuple(row) for row in tickets], [tuple(row) for row in outbox], [tuple(row) for row in held]


async def drained(settings, db: Database, clock, items: list[Incoming], processes: int) -> tuple[list, tuple]:
    ingestor = Ingestor(settings=settings, db=db, clock=clock, processes=processes)
    try:
        ids = await ingestor.accept_many(items)
        done = await ingestor.drain()
    finally:
        ingestor.close()
    return [done[spool_id] for spool_id in ids], await stored(db)


async def test_worker_processes_store_what_the_thread_stores(any_db, settings_factory, clock, tmp_path):
    settings, items = settings_factory(), mails()
    reference = Database(f"sqlite+aiosqlite:///{tmp_path}/threads.db")
    await upgrade(reference)
    try:
        expected = await drained(settings, reference, clock, items, processes=0)
    finally:
        await reference.dispose()
    outcomes, rows = await drained(settings, any_db, clock, items, processes=2)
    assert (outcomes, rows) == expected
    replies = [outcome for outcome in outcomes if not outcome.new_ticket and outcome.status == "stored"]
    assert len(replies) >= 2 and all(outcome.reason.startswith("references") for outcome in replies)

"""ingest() on SQLite and on PostgreSQL: tickets, threading, dedupe, quarantine and its retry."""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from gateway.ingest import Incoming, Ingestor
from gateway.quarantine import retry
from gateway.store import repo
from gateway.store.models import Blob, Outbox, Participant, Ticket
from tests.conftest import DATA
from tests.integration.serving import make_mail


def ingestor_for(settings_factory, db, clock, **kwargs) -> Ingestor:
    return Ingestor(settings=settings_factory(), db=db, clock=clock, **kwargs)


async def counts(db) -> dict:
    async with db.transaction() as session:
        return await repo.stats(session)


async def test_ticket_reply_and_duplicate(any_db, settings_factory, clock):
    ingestor = ingestor_for(settings_factory, any_db, clock)
    first = make_mail(subject="Database server down", body="The ERP database server is down for everyone.")
    outcome = await ingestor.ingest(first.as_bytes(), source="test", envelope_from="customer@example.org")
    assert outcome.status == "stored" and outcome.new_ticket and outcome.ticket_ref == "HD-1"
    async with any_db.transaction() as session:
        ticket = (await repo.list_tickets(session, prefix="HD"))["tickets"][0]
        ack_id = await session.scalar(select(Outbox.message_id).where(Outbox.template == "customer/ack"))
    assert ticket["priority"] == "urgent" and ticket["level"] == 3
    reply = make_mail(subject="Re: Database server down", In_Reply_To=f"<{ack_id}>")
    outcome = await ingestor.ingest(reply.as_bytes(), source="test")
    assert outcome.status == "stored" and not outcome.new_ticket and outcome.ticket_id == 1
    assert outcome.reason.startswith("references")
    again = await ingestor.ingest(first.as_bytes(), source="test")
    assert again.status == "duplicate"
    data = await counts(any_db)
    assert (data["tickets"], data["messages_in"], data["duplicates"]) == (1, 2, 1)


async def test_a_new_ticket_goes_in_with_its_people_once_and_its_sla_clocks(any_db, settings_factory, clock):
    ingestor = ingestor_for(settings_factory, any_db, clock)
    mail = make_mail(subject="Printer jams", Cc="Customer@Example.org, colleague@example.org, colleague@example.org, "
                                               "noreply@vendor.example")
    outcome = await ingestor.ingest(mail.as_bytes(), source="test")
    async with any_db.transaction() as session:
        people = {(p.address, p.role) for p in (await session.scalars(select(Participant))).all()}
        ticket = await session.get(Ticket, outcome.ticket_id)
    assert people == {("customer@example.org", "requester"), ("colleague@example.org", "cc")}
    assert ticket.first_response_due is not None and ticket.resolution_due is not None
    assert ticket.sla_check_at is not None and ticket.sla_fired == 0


async def test_concurrent_copies_of_one_mail_store_once(any_db, settings_factory, clock):
    ingestor = ingestor_for(settings_factory, any_db, clock)
    raw = make_mail(subject="Sent by three relays").as_bytes()
    outcomes = await asyncio.gather(*(ingestor.ingest(raw, source="test") for _ in range(5)))
    assert sorted(o.status for o in outcomes) == ["duplicate"] * 4 + ["stored"]
    assert (await counts(any_db))["messages_in"] == 1


async def test_nasty_mails_never_raise(any_db, settings_factory, clock):
    ingestor = ingestor_for(settings_factory, any_db, clock)
    files = sorted((DATA / "nasty").rglob("*.eml"))
    for path in files:
        outcome = await ingestor.ingest(path.read_bytes(), source="test")
        assert outcome.status in ("stored", "quarantined", "duplicate"), path.name
    data = await counts(any_db)
    assert data["messages_in"] + data["quarantined"] + data["duplicates"] == len(files)
    assert data["quarantined"] >= 2  # the unusable ones
    assert sum(data["quarantined_by_reason"].values()) == data["quarantined"]
    assert all(":" not in reason for reason in data["quarantined_by_reason"])  # kinds, not whole reasons


async def test_quarantine_keeps_raw_and_retry_releases(any_db, settings_factory, clock):
    strict = Ingestor(settings=settings_factory(limits={"max_parts": 1}), db=any_db, clock=clock)
    mail = make_mail(subject="With an attachment")
    mail.add_attachment(b"%PDF-1.4 data", maintype="application", subtype="pdf", filename="report.pdf")
    raw = mail.as_bytes()
    outcome = await strict.ingest(raw, source="test")
    assert outcome.status == "quarantined" and "too many MIME parts" in outcome.reason
    assert (await strict.ingest(raw, source="test")).status == "quarantined"
    async with any_db.transaction() as session:
        [held] = await repo.list_quarantine(session)
        assert await session.scalar(select(Blob.data).where(Blob.sha256 == held["sha256"])) == raw
    lenient = ingestor_for(settings_factory, any_db, clock)
    released = await retry(lenient, held["id"])
    assert released.status == "stored" and released.ticket_ref == "HD-1"
    async with any_db.transaction() as session:
        assert await repo.list_quarantine(session) == []
        assert (await repo.list_quarantine(session, status="released"))[0]["ticket_id"] == 1
        assert await session.scalar(select(func.count()).select_from(Blob)) == 2  # mail + attachment


async def test_a_new_ticket_needs_no_flush(db, settings_factory, clock):
    """Opening a ticket writes it with a plain INSERT (record.insert_ticket); nothing after that leaves it
    changed, so no statement's autoflush has work (a flush without changes still cost about a quarter of a
    millisecond, and the ORM flush of the ticket about as much as the rest of the step)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    await ingestor.ingest(make_mail(subject="Warm-up").as_bytes(), source="test", envelope_from="customer@example.org")
    flushed = []

    def before_flush(session, context, instances):
        flushed.append(sorted(type(o).__name__ for o in [*session.new, *session.dirty]))

    event.listen(Session, "before_flush", before_flush)
    try:
        outcome = await ingestor.ingest(make_mail(subject="Printer on fire").as_bytes(), source="test",
                                        envelope_from="customer@example.org")
    finally:
        event.remove(Session, "before_flush", before_flush)
    assert outcome.new_ticket
    assert flushed == []


async def test_caps_hold_exactly_for_mail_of_one_batch(any_db, settings_factory, clock):
    """Drained in one transaction: four mails of one sender (hourly cap 3) and three of others, global cap 5."""
    settings = settings_factory(loopguard={"max_auto_replies_per_hour": 3, "max_auto_mail_per_hour": 5})
    ingestor = Ingestor(settings=settings, db=any_db, clock=clock)
    senders = ["customer@example.org"] * 4 + ["a@client.example", "b@client.example", "c@client.example"]
    outcomes = await ingestor.ingest_many(
        [Incoming(make_mail(subject=f"Problem {n}", sender=sender).as_bytes(), "test", sender)
         for n, sender in enumerate(senders)], batch=len(senders))
    assert [o.new_ticket for o in outcomes] == [True] * 7
    async with any_db.transaction() as session:
        acks = (await session.scalars(select(Outbox.recipient).where(Outbox.template == "customer/ack")
                                      .order_by(Outbox.id))).all()
    assert acks == ["customer@example.org"] * 3 + ["a@client.example", "b@client.example"]
    assert (await counts(any_db))["held_back_by_reason"] == {"rate limited": 1, "global cap": 1}


async def test_acknowledgements_are_capped_per_sender_per_hour_and_day(any_db, settings_factory, clock):
    settings = settings_factory(loopguard={"max_auto_replies_per_hour": 3, "max_auto_replies_per_day": 4})
    ingestor = Ingestor(settings=settings, db=any_db, clock=clock)

    async def acks() -> int:
        async with any_db.transaction() as session:
            return await session.scalar(select(func.count()).select_from(Outbox).where(
                Outbox.template == "customer/ack", Outbox.recipient == "customer@example.org"))

    for n in range(5):
        await ingestor.ingest(make_mail(subject=f"Problem {n}").as_bytes(), source="test",
                              envelope_from="customer@example.org")
    assert await acks() == 3  # the hourly cap
    clock.advance(hours=2)
    for n in range(5, 8):
        await ingestor.ingest(make_mail(subject=f"Problem {n}").as_bytes(), source="test",
                              envelope_from="customer@example.org")
    assert await acks() == 4  # the daily cap
    data = await counts(any_db)
    assert (data["tickets"], data["loop_guarded"], data["rate_limited"]) == (8, 0, 4)
    assert data["held_back_by_reason"] == {"rate limited": 4}

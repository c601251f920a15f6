"""Dedupe by Message-ID on SQLite and PostgreSQL: a copy by another path is one ticket, noted on it."""
from __future__ import annotations

from sqlalchemy import func, select, update

from gateway.ingest import Ingestor
from gateway.store.blobs import get_blob, sha256_hex
from gateway.store.models import Event, Message, Outbox, Ticket
from tests.integration.serving import make_mail


def ingestor_for(settings_factory, db, clock) -> Ingestor:
    return Ingestor(settings=settings_factory(), db=db, clock=clock)


def received(raw: bytes, host: str) -> bytes:
    return f"Received: from {host} by mx.example.com; Mon, 5 Jan 2026 09:00:00 +0000\r\n".encode() + raw


def with_id(mail, message_id: str):
    mail.replace_header("Message-ID", message_id)
    return mail


async def totals(db) -> tuple[int, int, int]:
    async with db.transaction() as session:
        return (await session.scalar(select(func.count()).select_from(Ticket)),
                await session.scalar(select(func.count()).where(Message.direction == "in")),
                await session.scalar(select(func.count()).select_from(Outbox)))


async def copy_events(db) -> list[tuple[int, dict]]:
    async with db.transaction() as session:
        rows = (await session.scalars(select(Event).where(Event.kind == "duplicate_copy"))).all()
        return [(e.ticket_id, e.data) for e in rows]


async def test_a_copy_through_another_mailbox_is_one_ticket_and_noted(any_db, settings_factory, clock):
    ingestor = ingestor_for(settings_factory, any_db, clock)
    raw = make_mail(subject="Printer jams").as_bytes(policy=make_mail().policy.clone(linesep="\r\n"))
    first = await ingestor.ingest(received(raw, "a.example"), source="imap:support",
                                  envelope_from="customer@example.org")
    copy = received(raw, "b.example")
    second = await ingestor.ingest(copy, source="imap:helpdesk", envelope_from="customer@example.org",
                                   recipients=("helpdesk@example.com",))
    assert (first.status, second.status) == ("stored", "duplicate")
    assert await totals(any_db) == (1, 1, 2)  # one ticket, one message, one ack and one announcement
    async with any_db.transaction() as session:
        message_id = await session.scalar(select(Message.id).where(Message.direction == "in"))
    assert await copy_events(any_db) == [(first.ticket_id, {
        "message": message_id, "source": "imap:helpdesk", "sha256": sha256_hex(copy),
        "envelope_from": "customer@example.org", "recipients": ["helpdesk@example.com"]})]
    async with any_db.transaction() as session:
        assert await get_blob(session, sha256_hex(copy)) == copy  # the copy's own bytes are kept
    assert (await ingestor.ingest(copy, source="imap:helpdesk")).status == "duplicate"  # the same bytes again
    assert len(await copy_events(any_db)) == 2  # each copy that arrives is noted


async def test_the_same_bytes_again_are_a_duplicate_without_a_note(any_db, settings_factory, clock):
    ingestor = ingestor_for(settings_factory, any_db, clock)
    raw = make_mail(subject="Printer jams").as_bytes()
    assert [(await ingestor.ingest(raw, source="smtp")).status for _ in range(2)] == ["stored", "duplicate"]
    assert await copy_events(any_db) == []


async def test_a_reused_message_id_on_another_mail_is_another_ticket(any_db, settings_factory, clock):
    ingestor = ingestor_for(settings_factory, any_db, clock)
    one = with_id(make_mail(subject="Printer jams"), "<reused@app.example>")
    other = with_id(make_mail(subject="Scanner broken", body="The scanner is broken."), "<reused@app.example>")
    outcomes = [await ingestor.ingest(m.as_bytes(), source="smtp") for m in (one, other, other)]
    assert [o.status for o in outcomes] == ["stored", "stored", "duplicate"]
    assert (await totals(any_db))[:2] == (2, 2)


async def test_mail_without_message_id_is_told_apart_by_its_bytes(any_db, settings_factory, clock):
    ingestor = ingestor_for(settings_factory, any_db, clock)
    mail = make_mail(subject="Printer jams")
    del mail["Message-ID"]
    raw = mail.as_bytes()
    outcomes = [await ingestor.ingest(r, source="smtp") for r in (raw, received(raw, "b.example"), raw)]
    assert [o.status for o in outcomes] == ["stored", "stored", "duplicate"]


async def test_rows_stored_with_the_old_key_still_dedupe(any_db, settings_factory, clock):
    """Before, the key was '<Message-ID>|<sha256>': rows keep it, and a copy of them is still found."""
    ingestor = ingestor_for(settings_factory, any_db, clock)
    mail = with_id(make_mail(subject="Printer jams"), "<old-row@client.example>")
    raw = mail.as_bytes()
    assert (await ingestor.ingest(raw, source="smtp")).status == "stored"
    async with any_db.transaction() as session:
        await session.execute(update(Message).where(Message.direction == "in")
                              .values(dedupe_key=f"old-row@client.example|{sha256_hex(raw)}"))
    assert (await ingestor.ingest(raw, source="smtp")).status == "duplicate"
    assert (await ingestor.ingest(received(raw, "b.example"), source="imap:x")).status == "duplicate"
    assert (await totals(any_db))[:2] == (1, 1)

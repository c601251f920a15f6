"""Notifications are composed when sent, not in the drain's transaction: the same mail reaches the relay."""
from __future__ import annotations

import email
from datetime import timedelta
from email import policy

from alembic import command
from sqlalchemy import delete, select, update

from gateway.ingest import Ingestor
from gateway.mail.compose import message_bytes
from gateway.notify.mail_bytes import bytes_of
from gateway.notify.send import DrainResult, OutboxSender, transport_for
from gateway.store.migrate import alembic_config
from gateway.store.models import Message, Outbox
from tests.integration.serving import make_mail

BEFORE = "9b3f5c7e2a41"  # the revision before outbox rows could be written without bytes


async def new_ticket(db, settings, clock, **headers) -> tuple[str, list[Outbox]]:
    """Ingest (spool, then drain) one new customer mail; its Message-ID and the outbox rows it queued."""
    mail = make_mail(subject="Printer on fire", body="It smokes.\n", **headers)
    ingestor = Ingestor(settings=settings, db=db, clock=clock)
    try:
        outcome = await ingestor.ingest(mail.as_bytes(), source="test", envelope_from="customer@example.org")
    finally:
        ingestor.close()
    assert outcome.new_ticket
    return mail["Message-ID"].strip("<>"), await outbox(db)


async def outbox(db) -> list[Outbox]:
    async with db.transaction() as session:
        return list((await session.scalars(select(Outbox).order_by(Outbox.id))).all())


async def expected(db, settings, clock, row: Outbox, parent: str) -> bytes:
    """What message_bytes() makes of the row's parts, read from the outbound Message row, as the drain
    composed it in the same transaction before: the mail the relay must get."""
    async with db.transaction() as session:
        message = await session.scalar(select(Message).where(Message.message_id == row.message_id))
    auto = "auto-replied" if row.template == "customer/ack" else "auto-generated"
    return message_bytes(from_name=settings.helpdesk.name, from_address=settings.outbound.from_address,
                         to=row.recipient, subject=message.subject, text=message.text, html=message.html,
                         message_id=row.message_id, date=clock.now(), in_reply_to=parent, references=[parent],
                         reply_to=row.reply_to, auto_submitted=auto, loop_address=settings.smtp.addresses[0])


async def test_the_drain_stores_no_bytes_and_the_relay_gets_the_whole_mail(db, settings_factory, relay, clock):
    settings = settings_factory(outbound={"mode": "smtp", "host": "127.0.0.1", "port": relay.port})
    parent, rows = await new_ticket(db, settings, clock)
    assert [r.template for r in rows] == ["customer/ack", "level/announce"]
    assert [r.raw for r in rows] == [None, None]  # the drain's transaction composed nothing
    sender = OutboxSender(settings=settings, db=db, clock=clock, transport=transport_for(settings))
    assert await sender.drain_once() == DrainResult(sent=2)
    got = [raw for _, _, raw in relay.messages]
    assert got == [await expected(db, settings, clock, row, parent) for row in rows]
    ack, announce = (email.message_from_bytes(raw, policy=policy.default) for raw in got)
    ticket = rows[0].ticket_id
    assert ack["From"] == "Example Help Desk <ihelp@example.com>" and ack["To"] == "customer@example.org"
    assert ack["Subject"] == f"[HD-{ticket}] Printer on fire"
    assert ack["Message-ID"] == f"<{rows[0].message_id}>" and ack["Date"].datetime == clock.now()
    assert ack["In-Reply-To"] == ack["References"] == f"<{parent}>"
    assert ack["Reply-To"].startswith(f"ihelp+t{ticket}.c.") and ack["Reply-To"] == rows[0].reply_to
    assert (ack["Auto-Submitted"], announce["Auto-Submitted"]) == ("auto-replied", "auto-generated")
    assert ack["X-Loop"] == announce["X-Loop"] == "ihelp@example.com"
    for mail in (ack, announce):
        assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert "It smokes." in announce.get_body(("plain",)).get_content()


async def test_a_row_resent_after_a_crash_is_the_same_file_in_the_maildir(db, settings_factory, clock, tmp_path):
    settings = settings_factory(outbound={"mode": "maildir", "maildir": "outgoing"})
    _, rows = await new_ticket(db, settings, clock)
    sender = OutboxSender(settings=settings, db=db, clock=clock, transport=transport_for(settings))
    assert await sender.drain_once() == DrainResult(sent=2)
    first = {f.name: f.read_bytes() for f in (tmp_path / "outgoing" / "new").iterdir()}
    # The process died after the relay took the mail and before it recorded so: the lease runs out.
    async with db.transaction() as session:
        await session.execute(update(Outbox).values(status="sending", lease_until=clock.now() + timedelta(minutes=1)))
    clock.advance(minutes=2)
    assert await sender.drain_once() == DrainResult(sent=2)
    assert {f.name: f.read_bytes() for f in (tmp_path / "outgoing" / "new").iterdir()} == first
    async with db.transaction() as session:
        assert sorted(first.values()) == sorted(await bytes_of(session, rows))


async def test_a_row_that_has_its_bytes_is_sent_as_it_is(db, settings_factory, relay, clock):
    settings = settings_factory(outbound={"mode": "smtp", "host": "127.0.0.1", "port": relay.port})
    old = b"From: ihelp@example.com\r\nTo: a@example.org\r\nSubject: queued before the upgrade\r\n\r\nHello.\r\n"
    async with db.transaction() as session:
        session.add(Outbox(template="customer/ack", recipient="a@example.org", envelope_from="ihelp@example.com",
                           automatic=True, message_id="old@helpdesk.example.com", raw=old, status="pending",
                           attempts=0, next_attempt_at=clock.now(), created_at=clock.now()))
    sender = OutboxSender(settings=settings, db=db, clock=clock, transport=transport_for(settings))
    assert await sender.drain_once() == DrainResult(sent=1)
    assert relay.messages == [("ihelp@example.com", ["a@example.org"], old)]


async def test_a_row_that_cannot_be_composed_fails_and_its_chunk_still_goes(db, settings_factory, relay, clock):
    settings = settings_factory(outbound={"mode": "smtp", "host": "127.0.0.1", "port": relay.port})
    await new_ticket(db, settings, clock)
    _, rows = await new_ticket(db, settings, clock)
    ack, announce, second_ack, second_announce = rows
    async with db.transaction() as session:  # a recipient that no longer passes; a Message row gone
        await session.execute(update(Outbox).where(Outbox.id == announce.id).values(recipient="jörg@example.com"))
        await session.execute(delete(Message).where(Message.message_id == second_ack.message_id))
    sender = OutboxSender(settings=settings, db=db, clock=clock, transport=transport_for(settings))
    assert await sender.drain_once() == DrainResult(sent=2, failed=2)
    assert [rcpt for _, rcpt, _ in relay.messages] == [[ack.recipient], [second_announce.recipient]]
    after = {r.id: r for r in await outbox(db)}
    assert (after[announce.id].status, after[announce.id].attempts) == ("failed", 1)
    assert "cannot compose" in after[announce.id].last_error and "jörg@example.com" in after[announce.id].last_error
    assert after[second_ack.id].status == "failed"
    assert f"no outbound message <{second_ack.message_id}>" in after[second_ack.id].last_error


async def test_downgrade_composes_what_is_still_to_send_and_upgrade_comes_back(any_db, settings_factory, clock):
    settings = settings_factory()
    _, (ack, announce) = await new_ticket(any_db, settings, clock)
    async with any_db.transaction() as session:
        mail = (await bytes_of(session, [announce]))[0]
        await session.execute(update(Outbox).where(Outbox.id == ack.id).values(status="sent"))
    config = alembic_config(any_db.url)

    def migrate(connection, revision):
        config.attributes["connection"] = connection
        if revision == "head":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)

    async with any_db.engine.begin() as connection:
        await connection.run_sync(migrate, BEFORE)
        # The code before this revision sends raw as it is: the pending row has its mail, the sent one b"".
        raw = dict((await connection.exec_driver_sql("SELECT id, raw FROM outbox")).all())
        assert {key: bytes(value) for key, value in raw.items()} == {ack.id: b"", announce.id: mail}
        await connection.run_sync(migrate, "head")
    [after] = [r for r in await outbox(any_db) if r.id == announce.id]
    assert (after.status, after.raw, after.reply_to) == ("pending", mail, None)

"""The outbox against a real SMTP relay (aiosmtpd capture relay), a maildir, and concurrent senders."""
from __future__ import annotations

import asyncio
import email
from datetime import timedelta
from email import policy

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from gateway.clock import utc
from gateway.notify.mail_bytes import bytes_of
from gateway.notify.outbox import Notifier
from gateway.notify.render import Renderer
from gateway.notify.send import (DrainResult, MaildirTransport, OutboxSender, SmtpTransport, TransientSendError,
                                 transport_for)
from gateway.store.models import Outbox, Ticket

MESSAGE = {"from_addr": "bob@customer.example", "from_name": "Bob", "subject": "Printer on fire",
           "text": "It smokes.", "new_text": "It smokes.", "more_text_lines": 0, "more_new_text_lines": 0, "html": None, "attachments": []}


async def add_ticket(db, clock) -> Ticket:
    now = clock.now()
    async with db.transaction() as session:
        ticket = Ticket(subject="Printer on fire", requester="bob@customer.example", requester_name="Bob",
                        category="bug", priority="high", level=1, reply_token="k3x9q2ab", created_at=now,
                        updated_at=now, last_activity_at=now)
        session.add(ticket)
        await session.flush()
    return ticket


async def new_ticket_mail(db, settings, clock, staff=("frontdesk@example.com", "alice@example.com")) -> list[Outbox]:
    """What a new ticket queues: the customer's acknowledgement and the level announcement."""
    ticket = await add_ticket(db, clock)
    notifier = Notifier(settings=settings, clock=clock, renderer=Renderer())
    context = {"level": settings.level(1), "message": MESSAGE, "reasons": ["keyword 'fire' → bug"]}
    async with db.transaction() as session:
        ack = await notifier.enqueue(session, ticket=ticket, template="customer/ack",
                                     recipients=["bob@customer.example"],
                                     context=context, automatic=True, in_reply_to="orig@customer.example",
                                     references=["orig@customer.example"])
        announce = await notifier.enqueue(session, ticket=ticket, template="level/announce", recipients=staff,
                                          context=context, automatic=False, in_reply_to="orig@customer.example")
    return ack + announce


async def mails(db, rows: list[Outbox]) -> list[bytes]:
    async with db.transaction() as session:
        return await bytes_of(session, rows)


async def stored(db) -> list[Outbox]:
    async with db.transaction() as session:
        return list((await session.scalars(select(Outbox).order_by(Outbox.id))).all())


@pytest.fixture
def smtp_settings(settings_factory, relay):
    return settings_factory(outbound={"mode": "smtp", "host": "127.0.0.1", "port": relay.port,
                                      "timeout_seconds": 5, "backoff_seconds": 60, "max_attempts": 5})


@pytest.fixture
def sender(smtp_settings, db, clock):
    return OutboxSender(settings=smtp_settings, db=db, clock=clock, transport=transport_for(smtp_settings))


def test_transport_for_follows_the_mode(settings_factory, tmp_path):
    assert isinstance(transport_for(settings_factory(outbound={"mode": "smtp"})), SmtpTransport)
    maildir = transport_for(settings_factory(outbound={"mode": "maildir", "maildir": "spool/out"}))
    assert isinstance(maildir, MaildirTransport) and maildir.path == tmp_path / "spool" / "out"


async def test_three_rows_reach_the_relay_with_their_headers(db, smtp_settings, sender, relay, clock):
    rows = await new_ticket_mail(db, smtp_settings, clock)
    assert await sender.drain_once() == DrainResult(sent=3)
    assert [(frm, rcpt) for frm, rcpt, _ in relay.messages] == [
        ("ihelp@example.com", ["bob@customer.example"]),
        ("ihelp@example.com", ["frontdesk@example.com"]),
        ("ihelp@example.com", ["alice@example.com"]),
    ]
    ticket_id = rows[0].ticket_id
    mails = relay.parsed()
    assert [m["Message-ID"] for m in mails] == [f"<{r.message_id}>" for r in rows]
    assert [m["Auto-Submitted"] for m in mails] == ["auto-replied", "auto-generated", "auto-generated"]
    assert mails[0]["Subject"] == f"[HD-{ticket_id}] Printer on fire"
    assert mails[1]["Subject"] == f"[HD-{ticket_id}] New high bug: Printer on fire"
    # One token each, signed for its recipient: the customer's, level 1's list's, an engineer's.
    assert [m["Reply-To"].split(".")[1] for m in mails] == ["c", "l1", "e"]
    for mail in mails:
        assert mail["Reply-To"].startswith(f"ihelp+t{ticket_id}.")
        assert mail["X-Loop"] == "ihelp@example.com"
        assert mail["X-Auto-Response-Suppress"] == "All"
        assert mail["In-Reply-To"] == "<orig@customer.example>"
        assert mail["From"] == "Example Help Desk <ihelp@example.com>"
    assert [r.status for r in await stored(db)] == ["sent"] * 3


async def test_relay_outage_backs_off_then_delivers_each_once(db, smtp_settings, sender, relay, clock):
    rows = await new_ticket_mail(db, smtp_settings, clock)
    relay.stop()
    assert await sender.drain_once() == DrainResult(retried=3)
    first = await stored(db)
    assert all(r.status == "pending" and r.attempts == 1 and "unreachable" in r.last_error for r in first)
    for row in first:
        assert clock.now() + timedelta(seconds=48) <= utc(row.next_attempt_at) <= clock.now() + timedelta(seconds=72)
    assert await sender.drain_once() == DrainResult()  # nothing due before the backoff ends
    clock.advance(seconds=73)
    assert await sender.drain_once() == DrainResult(retried=3)
    second = await stored(db)
    assert [r.attempts for r in second] == [2, 2, 2]
    for row in second:  # doubled: 120 s ± 20%
        assert clock.now() + timedelta(seconds=96) <= utc(row.next_attempt_at) <= clock.now() + timedelta(seconds=144)
    relay.start()
    clock.advance(seconds=145)
    assert await sender.drain_once() == DrainResult(sent=3)
    assert await sender.drain_once() == DrainResult()
    assert len(relay.messages) == 3
    by_id = {m["Message-ID"]: raw for m, (_, _, raw) in zip(relay.parsed(), relay.messages)}
    # The very same mails, byte for byte: composed anew for each attempt, the same each time.
    assert by_id == {f"<{r.message_id}>": mail for r, mail in zip(rows, await mails(db, rows))}
    assert [(r.status, r.attempts) for r in await stored(db)] == [("sent", 2)] * 3


async def test_rejected_recipient_fails_permanently(db, smtp_settings, sender, relay, clock):
    await new_ticket_mail(db, smtp_settings, clock, staff=("reject-me@example.com", "alice@example.com"))
    assert await sender.drain_once() == DrainResult(sent=2, failed=1)
    rejected = [r for r in await stored(db) if r.recipient == "reject-me@example.com"]
    assert [(r.status, r.attempts) for r in rejected] == [("failed", 1)]
    assert "550" in rejected[0].last_error and "reject-me@example.com" in rejected[0].last_error
    assert [rcpt for _, rcpt, _ in relay.messages] == [["bob@customer.example"], ["alice@example.com"]]


async def test_row_left_sending_by_a_dead_sender_is_resent_once(db, smtp_settings, sender, relay, clock):
    rows = await new_ticket_mail(db, smtp_settings, clock, staff=())
    async with db.transaction() as session:  # a sender claimed it, then the process died
        await session.execute(update(Outbox).where(Outbox.id == rows[0].id).values(
            status="sending", lease_until=clock.now() + timedelta(minutes=5)))
    assert await sender.drain_once() == DrainResult()  # lease still held
    clock.advance(minutes=5, seconds=1)
    assert await sender.drain_once() == DrainResult(sent=1)
    assert await sender.drain_once() == DrainResult()
    assert len(relay.messages) == 1
    assert relay.parsed()[0]["Message-ID"] == f"<{rows[0].message_id}>"


async def test_wrong_login_is_transient_and_never_logs_the_password(smtp_settings, caplog):
    config = smtp_settings.outbound.model_copy(update={"username": "gw", "password": SecretStr("s3cret-pw")})
    with pytest.raises(TransientSendError) as caught:  # the capture relay offers no AUTH at all
        await SmtpTransport(config).send(envelope_from="ihelp@example.com", recipient="a@example.com", raw=b"x")
    assert "s3cret-pw" not in str(caught.value) and "s3cret-pw" not in caplog.text


async def test_maildir_mode_writes_mails_that_parse_back(db, settings_factory, clock, tmp_path):
    settings = settings_factory(outbound={"mode": "maildir", "maildir": "outgoing"})
    rows = await new_ticket_mail(db, settings, clock)
    sender = OutboxSender(settings=settings, db=db, clock=clock, transport=transport_for(settings))
    assert await sender.drain_once() == DrainResult(sent=3)
    files = sorted((tmp_path / "outgoing" / "new").iterdir())
    assert len(files) == 3 and all(f.name.endswith(".eml") for f in files)
    mails = {m["Message-ID"]: m for m in (email.message_from_bytes(f.read_bytes(), policy=policy.default)
                                          for f in files)}
    assert set(mails) == {f"<{r.message_id}>" for r in rows}
    for row in rows:
        mail = mails[f"<{row.message_id}>"]
        assert mail["To"] == row.recipient
        assert mail.get_body(("plain",)).get_content().strip()


async def test_concurrent_senders_claim_each_row_once(any_db, settings_factory, clock):
    settings = settings_factory()
    ticket = await add_ticket(any_db, clock)
    notifier = Notifier(settings=settings, clock=clock, renderer=Renderer())
    recipients = [f"u{i}@staff.example" for i in range(24)]
    context = {"level": settings.level(1), "message": MESSAGE, "reasons": []}
    async with any_db.transaction() as session:
        await notifier.enqueue(session, ticket=ticket, template="level/announce", recipients=recipients,
                               context=context, automatic=False)
    sent: list[str] = []

    class SlowTransport:
        async def send(self, *, envelope_from, recipient, raw):
            await asyncio.sleep(0.005)  # other senders claim while this one is "on the wire"
            sent.append(recipient)

    senders = [OutboxSender(settings=settings, db=any_db, clock=clock, transport=SlowTransport()) for _ in range(4)]
    results = await asyncio.gather(*(s.drain_once() for s in senders))
    assert sum(r.sent for r in results) == 24
    assert sorted(sent) == sorted(recipients)
    assert all(r.status == "sent" for r in await stored(any_db))

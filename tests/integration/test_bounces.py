"""Bounces through ingest, on SQLite and PostgreSQL: attached to the ticket whose mail bounced, recorded
as an event, never answered, and a permanent failure stops automatic mail to the address for a while."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import select

from gateway.ingest import Ingestor
from gateway.store import repo
from gateway.store.models import Event, Message, Outbox, Participant, Suppression, Ticket
from tests.conftest import DATA, free_port
from tests.integration.serving import make_mail

# Each sample returns one of our acknowledgements, <ack-NN@helpdesk.example.com>, and names the address
# that failed; see tests/unit/mail/test_bounce.py for the parse itself.
SAMPLES = [
    ("postfix-dsn.eml", "ack-20@helpdesk.example.com", "nobody@customer.example.org", True),
    ("delayed-dsn.eml", "ack-21@helpdesk.example.com", "slow@customer.example.org", False),
    ("exchange-ndr.eml", "ack-24@helpdesk.example.com", "left.company@corp.example.net", True),
    ("gmail-delivery-failure.eml", "ack-25@helpdesk.example.com", "typo@gmial.example.com", True),
    ("exim-bounce.eml", "ack-22@helpdesk.example.com", "gone@oldcompany.example.net", True),
    ("qmail-failure-notice.eml", "ack-23@helpdesk.example.com", "olduser@isp.example.com", True),
]


async def open_ticket(ingestor: Ingestor, db, sender: str, *, our_message_id: str | None = None) -> int:
    """A ticket from `sender`; optionally record one of our outbound mails on it under `our_message_id`."""
    outcome = await ingestor.ingest(make_mail(sender=sender, subject=f"Help for {sender}").as_bytes(),
                                    source="test", envelope_from=sender)
    if our_message_id:
        async with db.transaction() as session:
            ack = await session.scalar(select(Message).where(Message.ticket_id == outcome.ticket_id,
                                                             Message.direction == "out",
                                                             Message.source == "outbox:customer/ack"))
            ack.message_id = our_message_id
    return outcome.ticket_id


async def outbox_to(db, address: str, template: str | None = None) -> list[Outbox]:
    async with db.transaction() as session:
        query = select(Outbox).where(Outbox.recipient == address)
        if template:
            query = query.where(Outbox.template == template)
        return list((await session.scalars(query)).all())


@pytest.mark.parametrize(("name", "original", "failed", "permanent"), SAMPLES)
async def test_real_bounce_formats_join_their_ticket(any_db, settings_factory, clock, name, original, failed,
                                                     permanent):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    ticket_id = await open_ticket(ingestor, any_db, failed, our_message_id=original)
    raw = (DATA / "auto" / name).read_bytes()

    outcome = await ingestor.ingest(raw, source="test", envelope_from="")

    assert outcome.status == "stored" and not outcome.new_ticket and outcome.ticket_id == ticket_id
    assert outcome.reason == f"bounce of our mail <{original}>"
    async with any_db.transaction() as session:
        [event] = (await session.scalars(select(Event).where(Event.kind == "bounce"))).all()
        suppression = await session.get(Suppression, failed)
        bounce_message = await session.scalar(select(Message).where(Message.direction == "in",
                                                                    Message.ticket_id == ticket_id,
                                                                    Message.auto_reason.is_not(None)))
        senders = {p.address for p in (await session.scalars(select(Participant))).all()}
        data = await repo.stats(session)
    assert event.ticket_id == ticket_id and event.data["recipients"] == [failed]
    assert event.data["permanent"] is permanent and event.data["delayed"] is (not permanent)
    assert bounce_message is not None  # kept on the ticket, whole raw bytes by hash
    assert (suppression is not None) is permanent
    assert senders == {failed}  # the mailer daemon takes no part in the ticket
    # Nothing answers the bounce: the only mail out is the ticket's own acknowledgement and announcement.
    assert [row.template for row in await outbox_to(any_db, failed)] == ["customer/ack"]
    assert data["bounces_by_kind"] == {"permanent" if permanent else "delayed": 1}
    assert data["loop_guarded"] == 1 and data["tickets"] == 1


async def test_permanent_bounce_stops_automatic_mail_for_the_configured_days(any_db, settings_factory, clock):
    settings = settings_factory(loopguard={"suppress_days": 30})
    ingestor = Ingestor(settings=settings, db=any_db, clock=clock)
    address = "nobody@customer.example.org"
    await open_ticket(ingestor, any_db, address, our_message_id="ack-20@helpdesk.example.com")
    await ingestor.ingest((DATA / "auto" / "postfix-dsn.eml").read_bytes(), source="test", envelope_from="")

    clock.advance(days=1)
    second = await ingestor.ingest(make_mail(sender=address, subject="Still broken").as_bytes(), source="test",
                                   envelope_from=address)
    assert second.new_ticket
    assert len(await outbox_to(any_db, address, "customer/ack")) == 1  # no ack for the second ticket
    async with any_db.transaction() as session:
        data = await repo.stats(session)
    assert data["suppressed"] == 1 and data["held_back_by_reason"] == {"suppressed": 1}

    clock.advance(days=30)
    third = await ingestor.ingest(make_mail(sender=address, subject="Working mailbox again").as_bytes(),
                                  source="test", envelope_from=address)
    assert third.new_ticket
    assert len(await outbox_to(any_db, address, "customer/ack")) == 2  # suppression over: answered again


async def test_delayed_notice_is_recorded_and_not_acted_on(any_db, settings_factory, clock):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    address = "slow@customer.example.org"
    await open_ticket(ingestor, any_db, address, our_message_id="ack-21@helpdesk.example.com")
    await ingestor.ingest((DATA / "auto" / "delayed-dsn.eml").read_bytes(), source="test", envelope_from="")
    await ingestor.ingest(make_mail(sender=address, subject="Another one").as_bytes(), source="test",
                          envelope_from=address)
    assert len(await outbox_to(any_db, address, "customer/ack")) == 2
    async with any_db.transaction() as session:
        assert await session.get(Suppression, address) is None


async def test_bounce_about_mail_we_never_sent_suppresses_nobody(any_db, settings_factory, clock):
    """Backscatter (a forged sender) names mail that is not ours: kept, counted, no address suppressed."""
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    outcome = await ingestor.ingest((DATA / "auto" / "postfix-dsn.eml").read_bytes(), source="test",
                                    envelope_from="")
    assert outcome.status == "stored"
    async with any_db.transaction() as session:
        assert (await session.scalars(select(Suppression))).all() == []
        data = await repo.stats(session)
    assert data["bounces_unmatched"] == 1 and data["bounces_by_kind"] == {"permanent": 1}
    assert await outbox_to(any_db, "nobody@customer.example.org") == []


async def test_noreply_and_own_addresses_in_cc_are_never_written_to(any_db, settings_factory, clock):
    settings = settings_factory()
    ingestor = Ingestor(settings=settings, db=any_db, clock=clock)
    mail = make_mail(subject="Please help", Cc="noreply@vendor.example, ihelp+t9.x@example.com, "
                                              "MAILER-DAEMON@relay.example, colleague@example.org")
    outcome = await ingestor.ingest(mail.as_bytes(), source="test", envelope_from="customer@example.org")
    async with any_db.transaction() as session:
        participants = {p.address for p in (await session.scalars(select(Participant))).all()}
        ticket = await session.get(Ticket, outcome.ticket_id)
        rows = await ingestor.notifier.enqueue(
            session, ticket=ticket, template="customer/reply", automatic=False, context={"text": "Fixed."},
            recipients=["noreply@vendor.example", "ihelp+t9.x@example.com", "mailer-daemon@relay.example",
                        "no-reply-alerts@vendor.example", "colleague@example.org"])
    assert participants == {"customer@example.org", "colleague@example.org"}
    assert [row.recipient for row in rows] == ["colleague@example.org"]
    async with any_db.transaction() as session:
        data = await repo.stats(session)
    assert data["held_back_by_reason"] == {"no-reply address": 2, "own address": 1, "daemon address": 1}


def dsn_for(original_id: str, failed: str) -> bytes:
    """A minimal RFC 3464 report, as Postfix writes it, returning our mail `original_id`."""
    return (f"From: MAILER-DAEMON@mx.customer.example.org\r\nTo: ihelp@example.com\r\n"
            f"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-{original_id}>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
            f"--b\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
            f"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example.org\r\n\r\n"
            f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
            f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{original_id}>\r\n"
            f"Subject: [HD-1] We received your request\r\n\r\n--b--\r\n").encode()


def test_operator_lists_and_lifts_suppressions(tmp_path):
    config = tmp_path / "config.toml"
    # A port nothing listens on: `gateway ingest` hands mail to a serve it finds there (another one's database).
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/gw.db"\n'
                      f'[smtp]\nport = {free_port()}\n[outbound]\nmaildir = "{tmp_path}/out"\n')

    def gateway(*args, stdin=b""):
        return subprocess.run([sys.executable, "-m", "gateway.cli", "--config", str(config), *args],
                              input=stdin, capture_output=True, timeout=60)

    assert gateway("db", "upgrade").returncode == 0
    assert gateway("ingest", "--sender", "gone@customer.example.org",
                   stdin=make_mail(sender="gone@customer.example.org").as_bytes()).returncode == 0
    assert gateway("ingest", "--drain").returncode == 0  # no serve runs: the pipe only spooled it
    shown = json.loads(gateway("tickets", "show", "HD-1", "--json").stdout)
    [ack_id] = [m["message_id"] for m in shown["messages"] if m["to"] == ["gone@customer.example.org"]]
    assert gateway("ingest", "--sender", "", stdin=dsn_for(ack_id, "gone@customer.example.org")).returncode == 0
    assert gateway("ingest", "--drain").returncode == 0

    listed = json.loads(gateway("suppressions", "list", "--json").stdout)
    assert [(s["address"], s["ticket_id"], s["bounces"]) for s in listed] == [("gone@customer.example.org", 1, 1)]
    events = json.loads(gateway("tickets", "show", "HD-1", "--json").stdout)["events"]
    assert any(e["kind"] == "bounce" and e["data"]["permanent"] for e in events)
    lifted = gateway("suppressions", "lift", "Gone@Customer.example.org")
    assert lifted.returncode == 0, lifted.stderr
    assert json.loads(gateway("suppressions", "list", "--json").stdout) == []
    missing = gateway("suppressions", "lift", "nobody@example.org")
    assert missing.returncode == 1 and b"is not suppressed" in missing.stderr

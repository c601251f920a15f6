"""End to end over real SMTP: listener → ingest → outbox → capture relay."""
from __future__ import annotations

import asyncio
import contextlib
import smtplib

import pytest
from sqlalchemy import func, select

from gateway.store import repo
from gateway.store.models import Message, Outbox, Ticket
from tests.integration.serving import asend, make_mail, start, stats, wait_for
from tests.conftest import DATA, free_port


@pytest.fixture
async def gw(settings_factory, relay):
    settings = settings_factory(smtp={"port": free_port()},
                                outbound={"mode": "smtp", "port": relay.port, "poll_seconds": 0.05,
                                          "backoff_seconds": 0.2, "backoff_max_seconds": 0.5})
    running = await start(settings)
    yield running
    await running.shutdown()


async def tickets(running) -> list[dict]:
    await running.drained()
    db = running.database()
    try:
        async with db.transaction() as session:
            return (await repo.list_tickets(session, prefix="HD"))["tickets"]
    finally:
        await db.dispose()


def by_recipient(relay, address):
    return [m for m in relay.parsed() if address in m["To"]]


async def test_new_mail_becomes_ticket_with_one_ack_and_one_announcement(gw, relay):
    mail = make_mail(subject="Invoice report crashes", body="It fails with error 500 since this morning.")
    code, text = await asend(gw.port, mail)
    assert code == 250 and b"OK queued as 1" in text  # spooled; the ticket number comes with the ack
    await wait_for(lambda: len(relay.messages) >= 2)
    [ticket] = await tickets(gw)
    assert ticket["category"] == "bug" and ticket["status"] == "open" and ticket["level"] == 1
    acks = by_recipient(relay, "customer@example.org")
    announcements = by_recipient(relay, "frontdesk@example.com")
    assert len(acks) == 1 and len(announcements) == 1 and len(relay.messages) == 2
    ack = acks[0]
    assert ack["Subject"] == "[HD-1] Invoice report crashes"
    assert ack["In-Reply-To"] == mail["Message-ID"]
    assert mail["Message-ID"] in ack["References"]
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["Message-ID"].endswith("@helpdesk.example.com>")
    assert ack["Reply-To"].startswith("ihelp+t1.c.") and ack["Reply-To"].endswith("@example.com")
    assert announcements[0]["Reply-To"].startswith("ihelp+t1.l1.")  # each recipient its own token


async def test_customer_reply_threads_and_goes_to_the_level(gw, relay):
    first = make_mail(subject="VPN is slow")
    await asend(gw.port, first)
    await wait_for(lambda: len(relay.messages) >= 2)
    ack = by_recipient(relay, "customer@example.org")[0]
    reply = make_mail(subject="Re: [HD-1] VPN is slow", body="Still slow today.\n\n> earlier text",
                      In_Reply_To=ack["Message-ID"], References=f"{first['Message-ID']} {ack['Message-ID']}")
    code, _ = await asend(gw.port, reply)
    assert code == 250
    await wait_for(lambda: len(relay.messages) >= 3)
    assert len(await tickets(gw)) == 1
    forwarded = relay.parsed()[2]
    assert "frontdesk@example.com" in forwarded["To"] and "Still slow today." in forwarded.get_body(("plain",)).get_content()
    assert (await stats(gw))["messages_in"] == 2


async def test_a_strangers_subject_tag_does_not_thread(gw, relay):
    await asend(gw.port, make_mail(subject="My laptop"))
    code, _ = await asend(gw.port, make_mail(sender="stranger@evil.example", subject="Re: [HD-1] My laptop",
                                             body="/resolve hijacked"), sender="stranger@evil.example")
    assert code == 250
    rows = await tickets(gw)  # (waits for the spool to drain)
    assert len(rows) == 2
    db = gw.database()
    async with db.transaction() as session:
        reasons = (await session.scalars(select(Message.thread_reason).where(Message.direction == "in")
                                         .order_by(Message.id))).all()
        first = await session.get(Ticket, 1)
        assert first.status == "open"
    await db.dispose()
    assert "not a participant" in reasons[1]


async def test_the_requester_subject_tag_threads(gw, relay):
    await asend(gw.port, make_mail(subject="Shared drive"))
    await asend(gw.port, make_mail(subject="RE : AW: [hd-1] Shared drive", body="more detail"))
    assert len(await tickets(gw)) == 1


@pytest.mark.parametrize("headers,sender,kind", [
    ({"Auto_Submitted": "auto-replied"}, "customer@example.org", "auto-submitted"),
    ({"Precedence": "bulk"}, "customer@example.org", "precedence"),
    ({"List_Id": "<news.example.org>"}, "customer@example.org", "list"),
    ({}, "", "null sender"),  # null envelope sender: a bounce
])
async def test_automatic_mail_is_stored_but_never_answered(gw, relay, headers, sender, kind):
    code, _ = await asend(gw.port, make_mail(subject="Out of office", **headers), sender=sender)
    assert code == 250
    await wait_for(lambda: len(relay.messages) >= 1)  # the level still hears of the ticket
    assert by_recipient(relay, "customer@example.org") == []
    data = await stats(gw)
    assert data["tickets"] == 1 and data["loop_guarded"] == 1
    assert data["loop_guarded_by_kind"] == {kind: 1}


async def test_a_real_bounce_is_stored_and_not_answered(gw, relay):
    raw = (DATA / "smtp" / "postfix-bounce.eml").read_bytes()
    code, _ = await asend(gw.port, raw, sender="")
    assert code == 250
    await wait_for(lambda: len(relay.messages) >= 1)
    assert all("MAILER-DAEMON" not in str(m["To"]).upper() for m in relay.parsed())
    assert (await stats(gw))["loop_guarded"] == 1


async def test_foreign_recipients_are_refused(gw):
    code, text = await asend(gw.port, make_mail(to="someone@elsewhere.example"),
                             recipients=["someone@elsewhere.example"])
    assert code == 550 and b"relaying denied" in text
    code, _ = await asend(gw.port, make_mail(), recipients=["ihelp+anything@example.com"])
    assert code == 250


async def test_oversize_mail_is_refused_before_storing(settings_factory, relay):
    settings = settings_factory(smtp={"port": free_port(), "max_message_bytes": 20_000},
                                outbound={"mode": "smtp", "port": relay.port})
    running = await start(settings)
    try:
        def advertised_size():
            with smtplib.SMTP("127.0.0.1", running.port) as client:
                client.ehlo()
                return client.esmtp_features.get("size")

        assert await asyncio.to_thread(advertised_size) == "20000"
        code, _ = await asend(running.port, make_mail(body="a line of text\n" * 3000))
        assert code == 552
        assert (await stats(running))["messages_in"] == 0
    finally:
        await running.shutdown()


async def test_the_same_mail_twice_is_stored_once(gw, relay):
    mail = make_mail(subject="Twice")
    assert (await asend(gw.port, mail))[0] == 250
    assert (await asend(gw.port, mail))[0] == 250
    data = await stats(gw)
    assert data["tickets"] == 1 and data["messages_in"] == 1 and data["duplicates"] == 1
    await wait_for(lambda: len(relay.messages) >= 2)
    assert len(by_recipient(relay, "customer@example.org")) == 1


async def test_nasty_mails_are_stored_or_quarantined(gw):
    files = sorted(p for p in (DATA / "nasty").rglob("*.eml"))
    assert len(files) >= 10
    for path in files:
        code, text = await asend(gw.port, path.read_bytes())
        assert code == 250, (path.name, text)
    data = await stats(gw)
    assert data["messages_in"] + data["quarantined"] + data["duplicates"] == len(files)


async def test_relay_down_then_back_delivers_each_mail_once(gw, relay):
    relay.stop()
    for n in range(3):
        assert (await asend(gw.port, make_mail(subject=f"Outage {n}")))[0] == 250
    db = gw.database()

    async def retried():
        async with db.transaction() as session:
            pending = (await repo.stats(session))["outbox_pending"]
            return pending == 6 and await session.scalar(select(func.min(Outbox.attempts))) >= 1
    await wait_for(retried, timeout=15)
    relay.start()
    await wait_for(lambda: len(relay.messages) >= 6, timeout=15)
    await db.dispose()
    ids = [m["Message-ID"] for m in relay.parsed()]
    assert len(ids) == 6 and len(set(ids)) == 6
    assert (await stats(gw))["outbox_sent"] == 6


async def test_database_unavailable_answers_451_and_writes_nothing(settings_factory, relay, tmp_path):
    import sqlite3

    settings = settings_factory(smtp={"port": free_port()}, database={"busy_timeout_ms": 200},
                                outbound={"mode": "smtp", "port": relay.port})
    running = await start(settings)
    # The spool (on SQLite a file of its own beside the database) is where a 250 commits.
    blocker = sqlite3.connect(tmp_path / "gateway.db.spool.sqlite", isolation_level=None, timeout=5,
                              check_same_thread=False)
    try:
        # Off the loop: the gateway's start-up jobs may hold the write lock a moment and need the loop to let go.
        await asyncio.to_thread(blocker.execute, "BEGIN EXCLUSIVE")
        code, text = await asend(running.port, make_mail(subject="During the outage"))
        assert code == 451, text
        blocker.execute("ROLLBACK")
        assert blocker.execute("select count(*) from spool").fetchone() == (0,)
        with contextlib.closing(sqlite3.connect(tmp_path / "gateway.db")) as database:
            counts = [database.execute(f"select count(*) from {t}").fetchone()[0]
                      for t in ("tickets", "messages", "blobs", "outbox", "events")]
        assert counts == [0, 0, 0, 0, 0]
        code, _ = await asend(running.port, make_mail(subject="After the outage"))
        assert code == 250
    finally:
        blocker.close()
        await running.shutdown()


async def test_postgres_lost_mid_stream_answers_451_and_writes_nothing(settings_factory, relay):
    """PostgreSQL behind a proxy we cut: 250 before, 451 during, 250 after; nothing half-written."""
    from sqlalchemy.engine import make_url

    from tests.conftest import PG_URL, _pg_available, make_pg_database
    from tests.integration.tcpproxy import TcpProxy

    if reason := _pg_available():
        pytest.skip(reason)
    database, drop = await make_pg_database()
    from gateway.store.migrate import upgrade

    await upgrade(database)
    url = make_url(PG_URL)
    proxy = TcpProxy(url.host, url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = settings_factory(smtp={"port": free_port()}, database={"url": proxied, "pg_schema": database.schema},
                                outbound={"mode": "smtp", "port": relay.port})
    running = await start(settings)
    try:
        assert (await asend(running.port, make_mail(subject="Before")))[0] == 250
        await running.drained()
        await proxy.cut()
        code, text = await asend(running.port, make_mail(subject="During"))
        assert code == 451, text
        async with database.transaction() as session:
            subjects = (await session.scalars(select(Message.subject).where(Message.direction == "in"))).all()
        assert subjects == ["Before"]
        await proxy.start()
        assert (await asend(running.port, make_mail(subject="After")))[0] == 250
        await running.drained()
        async with database.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(Ticket)) == 2
    finally:
        await running.shutdown()
        await proxy.cut()
        await drop()


async def test_starttls_is_offered_with_a_certificate(settings_factory, relay, tmp_path):
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", str(key),
                    "-out", str(cert), "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    settings = settings_factory(smtp={"port": free_port(), "tls_cert": str(cert), "tls_key": str(key)},
                                outbound={"mode": "smtp", "port": relay.port})
    running = await start(settings)

    def send_over_tls():
        with smtplib.SMTP("127.0.0.1", running.port, timeout=30) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            client.starttls(context=ssl.create_default_context(cafile=str(cert)))
            client.ehlo()
            return client.sendmail("customer@example.org", ["ihelp@example.com"], make_mail().as_bytes())

    try:
        assert await asyncio.to_thread(send_over_tls) == {}
        assert (await stats(running))["messages_in"] == 1
    finally:
        await running.shutdown()


async def test_mail_is_labelled_smtp_unless_it_is_the_pipe_handing_over(gw):
    from gateway.inbound.handoff_smtp import HANDOFF_HELO

    assert (await asend(gw.port, make_mail(subject="Any client"), helo="client.example.org"))[0] == 250
    assert (await asend(gw.port, make_mail(subject="Handed over"), helo=HANDOFF_HELO))[0] == 250
    await gw.drained()
    db = gw.database()
    try:
        async with db.transaction() as session:
            rows = (await session.execute(select(Message.subject, Message.source)
                                          .where(Message.direction == "in").order_by(Message.id))).all()
    finally:
        await db.dispose()
    assert [tuple(row) for row in rows] == [("Any client", "smtp"), ("Handed over", "pipe")]

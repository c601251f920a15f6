"""A chunk of outbox rows goes to a real SMTP relay (aiosmtpd) over one connection, and survives its drops."""
from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
from collections import Counter
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from gateway.notify.outbox import Notifier
from gateway.notify.render import Renderer
from gateway.notify.send import CHUNK, DrainResult, OutboxSender, transport_for
from tests.conftest import CaptureHandler, CaptureRelay
from tests.integration.test_outbox_relay import MESSAGE, add_ticket, stored


@dataclass
class CountingHandler(CaptureHandler):
    """The capture relay, also counting EHLOs and noting the connection (client port) of each mail.

    drop_after: close the connection after every n-th mail's 250.
    drop_data_of: close the connection instead of answering the DATA of these mails (1-based), once each.
    """

    ehlos: int = 0
    peers: list = field(default_factory=list)
    drop_after: int = 0
    drop_data_of: set = field(default_factory=set)
    datas: int = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.ehlos += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.datas += 1
        if self.datas in self.drop_data_of:
            server.transport.close()  # the mail's dot arrived; its 250 never leaves
            return "451 never sent"
        self.peers.append(session.peer)
        reply = await super().handle_DATA(server, session, envelope)
        if self.drop_after and len(self.messages) % self.drop_after == 0:
            asyncio.get_running_loop().call_soon(server.transport.close)  # after the 250 is written
        return reply


@pytest.fixture
def counting():
    relay = CaptureRelay()
    relay.handler = CountingHandler()
    relay.start()
    yield relay
    relay.stop()


def make_sender(settings_factory, db, clock, port: int) -> OutboxSender:
    settings = settings_factory(outbound={"mode": "smtp", "host": "127.0.0.1", "port": port, "timeout_seconds": 5,
                                          "backoff_seconds": 60, "max_attempts": 5})
    return OutboxSender(settings=settings, db=db, clock=clock, transport=transport_for(settings))


async def queue(db, settings_factory, clock, recipients: list[str]) -> None:
    settings = settings_factory()
    ticket = await add_ticket(db, clock)
    notifier = Notifier(settings=settings, clock=clock, renderer=Renderer())
    context = {"level": settings.level(1), "message": MESSAGE, "reasons": []}
    async with db.transaction() as session:
        await notifier.enqueue(session, ticket=ticket, template="level/announce", recipients=recipients,
                               context=context, automatic=False)


def staff(n: int) -> list[str]:
    return [f"u{i}@staff.example" for i in range(n)]


def received_once(relay) -> Counter:
    """Message-ID -> how many times the relay got it."""
    return Counter(mail["Message-ID"] for mail in relay.parsed())


async def test_a_chunk_goes_over_one_connection(db, settings_factory, clock, counting):
    assert CHUNK == 10
    await queue(db, settings_factory, clock, staff(10))
    sender = make_sender(settings_factory, db, clock, counting.port)
    assert await sender.drain_once() == DrainResult(sent=10)
    handler = counting.handler
    assert [rcpt for _, [rcpt], _ in handler.messages] == staff(10)
    assert handler.ehlos == 1 and len(set(handler.peers)) == 1
    assert [r.status for r in await stored(db)] == ["sent"] * 10


async def test_a_refused_recipient_fails_alone_and_the_others_share_the_connection(db, settings_factory, clock,
                                                                                   counting):
    recipients = staff(10)
    recipients[3] = "reject-me@staff.example"
    await queue(db, settings_factory, clock, recipients)
    sender = make_sender(settings_factory, db, clock, counting.port)
    assert await sender.drain_once() == DrainResult(sent=9, failed=1)
    handler = counting.handler
    assert [rcpt for _, [rcpt], _ in handler.messages] == recipients[:3] + recipients[4:]
    assert handler.ehlos == 1 and len(set(handler.peers)) == 1
    rows = await stored(db)
    assert [r.status for r in rows] == ["sent"] * 3 + ["failed"] + ["sent"] * 6
    assert "550" in rows[3].last_error and "reject-me@staff.example" in rows[3].last_error


async def test_a_relay_that_drops_after_each_fourth_mail_gets_each_mail_once(db, settings_factory, clock, counting):
    counting.handler.drop_after = 4
    await queue(db, settings_factory, clock, staff(10))
    sender = make_sender(settings_factory, db, clock, counting.port)
    # Mails 1-4 on the first connection, 5-8 on the one that replaced it; a second drop ends the chunk.
    assert await sender.drain_once() == DrainResult(sent=8, retried=2)
    rows = await stored(db)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 0)] * 8 + [("pending", 1)] * 2
    assert all("failed" in r.last_error and f"127.0.0.1:{counting.port}" in r.last_error for r in rows[8:])
    assert len(set(counting.handler.peers)) == 2
    clock.advance(seconds=73)
    assert await sender.drain_once() == DrainResult(sent=2)
    assert received_once(counting) == Counter({f"<{r.message_id}>": 1 for r in rows})


async def test_a_mail_whose_data_got_no_answer_goes_again_on_a_new_connection(db, settings_factory, clock,
                                                                               counting):
    counting.handler.drop_data_of = {3}
    await queue(db, settings_factory, clock, staff(10))
    sender = make_sender(settings_factory, db, clock, counting.port)
    assert await sender.drain_once() == DrainResult(sent=10)
    rows = await stored(db)
    assert received_once(counting) == Counter({f"<{r.message_id}>": 1 for r in rows})
    assert [rcpt for _, [rcpt], _ in counting.handler.messages] == staff(10)
    assert counting.handler.ehlos == 2 and len(set(counting.handler.peers)) == 2


class SlammingDoor:
    """A TCP port that accepts each connection and closes it at once, counting them: a relay that is down."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            self.accepted += 1
            conn.close()

    def close(self):
        # close() alone does not wake a thread blocked in accept() on Linux (join() then waited 5 s)
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(5)


async def test_a_relay_that_is_down_is_tried_once_per_chunk(db, settings_factory, clock):
    door = SlammingDoor()
    try:
        await queue(db, settings_factory, clock, staff(15))
        sender = make_sender(settings_factory, db, clock, door.port)
        assert await sender.drain_once() == DrainResult(retried=15)
        assert door.accepted == 2  # chunks of 10 and 5
    finally:
        door.close()
    rows = await stored(db)
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1)] * 15
    assert len({r.last_error for r in rows}) == 1
    assert rows[0].last_error.startswith(f"relay 127.0.0.1:{door.port} unreachable")


async def test_rows_left_when_half_the_lease_is_spent_go_back_untried(db, settings_factory, clock, counting):
    """The sender's rule holds inside the transport's one thread: asked before each mail."""
    handler = counting.handler
    original = handler.handle_DATA

    async def slow_third(server, session, envelope):
        reply = await original(server, session, envelope)
        if len(handler.messages) == 3:
            clock.advance(seconds=151)  # lease_seconds 300: half of it is gone
        return reply

    handler.handle_DATA = slow_third
    await queue(db, settings_factory, clock, staff(10))
    sender = make_sender(settings_factory, db, clock, counting.port)
    assert await sender.drain_once(limit=10) == DrainResult(sent=3)
    rows = await stored(db)
    assert [(r.status, r.attempts, r.lease_until) for r in rows[3:]] == [("pending", 0, None)] * 7
    assert len(handler.messages) == 3


@pytest.fixture
def tls_relay(tmp_path, monkeypatch):
    """The counting relay behind STARTTLS and AUTH (gw / s3cret-pw), with a certificate the client trusts."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
                    "-out", str(cert), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what ssl.create_default_context() trusts
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple] = []  # (client address, login): smtplib tries PLAIN, then LOGIN, on one connection

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((session.peer, auth_data.login))
        return AuthResult(success=auth_data.login == b"gw" and auth_data.password == b"s3cret-pw", handled=False)

    relay = CaptureRelay()
    relay.handler = CountingHandler()
    relay.controller = Controller(relay.handler, hostname="127.0.0.1", port=relay.port, tls_context=context,
                                  require_starttls=True, authenticator=authenticate, auth_require_tls=True)
    relay.controller.start()
    relay.logins = logins
    yield relay
    relay.stop()


@pytest.mark.parametrize("password, sent", [("s3cret-pw", 10), ("wrong", 0)])
async def test_starttls_and_login_happen_once_per_chunk(db, settings_factory, clock, tls_relay, password, sent):
    await queue(db, settings_factory, clock, staff(10))
    settings = settings_factory(outbound={"mode": "smtp", "host": "127.0.0.1", "port": tls_relay.port,
                                          "timeout_seconds": 5, "starttls": True, "username": "gw",
                                          "password": password})
    sender = OutboxSender(settings=settings, db=db, clock=clock, transport=transport_for(settings))
    assert await sender.drain_once() == DrainResult(sent=sent, retried=10 - sent)
    assert len({peer for peer, _ in tls_relay.logins}) == 1  # one connection logged in
    assert {login for _, login in tls_relay.logins} == {b"gw"}
    assert tls_relay.handler.ehlos == 2  # before STARTTLS and after it, once
    assert len(tls_relay.handler.messages) == sent
    if not sent:
        errors = {r.last_error for r in await stored(db)}
        assert len(errors) == 1 and "refused login for 'gw'" in errors.pop()

"""A reply whose DATA ends while the mail it answers is still in another SMTP session (in its DATA, or
connected and not yet at MAIL FROM): held for its parent, then threaded onto the parent's ticket (real
SMTP clients against serve)."""
from __future__ import annotations

import asyncio
import smtplib

import pytest
from sqlalchemy import select

from gateway import parent_wait
from gateway.ingest import Ingestor
from gateway.store.models import Message
from tests.conftest import free_port
from tests.integration.serving import asend, make_mail, start, wait_for

SENDER = "ann@example.org"


class HalfSent:
    """An SMTP session that has sent MAIL, RCPT and half of its DATA, and finishes when told."""

    def __init__(self, port: int, raw: bytes):
        self.client = smtplib.SMTP("127.0.0.1", port, timeout=30)
        self.client.ehlo()
        assert self.client.mail(SENDER)[0] == 250
        assert self.client.rcpt("ihelp@example.com")[0] == 250
        self.client.putcmd("data")
        assert self.client.getreply()[0] == 354
        half = raw.index(b"\r\n\r\n") + 4  # the headers and a blank line: the body is still to come
        self.client.send(raw[:half])
        self.rest = raw[half:]

    def finish(self) -> int:
        self.client.send(self.rest + b".\r\n")
        code, _ = self.client.getreply()
        self.client.quit()
        return code


class Greeted:
    """An SMTP session that has connected and said EHLO, and sends its mail when told."""

    def __init__(self, port: int):
        self.client = smtplib.SMTP("127.0.0.1", port, timeout=30)
        assert self.client.ehlo()[0] == 250

    def send(self, raw: bytes) -> None:
        self.client.sendmail(SENDER, ["ihelp@example.com"], raw)  # raises unless 250
        self.client.quit()


def wire(mail) -> bytes:
    return mail.as_bytes(policy=mail.policy.clone(linesep="\r\n"))


def pair():
    parent = make_mail(sender=SENDER, subject="VPN down for the Leeds office",
                       body="Nobody in Leeds can connect to the VPN since 9:00.")
    reply = make_mail(sender=SENDER, subject="Re: VPN down for the Leeds office",
                      body="Forgot to say: the error is 'TLS handshake failed'.",
                      In_Reply_To=parent["Message-ID"], References=parent["Message-ID"])
    return parent, reply


async def serve_with(settings_factory, relay, hold: float):
    settings = settings_factory(smtp={"port": free_port()}, spool={"hold_for_parent_seconds": hold, "poll_seconds": 0.1},
                                outbound={"mode": "smtp", "port": relay.port, "poll_seconds": 0.05})
    return await start(settings)


async def tickets_of(running, *message_ids: str) -> list[int | None]:
    async def read(session):
        found = dict((await session.execute(select(Message.message_id, Message.ticket_id)
                                            .where(Message.message_id.in_(message_ids)))).all())
        return [found.get(mid) for mid in message_ids]
    return await running.read(read)


async def stored(running, mail) -> int | None:
    """The ticket `mail` is stored on, None while it is not."""
    return (await tickets_of(running, bare(mail["Message-ID"])))[0]


def bare(message_id: str) -> str:
    return message_id.strip("<>")


@pytest.mark.parametrize("hold, same_ticket", [(120.0, True), (0.0, False)], ids=["held", "not held"])
async def test_reply_accepted_before_its_parent_threads_onto_it(settings_factory, relay, hold, same_ticket):
    running = await serve_with(settings_factory, relay, hold)
    try:
        parent, reply = pair()
        first = await asyncio.to_thread(HalfSent, running.port, wire(parent))
        code, _ = await asend(running.port, reply)
        assert code == 250  # spooled before its parent, which is still in its DATA
        await asyncio.sleep(1.0)  # the drain has seen the reply by now
        assert await asyncio.to_thread(first.finish) == 250

        parent_ticket, reply_ticket = await tickets_of(running, bare(parent["Message-ID"]), bare(reply["Message-ID"]))
        assert parent_ticket is not None and reply_ticket is not None
        # Held: one ticket. Without the hold (the contrast) the reply opened a ticket of its own.
        assert (parent_ticket == reply_ticket) is same_ticket
    finally:
        await running.shutdown()


async def test_the_hold_ends_after_its_limit_while_the_older_session_stays_open(settings_factory, relay):
    running = await serve_with(settings_factory, relay, hold=1.0)
    first = None
    try:
        parent, reply = pair()
        first = await asyncio.to_thread(HalfSent, running.port, wire(parent))
        assert (await asend(running.port, reply))[0] == 250

        # the parent's session is still open: the limit freed the reply
        await wait_for(lambda: stored(running, reply), timeout=15)
    finally:
        if first is not None:
            assert await asyncio.to_thread(first.finish) == 250
        await running.shutdown()


async def test_a_session_connected_before_the_reply_holds_it_until_its_mail_is_processed(settings_factory, relay):
    # bench/reply_threading.py's one astray reply: its parent's client had connected first, but sent
    # MAIL FROM only after the reply's DATA had ended.
    running = await serve_with(settings_factory, relay, hold=120.0)
    try:
        parent, reply = pair()
        first = await asyncio.to_thread(Greeted, running.port)
        assert (await asend(running.port, reply))[0] == 250
        await asyncio.sleep(1.0)  # the drain has seen the reply by now
        await asyncio.to_thread(first.send, wire(parent))

        parent_ticket, reply_ticket = await tickets_of(running, bare(parent["Message-ID"]), bare(reply["Message-ID"]))
        assert parent_ticket is not None and parent_ticket == reply_ticket
    finally:
        await running.shutdown()


async def test_a_session_connected_after_the_reply_does_not_hold_it(settings_factory, relay):
    running = await serve_with(settings_factory, relay, hold=120.0)
    later = None
    try:
        parent, reply = pair()
        assert (await asend(running.port, reply))[0] == 250
        later = await asyncio.to_thread(Greeted, running.port)

        await wait_for(lambda: stored(running, reply), timeout=15)  # while the newer session is still open
    finally:
        if later is not None:
            await asyncio.to_thread(later.send, wire(parent))
        await running.shutdown()


async def test_a_silent_session_does_not_hold_a_reply(settings_factory, relay, monkeypatch):
    # An MTA keeps an idle connection cached for minutes: a reply to a thread we never saw is not held for it.
    monkeypatch.setattr(parent_wait, "QUIET_SECONDS", 1.0)
    running = await serve_with(settings_factory, relay, hold=120.0)
    idle = None
    try:
        idle = await asyncio.to_thread(Greeted, running.port)
        _, reply = pair()
        assert (await asend(running.port, reply))[0] == 250
        await wait_for(lambda: stored(running, reply), timeout=15)  # not 120 s: the idle session stays open
    finally:
        if idle is not None:
            idle.client.close()
        await running.shutdown()


async def test_a_session_sending_its_data_slowly_still_holds_the_reply(settings_factory, relay, monkeypatch):
    monkeypatch.setattr(parent_wait, "QUIET_SECONDS", 1.0)
    running = await serve_with(settings_factory, relay, hold=120.0)
    try:
        parent, reply = pair()
        first = await asyncio.to_thread(HalfSent, running.port, wire(parent))
        assert (await asend(running.port, reply))[0] == 250
        for _ in range(8):  # 2.4 s of DATA, longer than QUIET_SECONDS, a line at a time
            await asyncio.sleep(0.3)
            await asyncio.to_thread(first.client.send, b"more of the body\r\n")
        assert await asyncio.to_thread(first.finish) == 250

        parent_ticket, reply_ticket = await tickets_of(running, bare(parent["Message-ID"]), bare(reply["Message-ID"]))
        assert parent_ticket is not None and parent_ticket == reply_ticket
    finally:
        await running.shutdown()


async def test_a_reply_spooled_just_before_its_parent_in_one_batch_threads_onto_it(any_db, settings_factory, clock):
    # No session held the reply (its parent's client connected only after the reply's spool commit), but
    # the drain reaches both in one batch: the parent goes first.
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    try:
        parent, reply = pair()
        reply_id = await ingestor.accept(wire(reply), source="smtp", envelope_from=SENDER)
        parent_id = await ingestor.accept(wire(parent), source="smtp", envelope_from=SENDER)
        done = await ingestor.drain()
    finally:
        ingestor.close()
    assert done[parent_id].status == done[reply_id].status == "stored"
    assert done[reply_id].ticket_id == done[parent_id].ticket_id

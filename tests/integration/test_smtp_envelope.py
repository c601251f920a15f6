"""Over real SMTP: lines of any length up to the size limit, and no control characters in the envelope."""
from __future__ import annotations

import asyncio
import smtplib

import pytest
from sqlalchemy import select

from gateway.store.models import Message
from tests.conftest import free_port
from tests.integration.serving import make_mail, start, wait_for


@pytest.fixture
async def gw(settings_factory):
    settings = settings_factory(smtp={"port": free_port(), "max_message_bytes": 3 * 1024 * 1024})
    running = await start(settings)
    yield running
    await running.shutdown()


async def stored_texts(gw) -> list[str]:
    db = gw.database()
    try:
        async with db.transaction() as session:
            return list((await session.scalars(select(Message.text).where(Message.direction == "in"))).all())
    finally:
        await db.dispose()


def send(port: int, raw: bytes) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        return client.sendmail("customer@example.org", ["ihelp@example.com"], raw)


def one_line_mail(length: int) -> bytes:
    mail = make_mail(subject="Generated report", body="x")
    head = mail.as_bytes(policy=mail.policy.clone(linesep="\r\n")).partition(b"\r\n\r\n")[0]
    # Generated HTML or CSV often has no line break at all; ".": smtplib dot-stuffs, we unstuff.
    return head + b"\r\n\r\n" + b".start " + b"word " * (length // 5) + b"end\r\n"


@pytest.mark.parametrize("length", [300 * 1024, 2 * 1024 * 1024])
async def test_a_line_longer_than_256_kb_is_accepted(gw, length):
    raw = one_line_mail(length)
    assert await asyncio.to_thread(send, gw.port, raw) == {}  # smtplib raises on anything but 250
    [text] = await wait_for(lambda: stored_texts(gw))
    assert text.startswith(".start word word") and text.endswith("end") and len(text) > length


async def test_a_long_line_beyond_the_size_limit_is_552_and_the_session_goes_on(gw):
    def attempt() -> tuple[int, int]:
        with smtplib.SMTP("127.0.0.1", gw.port, timeout=60) as client:
            client.ehlo()
            client.mail("customer@example.org")  # without SIZE=, as a client that does not announce it
            client.rcpt("ihelp@example.com")
            refused = client.data(one_line_mail(4 * 1024 * 1024))[0]
            return refused, client.noop()[0]

    assert await asyncio.to_thread(attempt) == (552, 250)


@pytest.mark.parametrize("command", [b"MAIL FROM:<cus\x00tomer@example.org>", b"MAIL FROM:<customer@exa\x01mple.org>",
                                     b"RCPT TO:<ihelp+\x00x@example.com>", b"RCPT TO:<ihelp@example.com\x7f>"])
async def test_control_characters_in_the_envelope_are_501(gw, command):
    def dialogue() -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", gw.port, timeout=30) as client:
            client.ehlo()
            if command.startswith(b"RCPT"):
                assert client.mail("customer@example.org")[0] == 250
            client.send(command + b"\r\n")
            return client.getreply()

    code, text = await asyncio.to_thread(dialogue)
    assert code == 501 and b"control characters" in text

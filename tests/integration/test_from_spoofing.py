"""Over real SMTP: a From whose display name hides an address acts as its real mailbox, never as that address."""
from __future__ import annotations

import asyncio
from unittest.mock import ANY

from sqlalchemy import select

from gateway.store.models import Event, Message, Ticket
from tests.integration.serving import asend, make_mail, wait_for

ALICE = "alice@example.com"  # an engineer of level 1 in the default levels
ATTACK_FROM = '"=?utf-8?q?Support=0AX:_alice@example.com?=" <mallory@evil.org>'


def recipients(relay) -> list[str]:
    return [rcpt for _, rcpts, _ in relay.messages for rcpt in rcpts]


def with_from(mail, value: str) -> bytes:
    """The mail's bytes with a From header the email package would refuse to set."""
    raw = mail.as_bytes(policy=mail.policy.clone(linesep="\r\n"))
    return raw.replace(b"From: customer@example.org\r\n", f"From: {value}\r\n".encode(), 1)


async def rows(gw):
    async def read(session):
        tickets = (await session.scalars(select(Ticket).order_by(Ticket.id))).all()
        events = (await session.scalars(select(Event).order_by(Event.id))).all()
        messages = (await session.scalars(select(Message).where(Message.direction == "in"))).all()
        return tickets, [(e.kind, e.data) for e in events], messages
    return await gw.read(read)


async def test_display_name_address_runs_no_command_and_gets_nothing(gw, relay):
    await asend(gw.port, make_mail(subject="Printer broken"))
    await wait_for(lambda: len(relay.messages) >= 2)  # the customer's ack and the level's announcement
    [ack] = [m for m in relay.parsed() if "customer@example.org" in m["To"]]
    token_address = ack["Reply-To"].addresses[0].addr_spec
    count = len(relay.messages)

    attack = with_from(make_mail(to=token_address, subject=f"Re: {ack['Subject']}",
                                 body="/priority urgent\n/assign mallory@evil.org\n"), ATTACK_FROM)
    assert await asend(gw.port, attack, sender=ALICE, recipients=[token_address]) == (250, ANY)
    await wait_for(lambda: len(relay.messages) > count)  # the reply is passed on to the level as text
    await asyncio.sleep(0.3)
    [ticket], events, messages = await rows(gw)
    assert ticket.priority != "urgent" and ticket.assignee is None
    assert ("commands_refused", {"reason": ANY, "lines": ANY}) in events
    assert messages[-1].from_addr == "mallory@evil.org"
    assert ALICE not in recipients(relay)  # no command result, no acknowledgement to the name's address


async def test_from_with_two_addresses_is_stored_and_never_answered(gw, relay):
    mail = with_from(make_mail(subject="Printer jams", body="/priority high"), "alice@example.com, mallory@evil.org")
    assert await asend(gw.port, mail, sender="mallory@evil.org") == (250, ANY)
    await wait_for(lambda: len(relay.messages) >= 1)  # the announcement to the level
    await asyncio.sleep(0.3)
    [ticket], events, [message] = await rows(gw)
    assert message.from_addr == "" and ticket.requester == ""
    assert ("message_in", {"message": ANY, "message_id": ANY, "source": "smtp", "thread_reason": ANY,
                           "auto_reason": ANY, "from_problem": "2 addresses in From"}) in events
    assert ALICE not in recipients(relay) and "mallory@evil.org" not in recipients(relay)
    assert recipients(relay) == ["frontdesk@example.com"]


async def test_a_new_mail_with_the_attack_from_is_mallory_s_not_alice_s(gw, relay):
    mail = with_from(make_mail(subject="Printer jams", body="/priority urgent"), ATTACK_FROM)
    assert await asend(gw.port, mail, sender=ALICE) == (250, ANY)
    await wait_for(lambda: len(relay.messages) >= 1)
    await asyncio.sleep(0.3)
    [ticket], _, [message] = await rows(gw)
    assert (ticket.requester, message.from_addr) == ("mallory@evil.org", "mallory@evil.org")
    assert message.from_name == "Support X: alice@example.com"
    assert ALICE not in recipients(relay)  # the address inside the display name is mailed nothing

"""End to end over SMTP: routing by sender, completion flowing down, and a level's reply-to-closed policy."""
from __future__ import annotations

from unittest.mock import ANY

import pytest
from sqlalchemy import select

from gateway.config import DEFAULT_LEVELS
from gateway.store.models import Event, Ticket
from tests.conftest import free_port
from tests.integration.serving import asend, body, make_mail, start, to, wait_for

ALICE, BOB = "alice@example.com", "bob@example.com"  # engineers of levels 1 and 3 in the default levels
CUSTOMER = "customer@example.org"


@pytest.fixture
async def gw(settings_factory, relay):
    """serve() with a routing rule for a regional domain, and level 1 answering replies with new tickets."""
    levels = [{**level.model_dump(), "reopen_days": 0 if level.number == 1 else None} for level in DEFAULT_LEVELS]
    settings = settings_factory(smtp={"port": free_port()}, levels=levels,
                                outbound={"mode": "smtp", "port": relay.port, "poll_seconds": 0.05},
                                routing={"rules": [{"name": "emea", "domains": ["emea.example.com"], "level": 0}]})
    running = await start(settings)
    yield running
    await running.shutdown()


async def tickets(gw) -> list[Ticket]:
    async def read(session):
        return list((await session.scalars(select(Ticket).order_by(Ticket.id))).all())
    return await gw.read(read)


async def event_kinds(gw, tid: int) -> list[str]:
    async def read(session):
        return list((await session.scalars(select(Event.kind).where(Event.ticket_id == tid).order_by(Event.id))).all())
    return await gw.read(read)


async def command(gw, sender: str, to_mail, text: str) -> None:
    """`sender` replies to `to_mail` (through its Reply-To token) with `text`."""
    token = to_mail["Reply-To"].addresses[0].addr_spec
    reply = make_mail(sender=sender, to=token, subject=f"Re: {to_mail['Subject']}", body=text,
                      In_Reply_To=to_mail["Message-ID"], References=to_mail["Message-ID"])
    assert await asend(gw.port, reply, recipients=[token]) == (250, ANY)


async def test_mail_from_a_regional_domain_is_announced_to_its_level(gw, relay):
    await asend(gw.port, make_mail(sender="jo@emea.example.com", subject="VPN slow in Madrid", body="Since Monday."))
    [announce] = await wait_for(lambda: to(relay, "liaisons@example.com"))
    assert "routing:emea" in body(announce) and to(relay, "frontdesk@example.com") == []
    [row] = await tickets(gw)
    assert row.level == 0


async def test_resolved_above_tells_the_level_that_escalated_once(gw, relay):
    await asend(gw.port, make_mail(subject="Printer broken", body="The printer on floor 2 is broken."))
    [announce] = await wait_for(lambda: to(relay, "frontdesk@example.com"))
    await command(gw, ALICE, announce, "/escalate 3\n\nThe print server looks down.")
    [escalated] = await wait_for(lambda: to(relay, "sysadmins@example.com"))
    await command(gw, BOB, escalated, "/resolve Restarted the print server")
    [completed] = await wait_for(lambda: [m for m in to(relay, "frontdesk@example.com") if "Resolved at" in m["Subject"]])
    assert completed["Subject"] == "[HD-1] Resolved at level 3: Printer broken"
    assert "Resolution: Restarted the print server" in body(completed)
    await wait_for(lambda: [m for m in to(relay, CUSTOMER) if "Resolved" in m["Subject"]])
    await command(gw, BOB, escalated, "/reopen")
    await wait_for(lambda: len(to(relay, BOB)) >= 2)
    await command(gw, BOB, escalated, "/resolve For good this time")
    await wait_for(lambda: len(to(relay, BOB)) >= 3)
    assert len([m for m in to(relay, "frontdesk@example.com") if "Resolved at" in m["Subject"]]) == 1
    assert (await event_kinds(gw, 1)).count("completion_told") == 1


async def test_a_reply_to_a_ticket_resolved_at_a_never_reopen_level_opens_a_new_ticket(gw, relay):
    await asend(gw.port, make_mail(subject="Printer broken", body="The printer on floor 2 is broken."))
    [announce] = await wait_for(lambda: to(relay, "frontdesk@example.com"))
    [ack] = to(relay, CUSTOMER)
    await command(gw, ALICE, announce, "/resolve Replaced the toner")
    await wait_for(lambda: len(to(relay, CUSTOMER)) >= 2)
    await command(gw, CUSTOMER, ack, "It is jammed again.")
    await wait_for(lambda: len(to(relay, CUSTOMER)) >= 3)
    old, new = await tickets(gw)
    assert (old.status, new.status, new.linked_ticket_id) == ("resolved", "open", old.id)
    assert "reopened" not in await event_kinds(gw, old.id)

"""The similar step reads the open tickets once per batch, yet compares each new ticket with the same
tickets as a fresh read would: those opened earlier in the batch, none resolved, and a ticket reopened
by a reply earlier in the batch; what another instance changes, the next batch sees."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from gateway.clock import FixedClock
from gateway.ingest import Incoming, Ingestor
from gateway.pipeline.steps import similar as similar_step
from gateway.store.models import Event, Message, Ticket
from tests.unit.schedule.helpers import utc
from tests.unit.web.webkit import mail

VPN = "The VPN disconnects every five minutes when working from home."
PRINTER = "The printer in the kitchen jams all the time."


def incoming(sender: str, subject: str, body: str, **headers) -> Incoming:
    return Incoming(mail(sender=sender, subject=subject, body=body, **headers), "smtp", sender)


async def similar_of(db, ticket_id: int) -> list[int]:
    async with db.transaction() as session:
        created = await session.scalar(select(Event.data).where(Event.ticket_id == ticket_id, Event.kind == "created"))
    return [found["ticket_id"] for found in created.get("similar", [])]


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """Which query each new ticket's step used: the whole list, or the tickets opened since."""
    seen: list[str] = []
    whole, since = similar_step.open_tickets, similar_step.opened_since

    async def open_tickets(session, **kwargs):
        seen.append("whole")
        return await whole(session, **kwargs)

    async def opened_since(session, **kwargs):
        seen.append("since")
        return await since(session, **kwargs)

    monkeypatch.setattr(similar_step, "open_tickets", open_tickets)
    monkeypatch.setattr(similar_step, "opened_since", opened_since)
    return seen


async def test_tickets_opened_earlier_in_the_batch_are_compared(settings_factory, any_db, reads):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=FixedClock(utc("2026-01-05 09:10")))
    try:
        first, printer, second, third = await ingestor.ingest_many([
            incoming("ann@client.example", "VPN drops", VPN), incoming("bob@client.example", "Printer jams", PRINTER),
            incoming("cat@client.example", "VPN keeps dropping", VPN),
            incoming("dan@client.example", "VPN drops", VPN)])
    finally:
        ingestor.close()
    assert reads == ["whole", "since", "since", "since"]  # one transaction: the list is read whole once
    assert await similar_of(any_db, second.ticket_id) == [first.ticket_id]
    assert set(await similar_of(any_db, third.ticket_id)) == {first.ticket_id, second.ticket_id}
    assert await similar_of(any_db, printer.ticket_id) == []


async def test_a_ticket_reopened_earlier_in_the_batch_is_compared(settings_factory, any_db, reads):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=FixedClock(utc("2026-01-05 09:10")))
    try:
        vpn = await ingestor.ingest(mail(sender="ann@client.example", subject="VPN drops", body=VPN),
                                    source="smtp", envelope_from="ann@client.example")
        async with any_db.transaction() as session:  # resolved, e.g. on the web page
            parent = await session.scalar(select(Message.message_id).where(Message.ticket_id == vpn.ticket_id))
            await session.execute(update(Ticket).where(Ticket.id == vpn.ticket_id).values(
                status="resolved", resolved_at=utc("2026-01-05 09:00")))
        reads.clear()
        printer, reply, again = await ingestor.ingest_many([
            incoming("bob@client.example", "Printer jams", PRINTER),  # the list is read: without the VPN ticket
            incoming("ann@client.example", "Re: VPN drops", "It is back, sorry.", In_Reply_To=f"<{parent}>"),
            incoming("cat@client.example", "VPN drops", VPN)])
    finally:
        ingestor.close()
    assert reply.ticket_id == vpn.ticket_id and not reply.new_ticket
    async with any_db.transaction() as session:
        assert await session.scalar(select(Ticket.status).where(Ticket.id == vpn.ticket_id)) != "resolved"
    assert reads == ["whole", "whole"]  # after a follow-up the list is read whole again
    assert await similar_of(any_db, again.ticket_id) == [vpn.ticket_id]


async def test_what_another_instance_opens_or_resolves_the_next_batch_sees(settings_factory, any_db):
    clock = FixedClock(utc("2026-01-05 09:10"))
    settings = settings_factory()
    one = Ingestor(settings=settings, db=any_db, clock=clock)
    other = Ingestor(settings=settings, db=any_db, clock=clock)
    try:
        first = await one.ingest(mail(sender="ann@client.example", subject="VPN drops", body=VPN),
                                 source="smtp", envelope_from="ann@client.example")
        elsewhere = await other.ingest(mail(sender="bob@client.example", subject="VPN keeps dropping", body=VPN),
                                       source="smtp", envelope_from="bob@client.example")
        seen = await one.ingest(mail(sender="cat@client.example", subject="VPN drops", body=VPN),
                                source="smtp", envelope_from="cat@client.example")
        assert set(await similar_of(any_db, seen.ticket_id)) == {first.ticket_id, elsewhere.ticket_id}
        async with any_db.transaction() as session:  # the other instance resolves two of them
            await session.execute(update(Ticket).where(Ticket.id.in_([elsewhere.ticket_id, seen.ticket_id])).values(
                status="resolved", resolved_at=utc("2026-01-05 09:05")))
        last = await one.ingest(mail(sender="dan@client.example", subject="VPN drops", body=VPN),
                                source="smtp", envelope_from="dan@client.example")
        assert await similar_of(any_db, last.ticket_id) == [first.ticket_id]
    finally:
        one.close()
        other.close()


async def test_opened_since_gives_the_first_inbound_text_and_none_for_a_ticket_without(settings_factory, any_db):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=FixedClock(utc("2026-01-05 09:10")))
    try:
        before, vpn = await ingestor.ingest_many([incoming("ann@client.example", "Printer jams", PRINTER),
                                                  incoming("bob@client.example", "VPN drops", VPN)])
        async with any_db.transaction() as session:
            parent = await session.scalar(select(Message.message_id).where(Message.ticket_id == vpn.ticket_id))
        reply = await ingestor.ingest(mail(sender="bob@client.example", subject="Re: VPN drops", body="Still down.",
                                           In_Reply_To=f"<{parent}>"),
                                      source="smtp", envelope_from="bob@client.example")
        assert reply.ticket_id == vpn.ticket_id
    finally:
        ingestor.close()
    async with any_db.transaction() as session:
        token = await session.scalar(select(Ticket.reply_token).where(Ticket.id == vpn.ticket_id))
        await session.execute(update(Message).where(Message.ticket_id == before.ticket_id).values(direction="out"))
        heads, texts = await similar_step.opened_since(session, since=0, among=10)
        assert heads[0] == (vpn.ticket_id, token) and [ticket_id for ticket_id, _ in heads] == [vpn.ticket_id,
                                                                                                before.ticket_id]
        assert [(ticket_id, subject) for ticket_id, subject, _ in texts] == [(vpn.ticket_id, "VPN drops")]
        assert texts[0][2].startswith("The VPN disconnects")  # the first inbound mail, not the follow-up
        heads, texts = await similar_step.opened_since(session, since=before.ticket_id, among=10)
        assert [ticket_id for ticket_id, _ in heads] == [vpn.ticket_id]


async def test_the_ranking_leaves_the_loop_only_when_it_is_much_work(settings_factory, db, monkeypatch):
    settings = settings_factory()
    first = Ingestor(settings=settings, db=db, clock=FixedClock(utc("2026-01-05 09:10")))
    try:
        opened = await first.ingest_many([incoming(f"c{n}@client.example", "VPN drops", VPN) for n in range(10)])
    finally:
        first.close()
    handed = []
    to_thread = similar_step.asyncio.to_thread

    async def counting(work, *args):
        if work.__module__ == similar_step.__name__:
            handed.append(work)
        return await to_thread(work, *args)

    monkeypatch.setattr(similar_step.asyncio, "to_thread", counting)
    started = Ingestor(settings=settings, db=db, clock=FixedClock(utc("2026-01-05 09:20")))  # knows no ticket yet
    try:
        one = await started.ingest(mail(sender="ann@client.example", subject="VPN drops", body=VPN),
                                   source="smtp", envelope_from="ann@client.example")
        assert len(handed) == 1  # ten tickets to read and index: on a worker thread
        two = await started.ingest(mail(sender="bob@client.example", subject="VPN drops", body=VPN),
                                   source="smtp", envelope_from="bob@client.example")
        assert len(handed) == 1  # one more ticket and a short mail: on the loop
    finally:
        started.close()
    newest = sorted((outcome.ticket_id for outcome in opened), reverse=True)
    assert await similar_of(db, one.ticket_id) == newest[:3]
    assert await similar_of(db, two.ticket_id) == [one.ticket_id] + newest[:2]

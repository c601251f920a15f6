"""The similar step reads each open ticket's words once, and tells a ticket from one that reused its id."""
from __future__ import annotations

from sqlalchemy import select

from gateway.clock import FixedClock
from gateway.ingest import Ingestor
from gateway.store.models import Event, Ticket
from tests.unit.schedule.helpers import utc
from tests.unit.web.webkit import mail


async def similar_of(db, ticket_id: int) -> list[dict]:
    async with db.transaction() as session:
        created = await session.scalar(select(Event.data).where(Event.ticket_id == ticket_id, Event.kind == "created"))
    return created.get("similar", [])


async def test_a_ticket_id_reused_after_a_rollback_is_compared_by_its_own_words(settings_factory, db):
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=FixedClock(utc("2026-01-05 09:10")))
    vpn = "The VPN disconnects every five minutes when working from home."
    first = await ingestor.ingest(mail(sender="ann@client.example", subject="VPN drops", body=vpn),
                                  source="smtp", envelope_from="ann@client.example")
    second = await ingestor.ingest(mail(sender="ben@client.example", subject="VPN keeps dropping", body=vpn),
                                   source="smtp", envelope_from="ben@client.example")
    assert [s["ticket_id"] for s in await similar_of(db, second.ticket_id)] == [first.ticket_id]
    # The first ticket goes, its id is free again (as after a rolled-back batch), and a ticket about
    # something else takes it: the words remembered for the old ticket must not be used for the new one.
    async with db.transaction() as session:
        for table in ("events", "participants", "outbox", "messages", "status_links"):
            await session.execute(Ticket.metadata.tables[table].delete().where(
                Ticket.metadata.tables[table].c.ticket_id.in_([first.ticket_id, second.ticket_id])))
        await session.execute(Ticket.__table__.delete().where(Ticket.id.in_([first.ticket_id, second.ticket_id])))
    printer = await ingestor.ingest(mail(sender="cat@client.example", subject="Printer jams",
                                         body="The printer in the kitchen jams all the time."),
                                    source="smtp", envelope_from="cat@client.example")
    assert printer.ticket_id == first.ticket_id
    third = await ingestor.ingest(mail(sender="dan@client.example", subject="VPN drops", body=vpn),
                                  source="smtp", envelope_from="dan@client.example")
    assert await similar_of(db, third.ticket_id) == []
    fourth = await ingestor.ingest(mail(sender="eve@client.example", subject="Printer jams again",
                                        body="The printer in the kitchen jams all the time."),
                                   source="smtp", envelope_from="eve@client.example")
    assert [s["ticket_id"] for s in await similar_of(db, fourth.ticket_id)] == [printer.ticket_id]

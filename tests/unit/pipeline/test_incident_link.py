"""Automatic incident links: a new ticket much like a recent one of an open incident joins it; less alike, it is suggested."""
from __future__ import annotations

import email
from email import policy

from sqlalchemy import select

from gateway.clock import FixedClock
from gateway.ingest import Ingestor
from gateway.store.models import Event, Outbox, Ticket
from tests.conftest import outbox_mail
from tests.unit.schedule.helpers import utc
from tests.unit.web.webkit import mail

OUTAGE = "Outlook cannot connect to the mail server since 9:00, error 0x800CCC0E."


async def ingest(ingestor, sender: str, subject: str, body: str) -> int:
    outcome = await ingestor.ingest(mail(sender=sender, subject=subject, body=body), source="smtp",
                                    envelope_from=sender)
    assert outcome.new_ticket, outcome
    return outcome.ticket_id


async def make_incident(db, tid: int, *, status: str = "open") -> None:
    async with db.transaction() as session:
        row = await session.get(Ticket, tid)
        row.incident_title, row.status = "Mail server down", status


async def announcement(db, tid: int) -> str:
    async with db.transaction() as session:
        raw = await outbox_mail(session, Outbox.ticket_id == tid, Outbox.template == "level/announce")
    return email.message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()


async def test_a_report_of_the_same_outage_joins_the_incident(settings_factory, db):
    clock = FixedClock(utc("2026-01-05 09:10"))
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    first = await ingest(ingestor, "ann@client.example", "Mail server not reachable", OUTAGE)
    second = await ingest(ingestor, "ben@client.example", "Outlook: cannot connect", OUTAGE)
    await make_incident(db, first)
    clock.advance(minutes=5)
    third = await ingest(ingestor, "cat@other.example", "mail server down?", "Outlook cannot connect to the mail server, "
                                                                            "error 0x800CCC0E since this morning.")
    unrelated = await ingest(ingestor, "dan@client.example", "New laptop", "Please order a laptop for our intern.")
    async with db.transaction() as session:
        rows = {t.id: t.incident_id for t in (await session.scalars(select(Ticket))).all()}
        events = (await session.scalars(select(Event).where(Event.kind == "incident_linked"))).all()
    assert rows == {first: None, second: None, third: first, unrelated: None}  # earlier tickets: /link by hand
    assert [(e.ticket_id, e.data["ticket"], e.actor) for e in events] == [(first, third, "gateway")]
    assert f"Incident:  linked to HD-{first} (Mail server down): similar to HD-" in await announcement(db, third)
    assert "Incident:" not in await announcement(db, unrelated)


async def test_a_weaker_likeness_is_only_suggested(settings_factory, db):
    clock = FixedClock(utc("2026-01-05 09:10"))
    ingestor = Ingestor(settings=settings_factory(incidents={"link_at": 0.99}), db=db, clock=clock)
    first = await ingest(ingestor, "ann@client.example", "Mail server not reachable", OUTAGE)
    await make_incident(db, first)
    other = await ingest(ingestor, "cat@other.example", "mail server down?", "Outlook cannot connect to the mail server.")
    async with db.transaction() as session:
        assert (await session.get(Ticket, other)).incident_id is None
    assert f"possibly part of HD-{first} (Mail server down)" in await announcement(db, other)
    assert f"reply /link HD-{first} to link it" in await announcement(db, other)


async def test_resolved_or_old_incidents_take_no_one(settings_factory, db):
    clock = FixedClock(utc("2026-01-05 09:10"))
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    old = await ingest(ingestor, "ann@client.example", "Mail server not reachable", OUTAGE)
    await make_incident(db, old)
    clock.advance(hours=25)  # beyond [incidents] window_hours
    late = await ingest(ingestor, "cat@other.example", "Mail server not reachable", OUTAGE)
    await make_incident(db, late, status="resolved")  # and this one is over
    again = await ingest(ingestor, "dan@other.example", "Mail server not reachable", OUTAGE)
    async with db.transaction() as session:
        assert {t.id: t.incident_id for t in (await session.scalars(select(Ticket))).all()} == {
            old: None, late: None, again: None}


async def test_an_urgent_report_opens_an_incident_when_configured(settings_factory, db):
    clock = FixedClock(utc("2026-01-05 09:10"))
    ingestor = Ingestor(settings=settings_factory(incidents={"open_for_urgent": True}), db=db, clock=clock)
    first = await ingest(ingestor, "ann@client.example", "Mail server down", "The mail server is down, nobody can work.")
    second = await ingest(ingestor, "ben@client.example", "mail server down?", "Is the mail server down? Nobody here can work.")
    plain = await ingest(ingestor, "cat@client.example", "Printer jammed", "The printer on floor 2 is jammed.")
    async with db.transaction() as session:
        rows = {t.id: (t.priority, t.incident_title, t.incident_id) for t in (await session.scalars(select(Ticket))).all()}
    assert rows == {first: ("urgent", "Mail server down", None), second: ("urgent", None, first),
                    plain: ("medium", None, None)}
    assert "Incident:  opened for this urgent ticket" in await announcement(db, first)
    assert f"Incident:  linked to HD-{first}" in await announcement(db, second)


async def test_urgent_reports_open_no_incident_by_default(settings_factory, db):
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=FixedClock(utc("2026-01-05 09:10")))
    tid = await ingest(ingestor, "ann@client.example", "Mail server down", "The mail server is down, nobody can work.")
    async with db.transaction() as session:
        assert (await session.get(Ticket, tid)).incident_title is None


def test_config_check_names_a_bad_announce_address(tmp_path):
    from gateway.config import problems

    path = tmp_path / "config.toml"
    path.write_text('[incidents]\nannounce = ["status list"]\nlink_at = 2\n')
    _, found = problems(path, {}, deep=False)
    assert found == ["incidents.link_at: Input should be less than or equal to 1; fix it in config.toml or "
                     "GATEWAY_INCIDENTS__LINK_AT",
                     "incidents.announce: 'status list' is not an email address; fix it in config.toml or "
                     "GATEWAY_INCIDENTS__ANNOUNCE"]

"""Incidents by command: /incident, /link, /unlink, /update to every reporter once, /resolve of all linked tickets."""
from __future__ import annotations

import email
from email import policy

import pytest
from sqlalchemy import select

from gateway.mail.commands import parse_commands
from gateway.store.models import Event, Ticket
from tests.unit.pipeline.test_commands_step import reply
from tests.unit.schedule.helpers import ticket, utc

REPORTERS = ("boss@client.example", "ann@client.example", "ben@other.example", "ann@client.example")


@pytest.fixture
async def outage(settings_factory, db) -> list[int]:
    """The incident's ticket, then three tickets about the same outage (Ann wrote twice)."""
    async with db.transaction() as session:
        rows = [ticket(settings_factory(), utc("2026-01-05 09:00"), subject="Mail down", requester=who)
                for who in REPORTERS]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


def sent(rows, template: str, after: int = 0) -> list[tuple[int, str]]:
    return [(r.ticket_id, r.recipient) for r in rows if r.template == template and r.id > after]


@pytest.mark.parametrize("line, arg", [("/link HD-4", "4"), ("/link [hd-12]", "12"), ("/unlink", ""),
                                       ("/incident", ""), ("/incident Mail is down", "Mail is down"),
                                       ("/update Back at 14:00", "Back at 14:00")])
def test_incident_commands_parse(line, arg):
    parsed = parse_commands(line)
    assert [c.arg for c in parsed.commands] == [arg] and parsed.errors == []


async def test_one_update_reaches_every_reporter_once_and_resolve_resolves_them_all(settings_factory, db, outage):
    settings = settings_factory()
    incident, ann, ben, ann_again = outage
    row, _, _ = await reply(db, settings, incident, text="/incident Mail server down")
    assert row.incident_title == "Mail server down"
    for tid in (ann, ben, ann_again):
        row, _, _ = await reply(db, settings, tid, text=f"/link HD-{incident}")
        assert row.incident_id == incident

    _, events, rows = await reply(db, settings, incident, text="/update We are restoring from backup.\n\nBack by 14:00.")
    assert sent(rows, "customer/incident_update") == [(incident, REPORTERS[0]), (ann, REPORTERS[1]), (ben, REPORTERS[2])]
    assert sent(rows, "customer/reply") == []  # the text went out as the update, not as a reply on the incident
    mail = email.message_from_bytes(next(r for r in rows if r.ticket_id == ben and r.template == "customer/incident_update").raw,
                                    policy=policy.default)
    assert mail["Subject"] == f"[HD-{ben}] Update: Mail server down"  # in Ben's own thread
    assert f"ihelp+t{ben}." in str(mail["Reply-To"])
    text = mail.get_body(("plain",)).get_content()
    assert "We are restoring from backup." in text and "Back by 14:00." in text
    result = [r for r in rows if r.template == "engineer/result"][-1]
    assert "update sent to 3 reporters" in email.message_from_bytes(result.raw, policy=policy.default).get_content()

    await reply(db, settings, ben, text="/unlink")
    last = rows[-1].id
    _, _, rows = await reply(db, settings, incident, text="/resolve Restored the mail store")
    assert sorted(sent(rows, "customer/resolved", after=last)) == [(incident, REPORTERS[0]), (ann, REPORTERS[1])]
    async with db.transaction() as session:
        status = {t.id: t.status for t in (await session.scalars(select(Ticket))).all()}
        kinds = (await session.scalars(select(Event.ticket_id).where(Event.kind == "resolved_with_incident"))).all()
    assert status == {incident: "resolved", ann: "resolved", ben: "open", ann_again: "resolved"}
    assert sorted(kinds) == [ann, ann_again]


@pytest.mark.parametrize("target, text, error", [
    ("plain", "/update Soon", "is not an incident; make it one with /incident"),
    ("plain", "/unlink", "is not linked to an incident"),
    ("plain", "/link HD-999", "there is no ticket HD-999"),
    ("plain", "/link HD-{other}", "it is not an incident: HD-"),
    ("incident", "/update", "/update: needs the text to send"),
    ("incident", "/incident again", "is already an incident"),
    ("incident", "/link HD-{other}", "is an incident itself"),
])
async def test_bad_incident_commands_change_nothing_and_say_why(settings_factory, db, outage, target, text, error):
    settings = settings_factory()
    incident, plain, other, _ = outage
    await reply(db, settings, incident, text="/incident")
    tid = incident if target == "incident" else plain
    row, events, rows = await reply(db, settings, tid, text=text.format(other=other))
    failed = [e for e in events if e.kind == "commands_failed"]
    assert failed and error in failed[-1].data["errors"][0]
    assert row.incident_id is None and sent(rows, "customer/incident_update") == []


async def test_a_linked_ticket_cannot_become_an_incident(settings_factory, db, outage):
    settings = settings_factory()
    incident, linked, _, _ = outage
    await reply(db, settings, incident, text="/incident")
    await reply(db, settings, linked, text=f"/link HD-{incident}")
    row, events, _ = await reply(db, settings, linked, text="/incident")
    assert row.incident_title is None
    assert f"is linked to incident HD-{incident}; /unlink it first" in events[-1].data["errors"][0]


async def test_tickets_show_names_the_incident_and_its_tickets(settings_factory, db, outage):
    from gateway.commands import render_ticket
    from gateway.store.repo import show_ticket

    settings = settings_factory()
    incident, linked, _, _ = outage
    await reply(db, settings, incident, text="/incident Mail server down")
    await reply(db, settings, linked, text=f"/link HD-{incident}")
    async with db.transaction() as session:
        shown = [render_ticket(await show_ticket(session, ref=f"HD-{n}", prefix="HD")) for n in (incident, linked)]
    assert f"  incident: Mail server down; linked: HD-{linked}" in shown[0]
    assert f"  close-out: service -; cause -; workaround -; 0 follow-up(s) (`gateway report HD-{incident}`)" in shown[0]
    assert f"  part of incident HD-{incident}" in shown[1]


async def test_the_recipient_list_hears_each_update_and_the_resolution_once(settings_factory, db, outage):
    settings = settings_factory(incidents={"announce": ["status@example.com"]})
    incident, ann, _, _ = outage
    await reply(db, settings, incident, text="/incident Mail server down\n/cc Owner@Client.example")
    await reply(db, settings, incident, text="/cc status@example.com")  # already listed by config: still once
    await reply(db, settings, ann, text=f"/link HD-{incident}")
    _, _, rows = await reply(db, settings, incident, text="/update Restoring from backup.")
    assert sent(rows, "stakeholder/incident_update") == [(incident, "status@example.com"),
                                                         (incident, "owner@client.example")]
    update = email.message_from_bytes(next(r.raw for r in rows if r.template == "stakeholder/incident_update"),
                                      policy=policy.default).get_content()
    assert "sent to its 2 reporters as well" in update and "Restoring from backup." in update
    last = rows[-1].id
    _, _, rows = await reply(db, settings, incident, text="/resolve Replaced the disk")
    assert sent(rows, "stakeholder/incident_resolved", after=last) == [(incident, "status@example.com"),
                                                                        (incident, "owner@client.example")]


@pytest.mark.parametrize("target, text, error", [
    ("plain", "/cc owner@client.example", "is not an incident"),
    ("incident", "/cc boss@client.example", "reported HD-1 and hears every update already"),
    ("incident", "/cc the boss", "/cc needs an email address"),
])
async def test_bad_cc_lines_say_why(settings_factory, db, outage, target, text, error):
    settings = settings_factory()
    incident, plain, _, _ = outage
    await reply(db, settings, incident, text="/incident")
    _, events, _ = await reply(db, settings, incident if target == "incident" else plain, text=text)
    assert error in [e for e in events if e.kind == "commands_failed"][-1].data["errors"][0]

"""Per-service incident words ([[incidents.services]]): urgent mail about a service opens its incident, later mail
naming the service joins it, and two services' outages stay apart."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.clock import FixedClock
from gateway.config import IncidentService
from gateway.incident_services import Named, named
from gateway.ingest import Ingestor
from gateway.store.models import Ticket
from tests.unit.pipeline.test_commands_step import reply
from tests.unit.pipeline.test_incident_link import announcement, ingest
from tests.unit.schedule.helpers import utc

SERVICES = [{"name": "mail", "words": ["outlook", "email", "mail  server"]},
            {"name": "vpn", "words": ["vpn", "GlobalProtect"]}]


@pytest.mark.parametrize("subject, text, found", [
    ("Outlook down", "", [Named("mail", "outlook")]),
    ("Help", "Our MAIL\n server is down, and the VPN too", [Named("mail", "mail server"), Named("vpn", "vpn")]),
    ("Emails bounce", "", []),  # whole words only: "emails" is not "email"
    ("Webmail", "the mailserver", []),
    ("Printer", "x" * 1500 + " outlook", []),  # beyond the first 1,500 characters of the text
])
def test_which_services_a_mail_names(subject, text, found):
    services = [IncidentService(**s) for s in SERVICES]
    assert named(services, subject, text) == found


def settings(settings_factory, **more):
    return settings_factory(incidents={"open_for_urgent": True, "services": SERVICES, **more})


async def tickets(db) -> dict[int, tuple]:
    async with db.transaction() as session:
        return {t.id: (t.incident_title, t.incident_service, t.incident_id)
                for t in (await session.scalars(select(Ticket))).all()}


async def test_urgent_mail_about_a_service_opens_its_incident_and_mail_naming_it_joins(settings_factory, db):
    clock = FixedClock(utc("2026-01-05 09:10"))
    ingestor = Ingestor(settings=settings(settings_factory), db=db, clock=clock)
    mail = await ingest(ingestor, "ann@client.example", "Outlook down", "Outlook is down, nobody can work.")
    vpn = await ingest(ingestor, "ben@client.example", "VPN down", "The VPN server is down, nobody can work.")
    other = await ingest(ingestor, "cat@client.example", "Payroll crashed", "Payroll crashed: the company is losing money.")
    # Few shared words with the first report, but it names the service: it joins, with the word as the reason.
    joined = await ingest(ingestor, "dan@client.example", "Cannot send", "My email is stuck in the outbox.")
    clock.advance(hours=25)  # the window runs from the incident's newest ticket: dan's, 25 hours ago
    late = await ingest(ingestor, "eve@client.example", "email?", "Is email working again?")
    assert await tickets(db) == {
        mail: ("Outlook down", "mail", None), vpn: ("VPN down", "vpn", None),
        other: (None, None, None),  # about no configured service: no incident by itself
        joined: (None, None, mail), late: (None, None, None)}
    assert f"Incident:  linked to HD-{mail} (Outlook down): names its service mail (email)" in await announcement(db, joined)
    async with db.transaction() as session:
        assert (await session.get(Ticket, other)).priority == "urgent"


async def test_similar_words_do_not_join_another_service_s_incident(settings_factory, db):
    clock = FixedClock(utc("2026-01-05 09:10"))
    ingestor = Ingestor(settings=settings(settings_factory, link_at=0.3), db=db, clock=clock)
    mail = await ingest(ingestor, "ann@client.example", "Outlook server down",
                        "Outlook: the server is down since 9:00, nobody in sales can work.")
    vpn = await ingest(ingestor, "ben@client.example", "VPN server down",
                       "VPN: the server is down since 9:00, nobody in sales can work.")
    assert (await tickets(db))[vpn] == ("VPN server down", "vpn", None)
    assert (await tickets(db))[mail] == ("Outlook server down", "mail", None)


async def test_an_engineer_s_incident_takes_the_service_its_mail_names(settings_factory, db):
    config = settings(settings_factory, open_for_urgent=False)
    ingestor = Ingestor(settings=config, db=db, clock=FixedClock(utc("2026-01-05 09:10")))
    tid = await ingest(ingestor, "ann@client.example", "Cannot work", "GlobalProtect says the gateway is unreachable.")
    row, _, rows = await reply(db, config, tid, text="/incident Remote access down", sender="bob@example.com",
                               token="engineer")
    assert (row.incident_title, row.incident_service) == ("Remote access down", "vpn")


def test_config_rejects_an_empty_word_and_twice_the_same_service(tmp_path):
    from gateway.config import problems

    path = tmp_path / "config.toml"
    path.write_text('[[incidents.services]]\nname = "mail"\nwords = ["outlook", " "]\n'
                    '[[incidents.services]]\nname = "Mail"\nwords = ["email"]\n')
    _, found = problems(path, {}, deep=False)
    assert found == ["incidents.services.0.words: an empty word matches every mail; remove it; fix it in config.toml "
                     "or GATEWAY_INCIDENTS__SERVICES__WORDS"]
    path.write_text('[[incidents.services]]\nname = "mail"\nwords = ["outlook"]\n'
                    '[[incidents.services]]\nname = "Mail"\nwords = ["email"]\n')
    _, found = problems(path, {}, deep=False)
    assert found == ["incidents.services: service names must be unique, got ['mail', 'Mail']; fix it in config.toml "
                     "or GATEWAY_INCIDENTS__SERVICES"]

"""Over real SMTP: an incident's close mails its final report to the recipient list once; close-out lines of
anyone but an engineer change nothing; a later /followup sends the report again, once."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.store.models import FollowUp, Outbox, Ticket
from tests.conftest import free_port
from tests.integration.serving import asend, body, make_mail, start, to, wait_for
from tests.integration.test_level_workflow import command

BOB, STATUS, OWNER = "bob@example.com", "status@example.com", "owner@client.example"
REPORTERS = [f"user{n}@client.example" for n in range(3)]


@pytest.fixture
async def gw(settings_factory, relay):
    settings = settings_factory(smtp={"port": free_port()},
                                outbound={"mode": "smtp", "port": relay.port, "poll_seconds": 0.05},
                                incidents={"announce": [STATUS]})
    running = await start(settings)
    yield running
    await running.shutdown()


def subjects(relay, address: str, words: str) -> list:
    return [m for m in to(relay, address) if words in m["Subject"]]


async def incident_row(gw) -> tuple[Ticket, list[str], list[str]]:
    async def read(session):
        return (await session.get(Ticket, 1), list((await session.scalars(select(FollowUp.text))).all()),
                list((await session.scalars(select(Outbox.recipient).where(
                    Outbox.template.like("stakeholder/%report%") | (Outbox.template == "stakeholder/incident_resolved"))
                    .order_by(Outbox.id))).all()))
    return await gw.read(read)


async def test_the_close_mails_the_report_to_the_list_once_and_strangers_cannot_close_out(gw, relay):
    for who in REPORTERS:
        await asend(gw.port, make_mail(sender=who, subject="Cannot reach the mail server",
                                       body="Outlook says the server is unavailable."))
    await wait_for(lambda: len(to(relay, "sysadmins@example.com")) == 3)
    announced = {int(m["Subject"][4:].split("]")[0]): m for m in to(relay, "sysadmins@example.com")}
    await command(gw, BOB, announced[1], f"/incident Mail server down\n/cc {OWNER}")
    for n in (2, 3):
        await command(gw, BOB, announced[n], "/link HD-1")
    await wait_for(lambda: len(to(relay, BOB)) == 3)

    # The reporter of HD-1 answers their acknowledgement with close-out lines: plain text, nothing changes.
    [ack] = to(relay, REPORTERS[0])
    await command(gw, REPORTERS[0], ack, "/cause data The admins broke it\n/workaround None\n/followup Fire them")
    row, followups, listed = await incident_row(gw)
    assert (row.cause_category, row.cause, row.workaround, followups, listed) == (None, None, None, [], [])

    await command(gw, BOB, announced[1], "/resolve Replaced the failed disk\n/cause hardware The mail store's disk failed")
    closed = await wait_for(lambda: (lambda found: found if len(found) == 2 else None)(
        [m for m in relay.parsed() if "Incident resolved: Mail server down" in m["Subject"]]))
    assert sorted(str(m["To"]) for m in closed) == sorted([STATUS, OWNER])
    text = body(closed[0])
    assert "# Final report: Mail server down (HD-1)" in text
    assert "- Reporters: 3, on 3 tickets" in text and "- Cause category: hardware" in text
    assert f"resolved ({BOB}): Replaced the failed disk" in text
    [result] = await wait_for(lambda: subjects(relay, BOB, "Done:")[3:])
    assert "/workaround text" in body(result) and "/followup text" in body(result)  # what the report still lacks

    await command(gw, BOB, result, "/followup Alert on disk errors")
    again = await wait_for(lambda: (lambda found: found if len(found) == 2 else None)(
        [m for m in relay.parsed() if "Final report updated: Mail server down" in m["Subject"]]))
    assert sorted(str(m["To"]) for m in again) == sorted([STATUS, OWNER])
    assert "1. Alert on disk errors" in body(again[0])

    # After the close, a reporter's close-out lines do not reach the report or the list either.
    await command(gw, REPORTERS[1], to(relay, REPORTERS[1])[0], "/followup Something else")
    row, followups, listed = await incident_row(gw)
    assert (row.cause_category, row.workaround, followups) == ("hardware", None, ["Alert on disk errors"])
    assert sorted(listed) == sorted([STATUS, OWNER] * 2)  # the close once, the update once: nothing more queued

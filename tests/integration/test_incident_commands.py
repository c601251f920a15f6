"""End to end over SMTP: five reporters of one outage, linked to an incident; one /update and one /resolve reach each once."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from gateway.store.models import Outbox, Ticket
from tests.integration.serving import asend, body, make_mail, to, wait_for
from tests.integration.test_level_workflow import command

BOB = "bob@example.com"  # an engineer of level 3, where urgent tickets start
REPORTERS = [f"user{n}@client.example" for n in range(5)]


async def statuses(gw) -> dict[int, tuple[str, int | None]]:
    async def read(session):
        return {t.id: (t.status, t.incident_id) for t in (await session.scalars(select(Ticket))).all()}
    return await gw.read(read)


async def queued(gw, template: str) -> int:
    async def read(session):
        return len((await session.scalars(select(Outbox.id).where(Outbox.template == template))).all())
    return await gw.read(read)


def announcement(relay, n: int):
    return next(m for m in to(relay, "sysadmins@example.com") if m["Subject"].startswith(f"[HD-{n}]"))


async def test_one_update_and_one_resolve_reach_every_reporter_in_their_own_thread(gw, relay):
    await asyncio.gather(*(asend(gw.port, make_mail(sender=who, subject="Cannot reach the mail server",
                                                    body="Outlook says the server is unavailable."))
                           for who in REPORTERS))
    await wait_for(lambda: len(to(relay, "sysadmins@example.com")) == 5)
    await command(gw, BOB, announcement(relay, 1), "/incident Mail server down")
    for n in range(2, 6):
        await command(gw, BOB, announcement(relay, n), "/link HD-1")
    await wait_for(lambda: len(to(relay, BOB)) == 5)
    assert {n: incident for n, (_, incident) in (await statuses(gw)).items()} == {1: None, 2: 1, 3: 1, 4: 1, 5: 1}

    await command(gw, BOB, announcement(relay, 1), "/update The disk array is rebuilding; back by 14:00.")
    updates = await wait_for(lambda: (lambda found: found if len(found) == 5 else None)(
        [m for m in relay.parsed() if "Update: Mail server down" in m["Subject"]]))
    threads = {str(m["To"]): m["Subject"].split("]")[0] + "]" for m in updates}
    own = {str(acks[0]["To"]): acks[0]["Subject"].split("]")[0] + "]" for acks in (to(relay, w) for w in REPORTERS)}
    assert threads == own  # each reporter, once, under their own ticket's reference
    assert all("back by 14:00" in body(m) for m in updates)

    await command(gw, BOB, announcement(relay, 1), "/resolve Replaced the failed disk")
    resolved = await wait_for(lambda: (lambda found: found if len(found) == 5 else None)(
        [m for m in relay.parsed() if "] Resolved:" in m["Subject"]]))
    assert sorted(str(m["To"]) for m in resolved) == REPORTERS
    assert {status for status, _ in (await statuses(gw)).values()} == {"resolved"}
    assert await queued(gw, "customer/resolved") == 5  # written with the command: nothing more is on its way


LATER = [(f"late{n}@client.example", subject, text) for n, (subject, text) in enumerate([
    ("Mail server down?", "Outlook says the mail server is unavailable since this morning."),
    ("Cannot reach the mail server", "Since 9:00 Outlook cannot reach the server, unavailable."),
    ("outlook: server unavailable", "The mail server is unavailable, Outlook cannot send or receive."),
    ("Re: mail server", "Same here: Outlook says the server is unavailable."),
    ("No mail", "Outlook: the mail server is unavailable. Cannot reach it."),
    ("mail server unreachable", "Our whole team cannot reach the mail server; Outlook says unavailable."),
])]


async def test_reports_after_the_incident_join_it_by_themselves(gw, relay):
    await asend(gw.port, make_mail(sender=REPORTERS[0], subject="Cannot reach the mail server",
                                   body="Outlook says the server is unavailable."))
    [first] = await wait_for(lambda: to(relay, "sysadmins@example.com"))
    await command(gw, BOB, first, "/incident Mail server down")
    await wait_for(lambda: to(relay, BOB))
    # One after another: six clients at once would take every thread of the loop's default executor,
    # which this in-process serve needs too (the similar step), and wait on it for ever.
    for who, subject, text in LATER:
        await asend(gw.port, make_mail(sender=who, subject=subject, body=text))
    await wait_for(lambda: len(to(relay, "sysadmins@example.com")) == 1 + len(LATER))
    linked = [n for n, (_, incident) in (await statuses(gw)).items() if incident == 1]
    assert len(linked) >= len(LATER) - 1  # the done-when of issue 20: nearly all without an engineer
    announcements = [m for m in to(relay, "sysadmins@example.com") if "Incident:  linked to HD-1" in body(m)]
    assert len(announcements) == len(linked)

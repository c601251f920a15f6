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
    db = gw.database()
    try:
        async with db.transaction() as session:
            return {t.id: (t.status, t.incident_id) for t in (await session.scalars(select(Ticket))).all()}
    finally:
        await db.dispose()


async def queued(gw, template: str) -> int:
    db = gw.database()
    try:
        async with db.transaction() as session:
            return len((await session.scalars(select(Outbox.id).where(Outbox.template == template))).all())
    finally:
        await db.dispose()


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

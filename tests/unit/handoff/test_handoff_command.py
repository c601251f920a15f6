"""/handoff by mail and [[handoff.rules]]: queued in the command's transaction, for engineers only, once per tracker."""
from __future__ import annotations

import email
from email import policy

import pytest
from sqlalchemy import select

from gateway.store.models import TrackerDelivery
from tests.unit.pipeline.test_commands_step import reply
from tests.unit.schedule.helpers import ticket, utc

GITLAB = {"name": "gl", "kind": "gitlab", "url": "https://gitlab.example.com", "project": "8", "token_env": "T"}
HOOK = {"name": "hook", "kind": "webhook", "url": "https://hooks.example.com/in", "secret_env": "S"}


async def new_ticket(db, settings, **fields) -> int:
    async with db.transaction() as session:
        row = ticket(settings, utc("2026-01-05 09:00"), **fields)
        session.add(row)
        await session.flush()
        return row.id


async def deliveries(db) -> list[TrackerDelivery]:
    async with db.transaction() as session:
        return list((await session.scalars(select(TrackerDelivery).order_by(TrackerDelivery.id))).all())


def text_of(row) -> str:
    return email.message_from_bytes(row.raw, policy=policy.default).get_body(("plain",)).get_content()


@pytest.fixture
def settings(settings_factory):
    return settings_factory(trackers=[GITLAB, HOOK])


async def test_an_engineer_hands_off_to_the_first_tracker_by_default(db, settings):
    tid = await new_ticket(db, settings)
    _, events, rows = await reply(db, settings, tid, text="/handoff")
    [row] = await deliveries(db)
    assert (row.ticket_id, row.tracker, row.status, row.actor) == (tid, "gl", "pending", "alice@example.com")
    assert row.payload["ticket"] == f"HD-{tid}" and row.payload["title"] == f"[HD-{tid}] Printer down"
    assert row.payload["idempotency_key"] == row.idempotency_key and row.idempotency_key.isalnum()
    assert "customer@client.example" not in row.payload["body"]  # a tracker may be more public than the desk
    assert [e.kind for e in events if e.kind.startswith(("handoff", "command_handoff"))] == [
        "handoff_queued", "command_handoff"]
    [result] = [r for r in rows if r.template == "engineer/result"]
    assert "handed off to gl: queued" in text_of(result)
    from gateway.commands import render_ticket
    from gateway.store import repo

    async with db.transaction() as session:
        shown = await repo.show_ticket(session, ref=f"HD-{tid}", prefix="HD")
    assert [h["tracker"] for h in shown["handoffs"]] == ["gl"]
    assert "  tracker gl: pending, 0 attempt(s)" in render_ticket(shown).splitlines()


async def test_a_named_tracker_once_only(db, settings):
    tid = await new_ticket(db, settings)
    await reply(db, settings, tid, text="/handoff hook")
    _, _, rows = await reply(db, settings, tid, text="/handoff hook")
    assert [d.tracker for d in await deliveries(db)] == ["hook"]
    [error] = [r for r in rows if r.template == "engineer/error"]
    assert f"HD-{tid} was handed off to hook already" in text_of(error)


@pytest.mark.parametrize("trackers, line, why", [
    ([GITLAB], "/handoff jira", "there is no tracker 'jira'; the trackers are gl"),
    ([], "/handoff", "no tracker is configured; add a [[trackers]] entry"),
    ([GITLAB], "/handoff two words", "needs a tracker's name"),
])
async def test_unknown_or_missing_tracker_is_an_error_mail(db, settings_factory, trackers, line, why):
    settings = settings_factory(trackers=trackers)
    tid = await new_ticket(db, settings)
    _, _, rows = await reply(db, settings, tid, text=line)
    assert await deliveries(db) == []
    [error] = [r for r in rows if r.template == "engineer/error"]
    assert why in text_of(error)


async def test_a_non_engineer_hands_nothing_off(db, settings):
    tid = await new_ticket(db, settings)
    _, events, _ = await reply(db, settings, tid, text="/handoff gl", sender="customer@client.example",
                               token="customer")
    assert await deliveries(db) == []
    assert [e.data["lines"] for e in events if e.kind == "commands_refused"] == [["/handoff gl"]]


async def test_a_rule_hands_off_a_bug_that_reaches_level_4(db, settings_factory):
    settings = settings_factory(trackers=[GITLAB], handoff={"rules": [
        {"name": "bugs-at-engineering", "tracker": "gl", "category": "bug", "level": 4}]})
    bug = await new_ticket(db, settings, level=3)
    change = await new_ticket(db, settings, level=3, category="change")
    await reply(db, settings, change, text="/escalate 4", sender="bob@example.com", token="engineer")
    assert await deliveries(db) == []
    _, events, rows = await reply(db, settings, bug, text="/escalate 4", sender="bob@example.com", token="engineer")
    [row] = await deliveries(db)
    assert (row.ticket_id, row.tracker, row.actor) == (bug, "gl", "gateway")
    assert [e.data["why"] for e in events if e.kind == "handoff_queued"] == ["rule bugs-at-engineering"]
    # A /category bug later on the change ticket at level 4 matches the rule too.
    await reply(db, settings, change, text="/category bug", sender="carol@example.com", token="engineer")
    assert sorted(d.ticket_id for d in await deliveries(db)) == sorted([bug, change])


async def test_a_new_ticket_matching_a_rule_is_handed_off_as_it_is_recorded(settings_factory, tmp_path):
    from gateway.clock import FixedClock
    from gateway.ingest import Ingestor
    from gateway.store.migrate import upgrade

    settings = settings_factory(trackers=[GITLAB], handoff={"rules": [{"name": "all-urgent", "tracker": "gl",
                                                                        "priority": "urgent"}]})
    db = settings.open_database()
    await upgrade(db)
    ingestor = Ingestor(settings=settings, db=db, clock=FixedClock(utc("2026-01-05 10:00")))
    try:
        for subject, text in (("Mail server down", "The whole office cannot send mail, the server is down."),
                              ("Question about invoices", "How do I download last year's invoices? No rush.")):
            raw = (f"From: someone@client.example\r\nTo: ihelp@example.com\r\nSubject: {subject}\r\n"
                   f"Message-ID: <{len(text)}@client.example>\r\n\r\n{text}\r\n").encode()
            await ingestor.ingest(raw, source="smtp", envelope_from="someone@client.example")
        [row] = await deliveries(db)
        assert row.payload["subject"] == "Mail server down" and row.payload["priority"] == "urgent"
    finally:
        ingestor.close()
        await db.dispose()

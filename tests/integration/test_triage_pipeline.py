"""Triage in the pipeline: the created event and the announcement say which stage decided and why;
/category corrections are read back as training examples, and `gateway classifier train` uses them."""
from __future__ import annotations

import asyncio
import email
import json
from email import policy

import pytest
from sqlalchemy import select

from gateway.cli import main
from gateway.ingest import Ingestor
from gateway.schedule.jobs import run_jobs, start_scheduler, stop_scheduler
from gateway.store.db import Database
from gateway.store.migrate import upgrade
from gateway.store.models import Event, Outbox
from gateway.triage.learn import corrections
from tests.conftest import outbox_mail
from tests.integration.serving import make_mail


async def ingest(settings, db, clock, subject: str, body: str) -> int:
    outcome = await Ingestor(settings=settings, db=db, clock=clock).ingest(
        make_mail(subject=subject, body=body).as_bytes(), source="test", envelope_from="customer@example.org")
    return outcome.ticket_id


async def test_the_created_event_and_announcement_say_which_stage_decided(any_db, settings_factory, clock):
    settings = settings_factory()
    ticket = await ingest(settings, any_db, clock, "Rapport des ventes",
                          "Il faudrait que le rapport des ventes affiche aussi la marge par client.")
    async with any_db.transaction() as session:
        created = await session.scalar(select(Event).where(Event.ticket_id == ticket, Event.kind == "created"))
        raw = await outbox_mail(session, Outbox.template == "level/announce")
    category, priority = created.data["decisions"]
    assert (category["field"], category["value"], category["stage"]) == ("category", "change", "model")
    assert 0 < category["confidence"] <= 1 and category["why"][0].startswith("words: ")
    assert (priority["value"], priority["stage"]) == ("medium", "default")
    text = email.message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    assert category["text"] in text and "category change by the model" in text


async def test_an_emergency_in_german_is_urgent_and_routed_up(any_db, settings_factory, clock):
    settings = settings_factory()
    ticket = await ingest(settings, any_db, clock, "Dateiserver", "Der Dateiserver ist abgestürzt, nichts geht.")
    async with any_db.transaction() as session:
        created = await session.scalar(select(Event).where(Event.ticket_id == ticket, Event.kind == "created"))
    assert created.data["priority"] == "urgent" and created.data["level"] == settings.priority.urgent_level
    assert created.data["decisions"][1]["text"].startswith("priority urgent by the rules (service-down")


async def correct(db, ticket: int, *args: str) -> None:
    async with db.transaction() as session:
        for n, arg in enumerate(args):
            session.add(Event(ticket_id=ticket, kind="command_category", actor="alice@example.com",
                              data={"arg": arg, "line": f"/category {arg}", "text": ""},
                              at=clock_at(n)))


def clock_at(n: int):
    from datetime import datetime, timezone

    return datetime(2026, 12, 6, 9, n, tzinfo=timezone.utc)


async def test_corrections_are_the_first_inbound_text_with_the_last_category(any_db, settings_factory, clock):
    settings = settings_factory()
    first = await ingest(settings, any_db, clock, "Projector", "The projector bulb in room 2 needs replacing.")
    second = await ingest(settings, any_db, clock, "Blinds", "The blinds at reception are stuck.")
    await ingest(settings, any_db, clock, "Untouched", "Nobody corrected this one.")
    await correct(any_db, first, "change", "misc")  # the last correction counts
    await correct(any_db, second, "nonsense")  # not a category: ignored
    async with any_db.transaction() as session:
        found = await corrections(session)
    assert [(e.subject, e.label, e.source) for e in found] == [("Projector", "misc", f"ticket {first}")]
    assert found[0].body.startswith("The projector bulb in room 2")


def test_classifier_train_uses_the_desks_corrections(settings_factory, clock, tmp_path, capsys):
    pytest.importorskip("sklearn")
    settings = settings_factory()

    async def desk() -> None:  # main() runs its own event loop, so the desk is set up in one of its own
        db = Database(settings.database.url)
        try:
            await upgrade(db)
            ticket = await ingest(settings, db, clock, "Coffee machine", "The coffee machine is leaking.")
            await correct(db, ticket, "misc")
        finally:
            await db.dispose()

    asyncio.run(desk())
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{settings.database.url}"\n')
    assert main(["--config", str(config), "classifier", "train", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["corrections"] == 1 and result["old_model"] == "category.json.gz"
    # One correction moves the model by noise; whether it is kept follows the held-out comparison.
    assert result["accepted"] == (result["new_accuracy"] >= result["old_accuracy"])
    written = sorted((tmp_path / "var" / "models").glob("category-*.json.gz"))
    assert [str(p) for p in written] == ([result["new_model"]] if result["accepted"] else [])


async def test_jobs_run_classifier_retrains_from_corrections(db, settings_factory, clock):
    pytest.importorskip("sklearn")
    settings = settings_factory()
    ticket = await ingest(settings, db, clock, "Blinds", "The blinds in meeting room 2 are stuck.")
    await correct(db, ticket, "misc")
    done = await run_jobs("classifier", settings=settings, db=db, clock=clock)
    result = done["classifier"]
    assert result["corrections"] == 1 and result["held_out"] > 0
    # One correction moves the model by noise; whether it is kept follows the held-out comparison.
    assert result["accepted"] == (result["new_accuracy"] >= result["old_accuracy"])
    assert ("accepted" if result["accepted"] else "refused") in result["summary"]


@pytest.mark.parametrize("train_at, scheduled", [("02:30", True), (None, False)])
async def test_serve_schedules_the_nightly_training_when_configured(db, settings_factory, clock, train_at, scheduled):
    settings = settings_factory(classify={"train_at": train_at})
    scheduler = start_scheduler(settings=settings, db=db, clock=clock)
    try:
        job = scheduler.get_job("classifier")
        assert (job is not None) == scheduled
        if job:
            assert str(job.trigger).startswith("cron[") and "hour='2', minute='30'" in str(job.trigger)
    finally:
        await stop_scheduler(scheduler)


async def ack_text(db, ticket: int) -> str:
    async with db.transaction() as session:
        raw = await outbox_mail(session, Outbox.ticket_id == ticket, Outbox.template == "customer/ack")
    return email.message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()


@pytest.mark.parametrize("subject, body, asks", [
    ("Report broken", "The stock report shows wrong totals for Region North.", True),
    ("CRM crashes", "When I click Save on a new contact the CRM crashes. It happens every time; "
                    "the error says \"Object reference not set\".", False),
    ("Idea", "It would be great if the stock report could show last year's figures next to this year's.", False),
])
async def test_the_acknowledgement_asks_once_for_what_a_bug_report_lacks(any_db, settings_factory, clock,
                                                                           subject, body, asks):
    settings = settings_factory()
    ticket = await ingest(settings, any_db, clock, subject, body)
    text = await ack_text(any_db, ticket)
    assert ("please reply with:" in text) == asks
    if asks:
        assert "the steps that lead to the problem" in text and "every time or only sometimes" in text
    async with any_db.transaction() as session:
        created = await session.scalar(select(Event).where(Event.ticket_id == ticket, Event.kind == "created"))
    assert ("report" in created.data) == (created.data["category"] == "bug")


async def test_the_announcement_lists_open_tickets_that_look_the_same(any_db, settings_factory, clock):
    settings = settings_factory()
    first = await ingest(settings, any_db, clock, "Printer prints blank pages",
                         "The printer on the 2nd floor prints blank pages since the update.")
    await ingest(settings, any_db, clock, "VPN", "The VPN disconnects every five minutes.")
    third = await ingest(settings, any_db, clock, "Blank pages", "Our printer on floor 2 only prints blank pages.")
    async with any_db.transaction() as session:
        created = await session.scalar(select(Event).where(Event.ticket_id == third, Event.kind == "created"))
        raw = await outbox_mail(session, Outbox.ticket_id == third, Outbox.template == "level/announce")
    assert [s["ticket_id"] for s in created.data["similar"]] == [first]
    text = email.message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    assert "Possibly the same problem as:" in text and f"HD-{first} (similarity " in text


async def test_similar_max_zero_turns_the_search_off(db, settings_factory, clock):
    settings = settings_factory(tickets={"similar_max": 0})
    await ingest(settings, db, clock, "Printer prints blank pages", "The printer prints blank pages.")
    second = await ingest(settings, db, clock, "Blank pages", "Our printer only prints blank pages.")
    async with db.transaction() as session:
        created = await session.scalar(select(Event).where(Event.ticket_id == second, Event.kind == "created"))
    assert "similar" not in created.data

"""The board (order, SLA state, filters, search, the live fragment), /healthz and /metrics."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from gateway.config import MailboxConfig
from gateway.errors import TempFail
from gateway.ingest_timings import IngestTimings
from gateway.store.db import Database
from gateway.store.models import MailboxState, Ticket
from tests.unit.web.webkit import client, new_ticket, sign_in, web_app, web_settings


def refs(html: str) -> list[str]:
    return re.findall(r'data-ref="([^"]+)"', html)


async def test_urgent_on_top_with_sla_state_filters_and_search(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor, subject="Printer jammed", sender="ann@client.example")  # HD-1 medium
        await new_ticket(ingestor, subject="Server down, nobody can work")  # HD-2 urgent, level 3
        await new_ticket(ingestor, subject="Please add a user 100%_sure")  # HD-3
        async with db.transaction() as session:
            await session.execute(update(Ticket).where(Ticket.id == 3).values(status="pending"))
        clock.advance(hours=3)  # the urgent ticket's first answer (1 h) is overdue
        async with client(app) as http:
            await sign_in(http, "dora")
            board = (await http.get("/")).text
            assert refs(board)[0] == "HD-2"
            assert 'class="prio-urgent sla-breached"' in board and "sla-paused" in board
            assert refs((await http.get("/", params={"level": "3"})).text) == ["HD-2"]
            assert refs((await http.get("/", params={"status": "pending"})).text) == ["HD-3"]
            assert refs((await http.get("/", params={"q": "hd-1"})).text) == ["HD-1"]
            assert refs((await http.get("/", params={"q": "ANN@client"})).text) == ["HD-1"]
            assert refs((await http.get("/", params={"q": "100%_"})).text) == ["HD-3"]
            assert refs((await http.get("/", params={"q": "%"})).text) == ["HD-3"]  # taken literally
            # A value that is not a level is no filter at all (and never reaches SQL as text).
            assert refs((await http.get("/", params={"assignee": "-", "level": "x' OR 1=1"})).text) == \
                ["HD-2", "HD-1", "HD-3"]


async def test_the_live_fragment_changes_when_a_ticket_arrives_and_is_304_otherwise(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor)
        async with client(app) as http:
            await sign_in(http, "dora")
            first = await http.get("/board/rows")
            assert first.status_code == 200 and refs(first.text) == ["HD-1"]
            same = await http.get("/board/rows", headers={"If-None-Match": first.headers["etag"]})
            assert same.status_code == 304
            await new_ticket(ingestor, subject="Another one")
            changed = await http.get("/board/rows", headers={"If-None-Match": first.headers["etag"]})
            assert changed.status_code == 200 and refs(changed.text) == ["HD-1", "HD-2"]


async def test_the_board_lists_at_most_board_limit_and_counts_the_rest(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory, board_limit=2), db, clock) as (app, ingestor, _):
        for n in range(3):
            await new_ticket(ingestor, subject=f"Problem {n}")
        async with client(app) as http:
            await sign_in(http, "dora")
            board = (await http.get("/")).text
    assert len(refs(board)) == 2 and "3 tickets, the first 2 shown" in board


async def test_healthz_says_ok_or_503_with_reasons(settings_factory, db, clock):
    settings = web_settings(settings_factory)
    up = {"smtp": True}
    async with web_app(settings, db, clock, smtp_up=lambda: up["smtp"]) as (app, ingestor, _):
        await new_ticket(ingestor)
        async with client(app) as http:
            ok = await http.get("/healthz")
            assert ok.status_code == 200 and ok.json()["status"] == "ok"
            assert ok.json()["outbox_pending"] == 2 and ok.json()["smtp_listener"] == "up"
            assert ok.json()["spool_pending"] == 0 and ok.json()["spool_oldest_seconds"] is None
            up["smtp"] = False
            down = await http.get("/healthz")
            assert down.status_code == 503 and "SMTP listener is not serving" in down.json()["problems"][0]
        app.state.deps.db = Database("postgresql+asyncpg://nobody@127.0.0.1:9/none")  # nothing listens on 9
        async with client(app) as http:
            gone = await http.get("/healthz")
        await app.state.deps.db.dispose()
    assert gone.status_code == 503 and gone.json()["database"].startswith("unreachable")
    assert "database unreachable" in gone.json()["problems"][0]


async def test_healthz_says_when_accepted_mail_waits_too_long(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await ingestor.accept(b"From: a@example.org\r\nSubject: waiting\r\n\r\nhi\r\n", source="smtp",
                              envelope_from="a@example.org")
        async with client(app) as http:
            fresh = await http.get("/healthz")
            clock.advance(seconds=app.state.deps.settings.spool.warn_after_seconds + 1)
            stuck = await http.get("/healthz")
            metrics = (await http.get("/metrics")).text
    assert fresh.status_code == 200 and fresh.json()["spool_pending"] == 1
    assert stuck.status_code == 503 and "spool: the oldest accepted mail has waited" in stuck.json()["problems"][0]
    assert "gateway_spool_pending 1.0" in metrics


async def test_healthz_says_what_to_do_when_the_spool_fails(settings_factory, db, clock, monkeypatch):
    async with web_app(web_settings(settings_factory), db, clock) as (app, _, _):
        async def missing(now):
            raise TempFail("spool file /srv/gw.db.spool.sqlite is missing or incomplete (no such file): "
                           "run `gateway db upgrade`")

        monkeypatch.setattr(app.state.deps.db.spool, "status", missing)
        async with client(app) as http:
            answer = await http.get("/healthz")
    assert answer.status_code == 503 and answer.json()["database"] == "ok"
    assert answer.json()["problems"] == ["spool: spool file /srv/gw.db.spool.sqlite is missing or incomplete "
                                         "(no such file): run `gateway db upgrade`"]


async def test_healthz_names_a_failing_mailbox(settings_factory, db, clock):
    settings = web_settings(settings_factory).model_copy(update={"mailboxes": (
        MailboxConfig(name="ihelp", host="imap.example.com", username="u", alert_after_minutes=30),)})
    async with web_app(settings, db, clock) as (app, _, _):
        async with db.transaction() as session:
            session.add(MailboxState(name="ihelp", failing_since=clock.now(), last_error="login refused"))
        async with client(app) as http:
            assert (await http.get("/healthz")).status_code == 200  # failing, but not for long yet
            clock.advance(minutes=31)
            late = await http.get("/healthz")
    assert late.status_code == 503 and "mailbox ihelp failing" in late.json()["problems"][0]
    assert "login refused" in late.json()["problems"][0]


async def test_metrics_in_prometheus_text_format(settings_factory, db, clock):
    timings = IngestTimings()
    for seconds in (0.004, 0.03, 0.03, 20):
        timings.observe("smtp", seconds)
    async with web_app(web_settings(settings_factory), db, clock, timings=timings) as (app, ingestor, _):
        await new_ticket(ingestor, subject="Server down, nobody can work")
        await new_ticket(ingestor)
        clock.advance(hours=2)
        async with client(app) as http:
            response = await http.get("/metrics")
    text = response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert 'gateway_mails_in{source="smtp"} 2.0' in text
    assert 'gateway_tickets{status="open"} 2.0' in text
    assert 'gateway_outbox{status="pending"} 4.0' in text
    assert "gateway_sla_breached_tickets 1.0" in text and "gateway_quarantine_held 0.0" in text
    assert "gateway_loop_guarded_total 0.0" in text
    assert 'gateway_ingest_seconds_bucket{le="0.005",transport="smtp"} 1.0' in text
    assert 'gateway_ingest_seconds_bucket{le="0.05",transport="smtp"} 3.0' in text
    assert 'gateway_ingest_seconds_bucket{le="10.0",transport="smtp"} 3.0' in text
    assert 'gateway_ingest_seconds_bucket{le="+Inf",transport="smtp"} 4.0' in text
    assert 'gateway_ingest_seconds_count{transport="smtp"} 4.0' in text
    assert 'gateway_ingest_seconds_sum{transport="smtp"} 20.064' in text


async def test_timed_ingest_records_failures_too():
    timings = IngestTimings()

    async def failing(raw, **kwargs):
        raise TempFail("database down")

    with pytest.raises(TempFail):
        await timings.timed("smtp", failing)(b"mail", source="smtp")
    assert sum(timings.counts["smtp"]) == 1


async def test_within_a_priority_breached_comes_first_and_paused_last(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        for subject in ("waiting on the customer", "fine", "overdue", "nearly due"):
            await new_ticket(ingestor, subject=subject)  # HD-1 … HD-4, medium, level 1, same moment
        async with db.transaction() as session:
            await session.execute(update(Ticket).where(Ticket.id == 1).values(status="pending"))
            await session.execute(update(Ticket).where(Ticket.id == 3).values(resolution_due=clock.now()))
            await session.execute(update(Ticket).where(Ticket.id == 4).values(resolution_warn_at=clock.now()))
        async with client(app) as http:
            await sign_in(http, "dora")
            assert refs((await http.get("/")).text) == ["HD-3", "HD-4", "HD-2", "HD-1"]

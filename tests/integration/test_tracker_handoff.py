"""End to end: /handoff by mail to a signed webhook on loopback that fails three times, then the tracker's
own hook closing the issue; a kill -9 of serve mid-delivery still makes one issue."""
from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import select

from gateway.handoff.trackers.webhook import signature
from gateway.store.models import Event, Outbox, Ticket, TrackerAttempt, TrackerDelivery
from tests.conftest import free_port
from tests.integration import crashkit
from tests.integration.serving import asend, body, make_mail, smtp_send, start, to, wait_for
from tests.integration.test_level_workflow import command
from tests.integration.tracker_server import FakeGitHub, TrackerServer

ALICE, CUSTOMER, SECRET = "alice@example.com", "customer@example.org", "s3cret-for-tests"
FAST = {"backoff_seconds": 0.05, "backoff_max_seconds": 0.2, "poll_seconds": 0.05, "timeout_seconds": 5,
        "lease_seconds": 15}


@pytest.fixture
def tracker():
    server = TrackerServer(secret=SECRET, fail_first=3).start()
    yield server
    server.stop()


@pytest.fixture
async def gw(settings_factory, relay, tracker):
    settings = settings_factory(smtp={"port": free_port()},
                                outbound={"mode": "smtp", "port": relay.port, "poll_seconds": 0.05},
                                web={"enabled": True, "port": free_port()},
                                trackers=[{"name": "devs", "kind": "webhook", "url": tracker.url,
                                           "secret_env": "DEVS_SECRET"}], handoff=FAST)
    running = await start(settings, environ={"DEVS_SECRET": SECRET})
    yield running
    await running.shutdown()


async def deliveries(gw) -> list[TrackerDelivery]:
    return await gw.read(lambda s: _all(s, select(TrackerDelivery)))


async def _all(session, query):
    return list((await session.scalars(query)).all())


async def hook(gw, payload: dict, *, secret: str = SECRET, at: int | None = None) -> httpx.Response:
    """The tracker's webhook over real HTTP (async: serve runs on this loop)."""
    raw = json.dumps(payload).encode()
    stamp = str(at or int(time.time()))
    async with httpx.AsyncClient() as client:
        return await client.post(f"http://127.0.0.1:{gw.settings.web.port}/hooks/tracker/devs", content=raw, headers={
            "Content-Type": "application/json", "X-Gateway-Timestamp": stamp,
            "X-Gateway-Signature": signature(secret, stamp, raw)})


async def test_handoff_survives_three_failures_makes_one_issue_and_hears_it_closed(gw, relay, tracker):
    await asend(gw.port, make_mail(sender=CUSTOMER, subject="Invoice export crashes",
                                   body="Exporting an invoice to PDF fails with error 500."))
    [announce] = await wait_for(lambda: to(relay, "frontdesk@example.com"))
    [ack] = await wait_for(lambda: to(relay, CUSTOMER))

    # The customer writing the command on their own ticket hands nothing off.
    await command(gw, CUSTOMER, ack, "/handoff devs")
    await wait_for(lambda: gw.read(lambda s: _all(s, select(Event).where(Event.kind == "commands_refused"))))
    assert await deliveries(gw) == [] and tracker.requests == []

    await command(gw, ALICE, announce, "/handoff devs")
    [row] = await wait_for(lambda: _delivered(gw))
    assert [r["status"] for r in tracker.requests] == [503, 503, 503, 201]
    assert all(r["valid"] for r in tracker.requests)  # every delivery signed with the shared secret
    assert {r["key"] for r in tracker.requests} == {row.idempotency_key}
    assert len(tracker.issues) == 1
    issue_url = tracker.issues[row.idempotency_key]["url"]
    sent = tracker.requests[-1]["body"]
    assert (sent["ticket"], sent["category"], sent["requester"]) == ("HD-1", row.payload["category"], CUSTOMER)
    assert "error 500" in sent["text"]

    [ticket] = await gw.read(lambda s: _all(s, select(Ticket)))
    assert ticket.tracker_issue_url == issue_url == row.issue_url
    attempts = await gw.read(lambda s: _all(s, select(TrackerAttempt).order_by(TrackerAttempt.id)))
    assert [a.status_code for a in attempts] == [503, 503, 503, 201]
    assert "down for maintenance" in attempts[0].response and attempts[0].request == f"POST {tracker.url}"
    handed = await wait_for(lambda: [m for m in relay.parsed() if "Handed off to devs" in m["Subject"]])
    assert issue_url in body(handed[0])

    # The tracker's own hook: a wrong signature is refused and changes nothing.
    refused = await hook(gw, {"state": "closed", "issue_url": issue_url}, secret="wrong")
    assert refused.status_code == 401
    stale = await hook(gw, {"state": "closed", "issue_url": issue_url}, at=int(time.time()) - 3600)
    assert stale.status_code == 401  # a replay of an old, validly signed request
    assert (await gw.read(lambda s: _all(s, select(Ticket))))[0].tracker_closed_at is None

    for _ in range(2):  # a tracker retrying its hook tells the customer once
        assert (await hook(gw, {"state": "closed", "issue_url": issue_url})).status_code == 204
    told = await wait_for(lambda: [m for m in to(relay, CUSTOMER) if "Fixed by our developers" in m["Subject"]])
    assert (await gw.read(lambda s: _all(s, select(Ticket))))[0].tracker_closed_at is not None
    await wait_for(lambda: _all_sent(gw))  # anything a second hook queued would be at the relay by now
    assert len([m for m in to(relay, CUSTOMER) if "Fixed by our developers" in m["Subject"]]) == len(told) == 1


async def _all_sent(gw) -> bool:
    statuses = await gw.read(lambda s: _all(s, select(Outbox.status)))
    return set(statuses) == {"sent"}


async def _delivered(gw):
    rows = await deliveries(gw)
    return rows if rows and rows[0].status == "delivered" else None


def until(condition, what: str, serve: crashkit.Serve, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f} s; serve log:\n{serve.log()}")
        time.sleep(0.02)


def test_kill_9_mid_delivery_still_makes_one_issue(tmp_path, monkeypatch):
    """serve dies after the tracker made the issue and before it heard the answer: the delivery is tried
    again after its lease, with the same Idempotency-Key, and the tracker answers with the same issue."""
    tracker = TrackerServer(secret=SECRET).start()
    tracker.hold.set()
    relay = crashkit.Relay()
    relay.start()
    serve = crashkit.Serve(tmp_path, relay.port)
    with open(tmp_path / "config.toml", "a") as config:
        config.write(f"""
[handoff]
backoff_seconds = 0.1
backoff_max_seconds = 0.5
poll_seconds = 0.1
timeout_seconds = 1
lease_seconds = 3
[[handoff.rules]]
name = "everything"
tracker = "devs"
[[trackers]]
name = "devs"
kind = "webhook"
url = "{tracker.url}"
secret_env = "DEVS_SECRET"
""")
    monkeypatch.setenv("DEVS_SECRET", SECRET)
    try:
        serve.start()
        mail = make_mail(sender=CUSTOMER, subject="Report crashes", body="The monthly report crashes.")
        assert smtp_send(serve.port, mail)[0] == 250
        until(lambda: len(tracker.issues) == 1, "the tracker never got the hand-off", serve)
        serve.kill()  # the tracker made the issue; its answer never reaches the gateway
        assert serve.query("SELECT status FROM tracker_deliveries") == [("sending",)]
        tracker.hold.clear()
        tracker.release.set()
        serve.start()
        until(lambda: serve.query("SELECT status FROM tracker_deliveries") == [("delivered",)],
              "the hand-off was not delivered after the restart", serve)
        assert len(tracker.requests) == 2 and len({r["key"] for r in tracker.requests}) == 1
        assert len(tracker.issues) == 1  # one issue, for two deliveries of the same key
        [(url,)] = serve.query("SELECT tracker_issue_url FROM tickets")
        assert url == next(iter(tracker.issues.values()))["url"]
    finally:
        serve.stop()
        relay.stop()
        tracker.stop()


async def test_github_answer_lost_after_creating_the_issue_finds_it_by_key(settings_factory, relay):
    """Over real HTTP: the create's answer is lost (502 after the issue was made); the next try searches
    for the key first and takes that issue, so GitHub ends up with one."""
    github = FakeGitHub(token="ghp_test").start()
    settings = settings_factory(smtp={"port": free_port()},
                                outbound={"mode": "smtp", "port": relay.port, "poll_seconds": 0.05},
                                trackers=[{"name": "gh", "kind": "github", "url": github.url, "project": "acme/portal",
                                           "token_env": "GH_TOKEN"}], handoff=FAST)
    gw = await start(settings, environ={"GH_TOKEN": "ghp_test"})
    try:
        await asend(gw.port, make_mail(sender=CUSTOMER, subject="Invoice export crashes", body="Error 500."))
        [announce] = await wait_for(lambda: to(relay, "frontdesk@example.com"))
        await command(gw, ALICE, announce, "/handoff")
        [row] = await wait_for(lambda: _delivered(gw))
        assert github.requests == [("GET", "/search/issues"), ("POST", "/repos/acme/portal/issues"),
                                   ("GET", "/search/issues")]
        assert len(github.issues) == 1 and row.idempotency_key in github.issues[0]["body"]
        assert row.issue_url == "https://github.example/acme/portal/issues/1" and row.issue_ref == "1"
    finally:
        await gw.shutdown()
        github.stop()

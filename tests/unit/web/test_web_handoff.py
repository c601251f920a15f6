"""Hand-off from the ticket page, the issue's link on it, and a tracker's signed hook closing the issue."""
from __future__ import annotations

import hashlib
import hmac
import json

from sqlalchemy import select, update

from gateway.config_trackers import TrackerConfig
from gateway.handoff.http import Keys
from gateway.store.models import Event, Outbox, Ticket, TrackerDelivery
from tests.conftest import DATA, with_mail
from tests.unit.web.test_web_tickets import ALICE, act
from tests.unit.web.webkit import client, new_ticket, sign_in, web_app, web_settings

GITHUB = {"name": "gh", "kind": "github", "url": "https://api.github.com", "project": "acme/portal",
          "token_env": "T", "secret_env": "S"}
ISSUE = "https://github.com/acme/portal/issues/1347"


def signed(body: bytes, secret: str) -> dict:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-GitHub-Event": "issues", "X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


async def test_hand_off_from_the_page_then_the_trackers_hook_tells_the_customer_once(settings_factory, db, clock):
    settings = web_settings(settings_factory).model_copy(update={"trackers": (TrackerConfig(**GITHUB),)})
    keys = {"gh": Keys(token="t", secret="hook-secret")}
    async with web_app(settings, db, clock, tracker_keys=keys) as (app, ingestor, _):
        tid = await new_ticket(ingestor, subject="Invoice export crashes")
        async with client(app) as http:
            await sign_in(http, ALICE)
            assert "Hand off to" in (await http.get(f"/tickets/HD-{tid}")).text
            response = await act(http, f"HD-{tid}", action="handoff", arg="gh")
            assert "handed off to gh: queued" in (await http.get(response.headers["location"])).text
            assert 'gateway_handoffs{status="pending"} 1.0' in (await http.get("/metrics")).text
            async with db.transaction() as session:  # as the sender records a delivery
                await session.execute(update(TrackerDelivery).values(status="delivered", issue_url=ISSUE,
                                                                     issue_ref="1347"))
                await session.execute(update(Ticket).values(tracker_issue_url=ISSUE))
            assert f'<a href="{ISSUE}" rel="noopener noreferrer">' in (await http.get(f"/tickets/HD-{tid}")).text

            body = (DATA / "trackers" / "hooks" / "github_closed.json").read_bytes()
            refused = await http.post("/hooks/tracker/gh", content=body, headers=signed(body, "guess"))
            assert refused.status_code == 401
            assert (await http.post("/hooks/tracker/nope", content=body, headers=signed(body, "x"))).status_code == 404
            for _ in range(2):
                answer = await http.post("/hooks/tracker/gh", content=body, headers=signed(body, "hook-secret"))
                assert answer.status_code == 204
            other = json.dumps({"action": "closed", "issue": {"html_url": ISSUE + "0", "number": 13470}}).encode()
            assert (await http.post("/hooks/tracker/gh", content=other,
                                    headers=signed(other, "hook-secret"))).status_code == 204  # not ours
    async with db.transaction() as session:
        told = await with_mail(session, list((await session.scalars(
            select(Outbox).where(Outbox.template == "customer/tracker_closed"))).all()))
        kinds = (await session.scalars(select(Event.kind).where(Event.ticket_id == tid))).all()
        ticket = await session.get(Ticket, tid)
    assert [r.recipient for r in told] == ["customer@client.example"]
    assert kinds.count("tracker_closed") == 1 and ticket.tracker_closed_at is not None
    assert b"finished their work" in told[0].raw

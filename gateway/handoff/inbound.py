"""A tracker tells us an issue was closed: check its signature, read which issue, note it on the ticket once."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import or_, select

from gateway.config_trackers import TrackerConfig
from gateway.handoff.trackers.webhook import SIGNATURE, TIMESTAMP, verify
from gateway.store.models import Event, Ticket, TrackerDelivery

MAX_SKEW_SECONDS = 300  # a generic webhook's timestamp older (or newer) than this is a replay


@dataclass(frozen=True)
class Closed:
    """The issue a hook says was closed: by URL, number/key, or our idempotency key (whichever it gives)."""

    url: str = ""
    ref: str = ""
    key: str = ""


def _hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def authentic(tracker: TrackerConfig, secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> bool:
    """Whether the request carries the tracker's proof of the shared secret (no secret: never)."""
    if not secret:
        return False
    if tracker.kind == "github":  # X-Hub-Signature-256: sha256=HMAC-SHA256(secret, body)
        return hmac.compare_digest(f"sha256={_hmac_hex(secret, body)}", headers.get("x-hub-signature-256", ""))
    if tracker.kind == "gitlab":  # the secret token itself, in X-Gitlab-Token
        return hmac.compare_digest(secret, headers.get("x-gitlab-token", ""))
    if tracker.kind == "jira":  # Jira Cloud webhooks with a secret: X-Hub-Signature: sha256=...
        return hmac.compare_digest(f"sha256={_hmac_hex(secret, body)}", headers.get("x-hub-signature", ""))
    if tracker.kind == "webhook":
        timestamp = headers.get(TIMESTAMP.lower(), "")
        if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > MAX_SKEW_SECONDS:
            return False
        return verify(secret, timestamp, body, headers.get(SIGNATURE.lower(), ""))
    return False  # Mantis sends no webhooks


def closed_issue(tracker: TrackerConfig, headers: Mapping[str, str], body: bytes) -> Closed | None:
    """The issue a (verified) hook closes, or None for any other event."""
    try:
        data: Any = json.loads(body or b"null")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if tracker.kind == "github":
        issue = data.get("issue") or {}
        if headers.get("x-github-event") == "issues" and data.get("action") == "closed" and isinstance(issue, dict):
            return Closed(url=str(issue.get("html_url") or ""), ref=str(issue.get("number") or ""))
    elif tracker.kind == "gitlab":
        attrs = data.get("object_attributes") or {}
        if data.get("object_kind") == "issue" and isinstance(attrs, dict) and attrs.get("action") == "close":
            return Closed(url=str(attrs.get("url") or ""), ref=str(attrs.get("iid") or ""))
    elif tracker.kind == "jira":
        issue = data.get("issue") or {}
        fields = issue.get("fields") or {} if isinstance(issue, dict) else {}
        category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
        if data.get("webhookEvent") == "jira:issue_updated" and category == "done":
            return Closed(ref=str(issue.get("key") or ""))
    elif tracker.kind == "webhook":
        if data.get("state") == "closed":
            return Closed(url=str(data.get("issue_url") or data.get("url") or ""), ref=str(data.get("ref") or ""),
                          key=str(data.get("idempotency_key") or ""))
    return None


async def mark_closed(session, *, tracker: TrackerConfig, closed: Closed, now: datetime, notifier) -> Ticket | None:
    """Note on the ticket that its issue was closed and tell the customer, once; the ticket, or None when
    no hand-off of ours matches or it was noted before."""
    match = [TrackerDelivery.issue_url == closed.url if closed.url else None,
             TrackerDelivery.issue_ref == closed.ref if closed.ref else None,
             TrackerDelivery.idempotency_key == closed.key if closed.key else None]
    match = [m for m in match if m is not None]
    if not match:
        return None
    delivery = await session.scalar(select(TrackerDelivery).where(TrackerDelivery.tracker == tracker.name,
                                                                  or_(*match)).limit(1))
    if delivery is None:
        return None
    # Row lock on PostgreSQL: two deliveries of the same hook at once still tell the customer once.
    ticket = await session.scalar(select(Ticket).where(Ticket.id == delivery.ticket_id).with_for_update())
    if ticket.tracker_closed_at is not None:
        return None
    ticket.tracker_closed_at = ticket.updated_at = now
    session.add(Event(ticket_id=ticket.id, kind="tracker_closed", actor=tracker.name, at=now,
                      data={"tracker": tracker.name, "issue_url": delivery.issue_url, "issue_ref": delivery.issue_ref}))
    await notifier.enqueue(session, ticket=ticket, template="customer/tracker_closed", recipients=[ticket.requester],
                           automatic=True, context={"tracker": tracker.name})
    return ticket

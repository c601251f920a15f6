"""The generic webhook: our JSON, signed with HMAC-SHA256; the receiver honours the Idempotency-Key header."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any, Mapping

from gateway.config_trackers import TrackerConfig
from gateway.handoff.http import Issue, Keys, Reply, Request, TrackerReplyError, json_body

SIGNATURE = "X-Gateway-Signature"
TIMESTAMP = "X-Gateway-Timestamp"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """"sha256=<hex>" of HMAC-SHA256 over "<timestamp>.<body>": a captured request cannot be replayed
    with a fresh timestamp, and the body is signed byte for byte as sent."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    return bool(secret) and hmac.compare_digest(signature(secret, timestamp, body), given or "")


class Webhook:
    def __init__(self, config: TrackerConfig, keys: Keys):
        self.config, self.keys = config, keys

    def lookup(self, key: str) -> Request | None:
        return None  # the receiver keeps the key: a repeated delivery answers with the issue it made

    def found(self, reply: Reply, key: str) -> Issue | None:
        return None

    def status(self, ref: str) -> Request | None:
        return None  # the receiver tells us (POST /hooks/tracker/<name>); there is nothing to ask

    def is_closed(self, reply: Reply) -> bool:
        return False

    def create(self, payload: Mapping[str, Any], key: str, now: datetime) -> Request:
        body = json_body({k: v for k, v in payload.items() if k not in ("title", "body")})
        timestamp = str(int(now.timestamp()))
        return Request("POST", self.config.url, headers={
            "Content-Type": "application/json", "Idempotency-Key": key, TIMESTAMP: timestamp,
            SIGNATURE: signature(self.keys.secret, timestamp, body)}, body=body)

    def created(self, reply: Reply) -> Issue:
        """The receiver may answer {"url": ..., "id": ...} (or issue_url, number, key); an empty 2xx is fine too."""
        try:  # the receiver took it (2xx): whatever else it says, the hand-off is done
            data = reply.json() if reply.body.strip() else {}
        except TrackerReplyError:
            data = {}
        data = data if isinstance(data, dict) else {}
        url = next((str(data[k]) for k in ("url", "issue_url", "html_url", "web_url") if data.get(k)), "")
        ref = next((str(data[k]) for k in ("id", "number", "key", "iid") if data.get(k) is not None), "")
        return Issue(url=url, ref=ref)

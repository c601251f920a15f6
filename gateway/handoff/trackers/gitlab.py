"""GitLab issues (REST v4): POST /projects/:id/issues; no idempotency header, so the project's issues are
searched for the key in their descriptions first (a database search: no index lag)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping
from urllib.parse import quote

from gateway.config_trackers import TrackerConfig
from gateway.handoff.http import Issue, Keys, Reply, Request, TrackerReplyError, json_body
from gateway.handoff.trackers import key_line


class GitLab:
    def __init__(self, config: TrackerConfig, keys: Keys):
        self.config, self.keys = config, keys
        # The project's numeric id or its URL-encoded path ("acme/portal" -> "acme%2Fportal").
        self.issues = f"{config.url.rstrip('/')}/api/v4/projects/{quote(config.project, safe='')}/issues"
        self.headers = {"PRIVATE-TOKEN": keys.token}

    def lookup(self, key: str) -> Request | None:
        return Request("GET", self.issues, headers=self.headers, params={"search": key, "in": "description"})

    def found(self, reply: Reply, key: str) -> Issue | None:
        data = reply.json()
        for item in data if isinstance(data, list) else []:
            if key in (item.get("description") or ""):
                return self._issue(item)
        return None

    def create(self, payload: Mapping[str, Any], key: str, now: datetime) -> Request:
        body = {"title": payload["title"], "description": f"{payload['body']}\n\n{key_line(key)}\n"}
        if self.config.labels:
            body["labels"] = ",".join(self.config.labels)
        return Request("POST", self.issues, headers={**self.headers, "Content-Type": "application/json"},
                       body=json_body(body))

    def created(self, reply: Reply) -> Issue:
        return self._issue(reply.json())

    def status(self, ref: str) -> Request | None:
        return Request("GET", f"{self.issues}/{ref}", headers=self.headers)

    def is_closed(self, reply: Reply) -> bool:
        return (reply.json() or {}).get("state") == "closed"

    @staticmethod
    def _issue(data: Any) -> Issue:
        if not isinstance(data, dict) or not data.get("web_url") or data.get("iid") is None:
            raise TrackerReplyError("GitLab's answer has no web_url and iid")
        return Issue(url=str(data["web_url"]), ref=str(data["iid"]))

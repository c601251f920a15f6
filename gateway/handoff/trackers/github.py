"""GitHub issues (REST): POST /repos/{owner}/{repo}/issues; no idempotency header, so the issue search
looks for the key in issue bodies first (the search index lags seconds behind; a retry comes minutes later)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from gateway.config_trackers import TrackerConfig
from gateway.handoff.http import Issue, Keys, Reply, Request, TrackerReplyError, json_body
from gateway.handoff.trackers import key_line

API_VERSION = "2022-11-28"


class GitHub:
    def __init__(self, config: TrackerConfig, keys: Keys):
        self.config, self.keys = config, keys
        self.base = config.url.rstrip("/")
        self.headers = {"Accept": "application/vnd.github+json", "Authorization": f"Bearer {keys.token}",
                        "X-GitHub-Api-Version": API_VERSION}

    def lookup(self, key: str) -> Request | None:
        return Request("GET", f"{self.base}/search/issues", headers=self.headers,
                       params={"q": f'"{key}" repo:{self.config.project} in:body is:issue'})

    def found(self, reply: Reply, key: str) -> Issue | None:
        items = (reply.json() or {}).get("items") or []
        for item in items:  # the search matches words; the key must be in the body as we wrote it
            if key in (item.get("body") or ""):
                return self._issue(item)
        return None

    def create(self, payload: Mapping[str, Any], key: str, now: datetime) -> Request:
        body = {"title": payload["title"], "body": f"{payload['body']}\n\n{key_line(key)}\n"}
        if self.config.labels:
            body["labels"] = list(self.config.labels)
        return Request("POST", f"{self.base}/repos/{self.config.project}/issues",
                       headers={**self.headers, "Content-Type": "application/json"}, body=json_body(body))

    def created(self, reply: Reply) -> Issue:
        return self._issue(reply.json())

    def status(self, ref: str) -> Request | None:
        return Request("GET", f"{self.base}/repos/{self.config.project}/issues/{ref}", headers=self.headers)

    def is_closed(self, reply: Reply) -> bool:
        return (reply.json() or {}).get("state") == "closed"

    @staticmethod
    def _issue(data: Any) -> Issue:
        if not isinstance(data, dict) or not data.get("html_url") or data.get("number") is None:
            raise TrackerReplyError("GitHub's answer has no html_url and number")
        return Issue(url=str(data["html_url"]), ref=str(data["number"]))

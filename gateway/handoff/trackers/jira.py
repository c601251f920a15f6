"""Jira (REST v2, which takes plain-text descriptions): POST /rest/api/2/issue; the key goes in as a label,
and a JQL search for that label comes first (Cloud: /search/jql; Server and Data Center: /search)."""
from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Mapping

from gateway.config_trackers import TrackerConfig
from gateway.handoff.http import Issue, Keys, Reply, Request, TrackerReplyError, json_body
from gateway.handoff.trackers import key_line


class Jira:
    def __init__(self, config: TrackerConfig, keys: Keys):
        self.config, self.keys = config, keys
        self.base = config.url.rstrip("/")
        if keys.user:  # Jira Cloud: the account's email and an API token
            basic = base64.b64encode(f"{keys.user}:{keys.token}".encode()).decode()
            auth = f"Basic {basic}"
        else:  # Server / Data Center: a personal access token
            auth = f"Bearer {keys.token}"
        self.headers = {"Authorization": auth, "Accept": "application/json"}

    def lookup(self, key: str) -> Request | None:
        path = "/rest/api/2/search/jql" if self.config.jira_cloud else "/rest/api/2/search"
        return Request("GET", f"{self.base}{path}", headers=self.headers, params={
            "jql": f'project = "{self.config.project}" AND labels = "{key}"', "fields": "key", "maxResults": "1"})

    def found(self, reply: Reply, key: str) -> Issue | None:
        issues = (reply.json() or {}).get("issues") or []
        return self._issue(issues[0]) if issues else None

    def create(self, payload: Mapping[str, Any], key: str, now: datetime) -> Request:
        fields = {"project": {"key": self.config.project}, "summary": payload["title"][:255],
                  "description": f"{payload['body']}\n\n{key_line(key)}\n",
                  "issuetype": {"name": self.config.issue_type}, "labels": [*self.config.labels, key]}
        return Request("POST", f"{self.base}/rest/api/2/issue",
                       headers={**self.headers, "Content-Type": "application/json"}, body=json_body({"fields": fields}))

    def created(self, reply: Reply) -> Issue:
        return self._issue(reply.json())

    def status(self, ref: str) -> Request | None:
        return Request("GET", f"{self.base}/rest/api/2/issue/{ref}", headers=self.headers, params={"fields": "status"})

    def is_closed(self, reply: Reply) -> bool:
        status = ((reply.json() or {}).get("fields") or {}).get("status") or {}
        return (status.get("statusCategory") or {}).get("key") == "done"

    def _issue(self, data: Any) -> Issue:
        if not isinstance(data, dict) or not data.get("key"):
            raise TrackerReplyError("Jira's answer has no issue key")
        return Issue(url=f"{self.base}/browse/{data['key']}", ref=str(data["key"]))

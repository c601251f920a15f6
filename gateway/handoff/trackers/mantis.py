"""MantisBT (REST): POST /api/rest/issues; its REST API searches no text, so the project's newest issues
are read first and the key looked for in their descriptions (a retry comes minutes, not pages, later)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from gateway.config_trackers import TrackerConfig
from gateway.handoff.http import Issue, Keys, Reply, Request, TrackerReplyError, json_body
from gateway.handoff.trackers import key_line

NEWEST = 50  # issues read before creating one
CLOSED = ("resolved", "closed")  # Mantis's default status names for work that is done


class Mantis:
    def __init__(self, config: TrackerConfig, keys: Keys):
        self.config, self.keys = config, keys
        self.base = config.url.rstrip("/")
        self.headers = {"Authorization": keys.token}  # the API token itself, no scheme word

    def lookup(self, key: str) -> Request | None:
        return Request("GET", f"{self.base}/api/rest/issues", headers=self.headers,
                       params={"project_id": self.config.project, "page_size": str(NEWEST), "page": "1"})

    def found(self, reply: Reply, key: str) -> Issue | None:
        for item in (reply.json() or {}).get("issues") or []:
            if key in (item.get("description") or ""):
                return self._issue(item)
        return None

    def create(self, payload: Mapping[str, Any], key: str, now: datetime) -> Request:
        body: dict[str, Any] = {"summary": payload["title"][:128],
                                "description": f"{payload['body']}\n\n{key_line(key)}\n",
                                "category": {"name": self.config.category},
                                "project": {"id": int(self.config.project)}}
        if self.config.labels:
            body["tags"] = [{"name": label} for label in self.config.labels]
        return Request("POST", f"{self.base}/api/rest/issues",
                       headers={**self.headers, "Content-Type": "application/json"}, body=json_body(body))

    def created(self, reply: Reply) -> Issue:
        data = reply.json()
        return self._issue(data.get("issue") if isinstance(data, dict) else None)

    def status(self, ref: str) -> Request | None:
        return Request("GET", f"{self.base}/api/rest/issues/{ref}", headers=self.headers)

    def is_closed(self, reply: Reply) -> bool:
        issues = (reply.json() or {}).get("issues") or [{}]
        return ((issues[0].get("status") or {}).get("name") or "") in CLOSED

    def _issue(self, data: Any) -> Issue:
        if not isinstance(data, dict) or data.get("id") is None:
            raise TrackerReplyError("Mantis's answer has no issue id")
        return Issue(url=f"{self.base}/view.php?id={data['id']}", ref=str(data["id"]))

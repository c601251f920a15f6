"""One adapter per tracker kind: the documented request to find or create an issue, and how to read the answer.

An adapter is pure: `lookup(key)` (None when the tracker honours an Idempotency-Key header itself),
`found(reply)`, `create(payload, key, now)` and `created(reply)` turn data into Requests and Replies
into Issues (`status(ref)` and `is_closed(reply)`: for trackers asked rather than heard from), so
each is tested against recorded shapes without a network (tests/data/trackers/).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Protocol

from gateway.config_trackers import TrackerConfig
from gateway.handoff.http import Issue, Keys, Reply, Request


class Adapter(Protocol):
    def lookup(self, key: str) -> Request | None: ...

    def found(self, reply: Reply, key: str) -> Issue | None: ...

    def create(self, payload: Mapping[str, Any], key: str, now: datetime) -> Request: ...

    def created(self, reply: Reply) -> Issue: ...

    def status(self, ref: str) -> Request | None: ...

    def is_closed(self, reply: Reply) -> bool: ...


def adapter_for(config: TrackerConfig, keys: Keys) -> Adapter:
    from gateway.handoff.trackers import github, gitlab, jira, mantis, webhook

    kinds = {"webhook": webhook.Webhook, "github": github.GitHub, "gitlab": gitlab.GitLab, "jira": jira.Jira,
             "mantis": mantis.Mantis}
    return kinds[config.kind](config, keys)


def key_line(key: str) -> str:
    """The line every issue's text ends with: a person sees where it came from, a retry finds it by it."""
    return f"Support Gateway hand-off key: {key}"

"""The trackers' own webhooks: signatures checked per kind, the closed issue read from each documented body."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

import pytest

from gateway.config_trackers import TrackerConfig
from gateway.handoff.inbound import Closed, authentic, closed_issue
from gateway.handoff.trackers.webhook import signature
from tests.conftest import DATA

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
HOOKS = DATA / "trackers" / "hooks"
GITHUB = TrackerConfig(name="gh", kind="github", url="https://api.github.com", project="acme/portal", token_env="T")
GITLAB = TrackerConfig(name="gl", kind="gitlab", url="https://gitlab.example.com", project="8", token_env="T")
JIRA = TrackerConfig(name="jira", kind="jira", url="https://acme.atlassian.net", project="OPS", token_env="T")
MANTIS = TrackerConfig(name="m", kind="mantis", url="https://mantis.example.com", project="3", token_env="T")
WEBHOOK = TrackerConfig(name="hook", kind="webhook", url="https://hooks.example.com/in", secret_env="S")


def sha256(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_github_signature_is_hmac_of_the_body():
    body = (HOOKS / "github_closed.json").read_bytes()
    assert authentic(GITHUB, "k", {"x-hub-signature-256": sha256("k", body)}, body, NOW)
    assert not authentic(GITHUB, "k", {"x-hub-signature-256": sha256("other", body)}, body, NOW)
    assert not authentic(GITHUB, "k", {}, body, NOW)
    assert not authentic(GITHUB, "", {"x-hub-signature-256": sha256("", body)}, body, NOW)  # no secret: never


def test_gitlab_token_must_equal_the_secret():
    body = (HOOKS / "gitlab_closed.json").read_bytes()
    assert authentic(GITLAB, "tok", {"x-gitlab-token": "tok"}, body, NOW)
    assert not authentic(GITLAB, "tok", {"x-gitlab-token": "to"}, body, NOW)


def test_jira_signature_and_mantis_sends_none():
    body = (HOOKS / "jira_done.json").read_bytes()
    assert authentic(JIRA, "k", {"x-hub-signature": sha256("k", body)}, body, NOW)
    assert not authentic(JIRA, "k", {"x-hub-signature": sha256("x", body)}, body, NOW)
    assert not authentic(MANTIS, "k", {"authorization": "k"}, b"{}", NOW)


def test_generic_webhook_needs_a_fresh_timestamp_under_the_signature():
    body = b'{"state": "closed", "idempotency_key": "gwk"}'
    stamp = str(int(NOW.timestamp()))
    headers = {"x-gateway-timestamp": stamp, "x-gateway-signature": signature("k", stamp, body)}
    assert authentic(WEBHOOK, "k", headers, body, NOW)
    old = str(int(NOW.timestamp()) - 3600)
    assert not authentic(WEBHOOK, "k", {"x-gateway-timestamp": old,
                                        "x-gateway-signature": signature("k", old, body)}, body, NOW)
    assert not authentic(WEBHOOK, "k", {**headers, "x-gateway-timestamp": str(int(stamp) + 1)}, body, NOW)


@pytest.mark.parametrize("tracker, headers, file, closed", [
    (GITHUB, {"x-github-event": "issues"}, "github_closed.json",
     Closed(url="https://github.com/acme/portal/issues/1347", ref="1347")),
    (GITHUB, {"x-github-event": "issues"}, "github_reopened.json", None),
    (GITHUB, {"x-github-event": "issue_comment"}, "github_closed.json", None),
    (GITLAB, {}, "gitlab_closed.json", Closed(url="https://gitlab.example.com/acme/portal/-/issues/14", ref="14")),
    (JIRA, {}, "jira_done.json", Closed(ref="OPS-25")),
])
def test_closed_issue_read_from_each_documented_body(tracker, headers, file, closed):
    assert closed_issue(tracker, headers, (HOOKS / file).read_bytes()) == closed


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"object_kind": "issue"}'])
def test_odd_bodies_close_nothing(body):
    assert closed_issue(GITLAB, {}, body) is None

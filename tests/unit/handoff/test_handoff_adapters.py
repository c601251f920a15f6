"""Each tracker adapter builds the documented request and reads the documented answer (tests/data/trackers)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from gateway.config_trackers import TrackerConfig
from gateway.handoff.http import Issue, Keys, Reply, TrackerReplyError
from gateway.handoff.trackers import adapter_for
from tests.conftest import DATA

KINDS = ("github", "gitlab", "jira", "mantis")
NOW = datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc)


def recorded(kind: str) -> dict:
    return json.loads((DATA / "trackers" / f"{kind}.json").read_text())


def adapter(case: dict):
    return adapter_for(TrackerConfig(**case["config"]), Keys(**case["keys"]))


def reply(shape: dict) -> Reply:
    return Reply(status=shape["status"], body=json.dumps(shape["json"]).encode())


def same_request(built, expected: dict) -> None:
    assert (built.method, built.url) == (expected["method"], expected["url"])
    for name, value in expected["headers"].items():
        assert built.headers[name] == value, name
    assert dict(built.params) == expected.get("params", {})
    if "json" in expected:
        assert json.loads(built.body) == expected["json"]
    else:
        assert built.body == b""


@pytest.mark.parametrize("kind", KINDS)
def test_create_request_is_the_documented_one(kind):
    case = recorded(kind)
    same_request(adapter(case).create(case["payload"], case["key"], NOW), case["create_request"])


@pytest.mark.parametrize("kind", KINDS)
def test_create_answer_gives_the_issue(kind):
    case = recorded(kind)
    assert adapter(case).created(reply(case["create_response"])) == Issue(**case["issue"])


@pytest.mark.parametrize("kind", KINDS)
def test_lookup_by_key_comes_first_and_finds_the_issue_a_crash_left(kind):
    case = recorded(kind)
    a = adapter(case)
    same_request(a.lookup(case["key"]), case["lookup_request"])
    assert a.found(reply(case["lookup_miss"]), case["key"]) is None
    assert a.found(reply(case["lookup_hit"]), case["key"]) == Issue(**case["found"])


@pytest.mark.parametrize("kind", ("github", "gitlab", "mantis"))
def test_a_search_hit_without_our_key_in_the_text_is_not_ours(kind):
    case = recorded(kind)
    assert adapter(case).found(reply(case["lookup_hit"]), "gw" + "f" * 20) is None


@pytest.mark.parametrize("kind", KINDS)
def test_an_answer_of_another_shape_is_a_clear_error(kind):
    with pytest.raises(TrackerReplyError):
        adapter(recorded(kind)).created(Reply(status=201, body=b'{"message": "ok"}'))


def test_jira_server_searches_the_old_endpoint_and_a_token_alone_is_bearer():
    case = recorded("jira")
    a = adapter_for(TrackerConfig(**{**case["config"], "jira_cloud": False, "user_env": None}), Keys(token="pat"))
    request = a.lookup(case["key"])
    assert request.url == "https://acme.atlassian.net/rest/api/2/search"
    assert request.headers["Authorization"] == "Bearer pat"


def test_webhook_is_signed_json_with_the_idempotency_key():
    from gateway.handoff.trackers.webhook import verify

    config = TrackerConfig(name="hook", kind="webhook", url="https://hooks.example.com/in", secret_env="S")
    payload = {"ticket": "HD-7", "subject": "Crash", "title": "[HD-7] Crash", "body": "text", "idempotency_key": "gwk"}
    request = adapter_for(config, Keys(secret="shh")).create(payload, "gwk", NOW)
    assert request.method == "POST" and request.url == "https://hooks.example.com/in"
    assert request.headers["Idempotency-Key"] == "gwk"
    assert request.headers["X-Gateway-Timestamp"] == str(int(NOW.timestamp()))
    assert json.loads(request.body) == {"ticket": "HD-7", "subject": "Crash", "idempotency_key": "gwk"}
    assert verify("shh", request.headers["X-Gateway-Timestamp"], request.body, request.headers["X-Gateway-Signature"])
    assert not verify("other", request.headers["X-Gateway-Timestamp"], request.body,
                      request.headers["X-Gateway-Signature"])
    assert not verify("shh", request.headers["X-Gateway-Timestamp"], request.body + b" ",
                      request.headers["X-Gateway-Signature"])


@pytest.mark.parametrize("answer, issue", [
    (b"", Issue(url="", ref="")),
    (b"Created", Issue(url="", ref="")),
    (b'{"url": "https://t.example/i/9", "id": 9}', Issue(url="https://t.example/i/9", ref="9")),
    (b'{"issue_url": "https://t.example/i/OPS-1", "key": "OPS-1"}',
     Issue(url="https://t.example/i/OPS-1", ref="OPS-1")),
])
def test_webhook_answer_may_name_the_issue(answer, issue):
    config = TrackerConfig(name="hook", kind="webhook", url="https://hooks.example.com/in", secret_env="S")
    assert adapter_for(config, Keys(secret="x")).created(Reply(status=200, body=answer)) == issue


@pytest.mark.parametrize("kind", KINDS)
def test_status_request_and_closed_answer_for_trackers_asked_rather_than_heard(kind):
    case = recorded(kind)
    a = adapter(case)
    same_request(a.status(case["status_ref"]), case["status_request"])
    assert not a.is_closed(reply(case["status_open"]))
    assert a.is_closed(reply(case["status_closed"]))

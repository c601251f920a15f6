"""[[trackers]] and [handoff]: each mistake one clear line; `gateway config check` names unset secrets."""
from __future__ import annotations

import pytest

from gateway.cli import main
from gateway.config import problems

GOOD = '''
[[trackers]]
name = "devs"
kind = "github"
url = "https://api.github.com"
project = "acme/portal"
token_env = "GH_TOKEN"
secret_env = "GH_HOOK_SECRET"

[[handoff.rules]]
name = "bugs-at-4"
tracker = "devs"
category = "bug"
level = 4
'''


def check(tmp_path, text: str) -> list[str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return problems(path, {}, deep=False)[1]


def test_a_good_tracker_and_rule_load(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    settings, found = problems(path, {}, deep=False)
    assert found == [] and settings.tracker("devs").project == "acme/portal"
    assert settings.handoff.rules[0].matches(category="bug", level=4, priority="low")
    assert not settings.handoff.rules[0].matches(category="bug", level=3, priority="low")


@pytest.mark.parametrize("entry, says", [
    ('name = "x"\nkind = "github"\nurl = "https://api.github.com"\nproject = "portal"\ntoken_env = "T"',
     "project must be OWNER/REPO"),
    ('name = "x"\nkind = "jira"\nurl = "https://a.atlassian.net"\ntoken_env = "T"', "project is required"),
    ('name = "x"\nkind = "mantis"\nurl = "https://m.example"\nproject = "Portal"\ntoken_env = "T"',
     "project must be the Mantis project's number"),
    ('name = "x"\nkind = "gitlab"\nurl = "https://g.example"\nproject = "8"', "token_env is required"),
    ('name = "x"\nkind = "webhook"\nurl = "https://h.example/in"', "secret_env is required"),
    ('name = "x"\nkind = "gitlab"\nurl = "https://g.example"\nproject = "8"\ntoken_env = "glpat-abc123"',
     "is not an environment variable name"),
    ('name = "x"\nkind = "trac"\nurl = "https://t.example"', "trackers.0.kind"),
    ('name = "x"\nkind = "webhook"\nurl = "ftp://h.example"\nsecret_env = "S"', "trackers.0.url"),
])
def test_tracker_mistakes_are_one_line_each(tmp_path, entry, says):
    found = check(tmp_path, f"[[trackers]]\n{entry}\n")
    assert len(found) == 1 and says in found[0], found


def test_rules_must_name_a_configured_tracker_and_level(tmp_path):
    found = check(tmp_path, GOOD.replace('tracker = "devs"', 'tracker = "jira"').replace("level = 4", "level = 9"))
    assert any("handoff.rules[0] (bugs-at-4): tracker 'jira' is not among [[trackers]] ['devs']" in f for f in found)
    assert any("handoff.rules[0] (bugs-at-4): level 9 is not among [[levels]]" in f for f in found)


def test_a_name_twice_is_refused(tmp_path):
    tracker = GOOD.split("[[handoff.rules]]")[0]
    found = check(tmp_path, tracker + tracker)
    assert found == ["trackers: the name 'devs' is used twice; give each [[trackers]] entry its own name; "
                     "fix it in config.toml"]


def test_config_check_names_each_unset_variable(tmp_path, monkeypatch, capsys):
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.setenv("GH_HOOK_SECRET", "x")
    assert main(["--config", str(path), "config", "check"]) == 2
    assert capsys.readouterr().err.strip() == ("trackers (devs): token_env names GH_TOKEN, which is not set; "
                                               "set it in the environment of gateway serve")
    monkeypatch.setenv("GH_TOKEN", "ghp_x")
    assert main(["--config", str(path), "config", "check"]) == 0


def test_the_lease_must_outlast_a_try(tmp_path):
    found = check(tmp_path, "[handoff]\ntimeout_seconds = 60\nlease_seconds = 100\n")
    assert len(found) == 1 and "lease_seconds (100) must be at least three times timeout_seconds (60)" in found[0]


def test_handoffs_list_and_retry_from_the_cli(tmp_path, capsys):
    import asyncio
    import json as jsonlib
    from datetime import datetime, timezone

    from gateway.config import load
    from gateway.store.migrate import upgrade
    from gateway.store.models import TrackerDelivery
    from tests.unit.schedule.helpers import ticket

    path = tmp_path / "config.toml"
    path.write_text(GOOD + f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/gw.db"\n')
    settings = load(path, {}, deep=False)
    now = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

    async def seed():
        db = settings.open_database()
        await upgrade(db)
        async with db.transaction() as session:
            row = ticket(settings, now)
            session.add(row)
            await session.flush()
            session.add_all([TrackerDelivery(ticket_id=row.id, tracker=t, idempotency_key=f"gw{n}", payload={},
                                             actor="a", status=s, attempts=12, next_attempt_at=now, created_at=now,
                                             last_error="503") for n, (t, s) in enumerate([("devs", "failed"),
                                                                                           ("other", "delivered")])])
        await db.dispose()

    asyncio.run(seed())
    assert main(["--config", str(path), "handoffs", "list", "--status", "failed", "--json"]) == 0
    [row] = jsonlib.loads(capsys.readouterr().out)
    assert (row["ticket"], row["tracker"], row["attempts"], row["key"]) == ("HD-1", "devs", 12, "gw0")
    assert main(["--config", str(path), "handoffs", "retry"]) == 0
    assert "1 hand-off(s) queued to try again" in capsys.readouterr().out
    assert main(["--config", str(path), "handoffs", "list", "--json"]) == 0
    assert [(r["status"], r["attempts"]) for r in jsonlib.loads(capsys.readouterr().out)] == [
        ("pending", 0), ("delivered", 12)]

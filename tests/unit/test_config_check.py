"""`gateway config check` builds the calendars and the pipeline: a bad zone or step order is not "ok"."""
from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import EXIT_CONFIG, main
from gateway.config import problems
from gateway.pipeline.steps import DEFAULT_STEPS

SHIPPED = Path(__file__).resolve().parents[2] / "config.toml"
DEFAULT = list(DEFAULT_STEPS)


def steps(names: list[str]) -> dict[str, str]:
    return {"GATEWAY_PIPELINE__STEPS": "[" + ", ".join(f'"{n}"' for n in names) + "]"}


@pytest.mark.parametrize(("environ", "expected"), [
    ({"GATEWAY_BUSINESS__TIMEZONE": "Europe/Londn"},
     ["business.timezone: unknown time zone 'Europe/Londn'; use an IANA name such as 'Europe/London'"]),
    ({"GATEWAY_BUSINESS__COUNTRY": "XX"},
     ["business.country: 'XX' is not known to the holidays package; use an ISO 3166 code such as 'GB', "
      "or list dates in business.holidays"]),
    ({"GATEWAY_BUSINESS__START": '"18:00"'}, ["business.end (17:00) must be later than business.start (18:00)"]),
    ({"GATEWAY_LEVELS": '[{number = 1, name = "night", hours = {days = [7]}}]', "GATEWAY_PRIORITY__URGENT_LEVEL": "1"},
     ["levels[0].hours (level 1, laid over [business]): business.days: [7]; "
      "list working weekdays as 0 (Monday) to 6 (Sunday)"]),
    (steps([*DEFAULT[:-1], "notfy"]),
     [f"pipeline.steps: unknown step(s) ['notfy']; known steps are {sorted(DEFAULT)}; "
      "fix pipeline.steps in config.toml or remove it for the default order"]),
    (steps([*DEFAULT[1:3], "dedupe", *DEFAULT[3:]]),
     ["pipeline.steps: 'dedupe' must come first (a mail we already hold must change nothing); move it to the "
      f"front of {[*DEFAULT[1:3], 'dedupe', *DEFAULT[3:]]}",
      "pipeline.steps: 'dedupe' must come before 'loop_guard' (a mail we already hold must change nothing); "
      "reorder them"]),
    (steps(["dedupe", "loop_guard", "bounce", "thread", "reopen", "classify", "prioritise", "route", "similar",
            "commands", "notify", "record"]),
     ["pipeline.steps: 'record' must come before 'commands' (commands act on the stored ticket and message); "
      "reorder them",
      "pipeline.steps: 'record' must come before 'notify' (notifications quote the stored message); reorder them"]),
    (steps(["dedupe", "loop_guard", "record", "thread", "notify"]),
     ["pipeline.steps: 'thread' must come before 'record' (record stores the mail on the ticket thread chose); "
      "reorder them"]),
    (steps(["dedupe", "loop_guard", "notify"]),
     [f"pipeline.steps: 'thread' is missing (mail is not threaded); add it, e.g. as in the default {DEFAULT}",
      f"pipeline.steps: 'record' is missing (mail is not stored); add it, e.g. as in the default {DEFAULT}"]),
])
def test_problems_a_valid_schema_hides(environ, expected):
    settings, found = problems(SHIPPED, environ)
    assert found == expected and settings is None


def test_the_default_order_and_a_shorter_one_are_fine():
    assert problems(SHIPPED, steps(DEFAULT))[1] == []
    assert problems(SHIPPED, steps(["dedupe", "loop_guard", "thread", "record", "notify"]))[1] == []


def test_config_check_exits_2_with_one_line_per_problem(capsys, monkeypatch):
    monkeypatch.setenv("GATEWAY_BUSINESS__TIMEZONE", "Mars/Olympus")
    assert main(["--config", str(SHIPPED), "config", "check"]) == EXIT_CONFIG
    assert capsys.readouterr().err.splitlines() == [
        "business.timezone: unknown time zone 'Mars/Olympus'; use an IANA name such as 'Europe/London'"]


def test_serve_refuses_to_start_on_what_config_check_finds(capsys, monkeypatch):
    monkeypatch.setenv("GATEWAY_PIPELINE__STEPS", '["dedupe", "loop_guard", "notify", "thread", "record"]')
    assert main(["--config", str(SHIPPED), "serve"]) == EXIT_CONFIG
    assert capsys.readouterr().err.splitlines() == [
        "gateway: config: pipeline.steps: 'record' must come before 'notify' (notifications quote the stored "
        "message); reorder them"]

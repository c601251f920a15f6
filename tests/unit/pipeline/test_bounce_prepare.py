"""The bounce step reads a delivery report only from mail the loop guard marked automatic."""
from __future__ import annotations

import pytest

from gateway.mail.parse import parse
from gateway.pipeline.context import Preparation
from gateway.pipeline.registry import prepare_all
from gateway.pipeline.steps import bounce
from gateway.pipeline.steps.bounce import Bounce
from gateway.pipeline.steps.loop_guard import LoopGuard
from tests.conftest import DATA


@pytest.fixture
def settings(settings_factory):
    return settings_factory()


def prepared(name: str, settings, steps) -> dict:
    mail = parse((DATA / name).read_bytes())
    return prepare_all(steps, Preparation(mail=mail, envelope_from=None, recipients=(), settings=settings))


def test_a_bounce_is_read_after_the_loop_guard_marked_it(settings):
    results = prepared("smtp/postfix-bounce.eml", settings, [LoopGuard(), Bounce()])
    assert results["loop_guard"] is not None and results["bounce"] is not None


def test_a_persons_mail_is_not_read_for_a_report(settings, monkeypatch):
    def must_not_run(message):
        raise AssertionError("parse_bounce ran for mail the loop guard let through")

    monkeypatch.setattr(bounce, "parse_bounce", must_not_run)
    results = prepared("human/fwd-bounce-from-person.eml", settings, [LoopGuard(), Bounce()])
    assert results["loop_guard"] is None and results["bounce"] is None


def test_without_the_loop_guards_verdict_the_report_is_still_read(settings):
    # A pipeline without loop_guard (or whose prepare failed): nothing says the mail is a person's.
    results = prepared("smtp/postfix-bounce.eml", settings, [Bounce()])
    assert results["bounce"] is not None

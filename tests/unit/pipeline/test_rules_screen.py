"""The one-pass RE2 set screen in front of the rules finds every hit that searching rule by rule finds."""
from __future__ import annotations

import pytest

from gateway.config import RuleConfig
from gateway.mail import linear
from gateway.pipeline import rules
from gateway.pipeline.rules import CLASSIFY_RULES, PRIORITY_RULES, _compiled, _screen, evaluate
from gateway.triage.seed import seed_emergencies, seed_mails
from gateway.triage.signals import SIGNAL_RULES

ALL_RULES = CLASSIFY_RULES + PRIORITY_RULES + SIGNAL_RULES

TEXTS = [
    ("How do I export?", "Nothing else."),  # question-words: ^ and $ of the subject alone
    ("Server", "Der Dateiserver ist ausgefallen.\nNiemand kann arbeiten."),
    ("Réseau", "Le réseau est tombé en panne, personne ne peut travailler."),
    ("x", "an error\ud800 with a lone surrogate, the site is down"),
    ("", ""),
    ("Not urgent", "no rush, whenever convenient. ERROR 500 INTERNAL"),
]


def searched_one_by_one(rule_set, subject: str, body: str) -> list[tuple[str, str]]:
    found = []
    for rule in rule_set:
        texts = {"subject": (subject,), "body": (body,), "any": (subject, body)}[rule.field]
        for text in texts:
            match = _compiled(rule.name, rule.pattern).search(text)
            if match:
                found.append((rule.name, match.group(0).strip()[:80]))
                break
    return found


def sample() -> list[tuple[str, str]]:
    return TEXTS + [(e.subject, e.body) for e in seed_mails()[::5] + seed_emergencies()[::3]]


def test_screened_rules_hit_as_rules_searched_one_by_one():
    hit_any = 0
    for subject, body in sample():
        hits = [(h.rule, h.detail) for h in evaluate(ALL_RULES, subject=subject, body=body)]
        assert hits == searched_one_by_one(ALL_RULES, subject, body)
        hit_any += bool(hits)
    assert hit_any > 50  # the sample does exercise the hits, not only the misses


def test_the_screen_names_exactly_the_patterns_that_match():
    screen = _screen(tuple(rule.pattern for rule in ALL_RULES))
    for subject, body in sample():
        for text in (subject, body):
            expected = {i for i, rule in enumerate(ALL_RULES) if _compiled(rule.name, rule.pattern).search(text)}
            assert screen.which(text) == expected


class _GaveUp:
    """An RE2 set whose DFA ran out of memory: RE2 answers no index at all, not even the empty pattern's."""

    def Match(self, data):
        return []


def test_when_one_set_cannot_tell_every_rule_is_searched(monkeypatch):
    screen = rules._screen(tuple(rule.pattern for rule in ALL_RULES))
    first, _ = screen._sets[-1]
    monkeypatch.setattr(screen, "_sets", [*screen._sets[:-1], (first, _GaveUp())])
    assert screen.which("the mail server is down") is None
    hits = evaluate(ALL_RULES, subject="Mail", body="The mail server is down for the whole office.")
    assert {"service-down", "everyone-affected"} <= {h.rule for h in hits}


def test_many_patterns_are_screened_by_several_sets_that_agree_with_one_search_each(monkeypatch):
    # the built-in priority patterns outgrow one set's DFA on GitHub issues: several sets, indices kept
    screen = _screen(tuple(rule.pattern for rule in ALL_RULES))
    assert len(screen._sets) > 1 and screen._sets[0][0] == 0
    monkeypatch.setattr(linear, "SET_PROGRAM", 1)  # a set for each pattern
    one_each = linear.PatternSet("test.one-each", screen.patterns, linear.IGNORECASE | linear.MULTILINE)
    assert [first for first, _ in one_each._sets] == list(range(len(ALL_RULES)))
    for subject, body in sample():
        for text in (subject, body):
            assert one_each.which(text) == screen.which(text)


def test_an_operator_rule_joins_the_screen():
    mine = (RuleConfig(name="invoice", value="change", pattern=r"\binvoice (layout|template)\b", field="subject"),)
    assert [h.detail for h in evaluate(mine, subject="Invoice layout", body="invoice layout")] == ["Invoice layout"]
    assert evaluate(mine, subject="Hello", body="invoice layout") == []


def test_a_pattern_re2_cannot_run_is_refused_by_name():
    with pytest.raises(linear.Unsupported, match="backreference"):
        linear.PatternSet("test.set", (r"(a)\1",))

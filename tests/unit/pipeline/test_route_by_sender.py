"""Routing by sender: [[routing.rules]] start mail from given domains or addresses at a given level."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from gateway.config import problems
from gateway.pipeline.steps.route import Route

RULES = {"rules": [
    {"name": "liaisons", "domains": ["emea.example.com", "@apac.example.com"], "level": 0},
    {"name": "vip", "addresses": ["CEO@Client.example"], "level": 2, "priorities": ["urgent", "high", "medium", "low"]},
]}


async def route(settings, sender: str, priority: str = "medium", new: bool = True):
    ctx = SimpleNamespace(new_ticket=new, settings=settings, priority=priority, sender=sender, level=None, hits=[])
    await Route().run(ctx)
    return ctx


@pytest.mark.parametrize("sender, priority, level", [
    ("jo@emea.example.com", "medium", 0),
    ("jo@APAC.example.com", "low", 0),            # domains match case-insensitively; a leading @ is allowed
    ("jo@sub.emea.example.com", "medium", 1),     # exactly the domain, not its subdomains
    ("jo@emea.example.com.evil.test", "high", 1),
    ("jo@emea.example.com", "urgent", 3),         # urgent still goes to the urgent level unless a rule says so
    ("ceo@client.example", "urgent", 2),          # ... as this one does
    ("someone@client.example", "medium", 1),
])
async def test_the_first_matching_rule_sets_the_level(settings_factory, sender, priority, level):
    ctx = await route(settings_factory(routing=RULES), sender, priority)
    assert ctx.level == level


async def test_the_rule_is_recorded_as_a_hit(settings_factory):
    ctx = await route(settings_factory(routing=RULES), "jo@emea.example.com")
    assert [(h.rule, h.value, h.detail) for h in ctx.hits] == [("routing:liaisons", "level 0", "jo@emea.example.com")]


async def test_follow_ups_are_not_routed(settings_factory):
    ctx = await route(settings_factory(routing=RULES), "jo@emea.example.com", new=False)
    assert ctx.level is None and ctx.hits == []


def test_config_check_names_a_rule_with_a_missing_level(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[[routing.rules]]\nname = "emea"\ndomains = ["emea.example.com"]\nlevel = 7\n'
                    '[[routing.rules]]\nname = "empty"\nlevel = 0\n')
    settings, found = problems(path, {}, deep=False)
    assert settings is None
    assert found == [
        "routing.rules[0] (emea): level 7 is not among [[levels]] [0, 1, 2, 3, 4]; fix it in config.toml",
        "routing.rules[1] (empty): give domains or addresses to match; fix it in config.toml",
    ]

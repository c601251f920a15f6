"""dead_boundaries(): the letters outside ASCII beside a \\b of a pattern, where RE2's \\b never matches."""
from __future__ import annotations

import pytest

from gateway.mail import linear
from gateway.mail.word_bounds import dead_boundaries


@pytest.mark.parametrize("pattern, dead", [
    (r"(plan de continuité|drill)\b", "é"),  # a word that ends in one
    (r"\b(à tous|for all)", "à"),  # ...or begins with one
    (r"(réglée?|fixed)\b", "é"),  # the optional "e" may be absent
    (r"(menü|fixed)\b[^.]{0,20}\b(über|over)", "ü"),
    (r"\bréseau\b", ""),  # the boundaries stand beside "r" and "u"
    (r"(drill|exercise)\b[^.!?\n]{0,40}\b(à tous)", "à"),  # a gap before it does not help "à"
    (r"(réglé)[^.!?\n]{0,40}\b(fixed)", ""),  # ...and one after "réglé" makes its \b judge another letter
    (r"([^\pL\pN_]|^)à tous([^\pL\pN_]|$)", ""),  # written as the config error asks
    (r"(unclosed", ""),  # not a pattern: RE2's own check says so
])
def test_dead_boundaries(pattern, dead):
    assert dead_boundaries(pattern) == dead


@pytest.mark.parametrize("pattern, text", [
    (r"(réglé)\b", "c'est réglé."),
    (r"\bà tous", "merci à tous"),
    (r"(menü)\b", "im menü!"),
])
def test_what_it_finds_is_dead_in_the_engine_and_the_suggested_form_is_not(pattern, text):
    assert linear.compile(pattern, name=f"word_bounds.dead:{pattern}").search(text) is None
    fixed = pattern.replace(r"\b", r"([^\pL\pN_]|$)" if pattern.endswith(r"\b") else r"(^|[^\pL\pN_])")
    assert linear.compile(fixed, name=f"word_bounds.fixed:{pattern}").search(text) is not None

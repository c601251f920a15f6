"""RE2's \\b knows only ASCII letters: beside "é", "à" or "ü" it never matches, and the French or German
form of a rule written with it is dead ("plan de continuité\\b", "\\bà tous"). The built-in rules use
signals._START, _END and _gap() there; this test finds any \\b that still stands beside a letter
outside ASCII, by walking each pattern's parse tree."""
from __future__ import annotations

import re._constants as c
import re._parser as parser

import pytest

from gateway.pipeline.rules import CLASSIFY_RULES, PRIORITY_RULES, evaluate
from gateway.triage.signals import SIGNAL_RULES


def _wide(op, value) -> bool:
    """A gap such as [^.!?\\n]{0,40} or .{0,40}: it can take the space a word boundary needs."""
    if op not in (c.MAX_REPEAT, c.MIN_REPEAT) or len(value[2]) != 1:
        return False
    sub_op, sub_value = value[2][0]
    return sub_op is c.ANY or (sub_op is c.IN and sub_value[0][0] is c.NEGATE)


def _edge(items, last: bool) -> tuple[set[str], bool]:
    """The characters a sequence can begin (or end) with, and whether it can be empty."""
    chars: set[str] = set()
    for op, value in (reversed(items) if last else items):
        found, empty = _item_edge(op, value, last)
        chars |= found
        if not empty:
            return chars, False
    return chars, True


def _item_edge(op, value, last: bool) -> tuple[set[str], bool]:
    if op is c.LITERAL:
        return {chr(value)}, False
    if op is c.IN:
        chars = set()
        for kind, item in value:
            if kind is c.LITERAL:
                chars.add(chr(item))
            elif kind is c.RANGE:
                chars |= {chr(code) for code in range(item[0], min(item[1], 0x24F) + 1)}
            else:  # a negated or named class: no letter of its own
                return {"?"}, False
        return chars, False
    if op is c.SUBPATTERN:
        return _edge(list(value[-1]), last)
    if op is c.BRANCH:
        chars, empty = set(), False
        for branch in value[1]:
            found, may_be_empty = _edge(list(branch), last)
            chars, empty = chars | found, empty or may_be_empty
        return chars, empty
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        if _wide(op, value):
            return {"?"}, False
        found, empty = _edge(list(value[2]), last)
        return found, empty or value[0] == 0
    if op is c.AT and value is c.AT_BOUNDARY:
        return set(), True
    return {"?"}, False  # an anchor (^, $: only the text's edge beyond), a backslash class, any other


def _dead_bounds(items, out: list[str]) -> None:
    items = list(items)
    for index, (op, value) in enumerate(items):
        if op is c.AT and value is c.AT_BOUNDARY:
            beside = _edge(items[:index], True)[0] | _edge(items[index + 1:], False)[0]
            out += [letter for letter in beside if letter.isalpha() and not letter.isascii()]
        if op is c.SUBPATTERN:
            _dead_bounds(value[-1], out)
        elif op is c.BRANCH:
            for branch in value[1]:
                _dead_bounds(branch, out)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            _dead_bounds(value[2], out)


@pytest.mark.parametrize("rule", SIGNAL_RULES + PRIORITY_RULES + CLASSIFY_RULES, ids=lambda rule: rule.name)
def test_no_word_boundary_beside_an_accented_letter(rule):
    dead: list[str] = []
    _dead_bounds(parser.parse(rule.pattern), dead)
    assert not dead, f"{rule.name}: \\b beside {''.join(sorted(set(dead)))}; use _START, _END or _gap() there"


def test_the_checker_finds_a_dead_boundary():
    dead: list[str] = []
    _dead_bounds(parser.parse(r"(plan de continuité|drill)\b"), dead)
    assert dead == ["é"]
    _dead_bounds(parser.parse(r"\b(drill|exercise)\b[^.]{0,40}\b(over)"), dead := [])
    assert dead == []


@pytest.mark.parametrize("text, rule", [
    # each was dead while its rule wrote \b beside the accented letter
    ("Comme prévu dans le plan de continuité, nous ferons jeudi un exercice.", "exercise"),
    ("Le service doit rester coupé jusqu'à ce que ce soit réglé.", "still-broken"),
    ("Plus aucun employé ne peut ouvrir le logiciel de caisse.", "everyone-affected"),
    ("Les comptes rendus sont partis aux mauvais médecins depuis hier soir.", "data-to-the-wrong-people"),
    ("Le portable volé : il est entièrement chiffré.", "not-exposed"),
    ("Mon compte privé a été piraté, rien à voir avec le travail.", "not-ours"),
    ("On l'a entendu à la radio ce matin : leur site a été piraté.", "in-the-news"),
])
def test_french_forms_that_were_dead_now_match(text, rule):
    assert rule in {hit.rule for hit in evaluate(SIGNAL_RULES, subject="", body=text)}


def test_the_radio_room_is_no_news():
    hits = evaluate(SIGNAL_RULES, subject="", body="Les appels à la radio ne passent plus depuis 6h30.")
    assert "in-the-news" not in {hit.rule for hit in hits}

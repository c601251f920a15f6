"""RE2's \\b knows only ASCII letters: beside "é", "à" or "ü" it never matches, and the French or German
form of a rule written with it is dead ("plan de continuité\\b", "\\bà tous"). The built-in rules use
signals._START, _END and _gap() there; gateway.mail.word_bounds finds any \\b that still stands beside a
letter outside ASCII (tests/unit/mail/test_word_bounds.py tests it)."""
from __future__ import annotations

import pytest

from gateway.mail.word_bounds import dead_boundaries
from gateway.pipeline.rules import CLASSIFY_RULES, PRIORITY_RULES, evaluate
from gateway.triage.signals import SIGNAL_RULES


@pytest.mark.parametrize("rule", SIGNAL_RULES + PRIORITY_RULES + CLASSIFY_RULES, ids=lambda rule: rule.name)
def test_no_word_boundary_beside_an_accented_letter(rule):
    dead = dead_boundaries(rule.pattern)
    assert not dead, f"{rule.name}: \\b beside {dead}; use _START, _END or _gap() there"


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


def test_a_hit_shows_the_words_without_the_space_its_edge_took():
    [hit] = [h for h in evaluate(SIGNAL_RULES, subject="", body="Depuis 8h, aucun de nos trois centres ne peut ouvrir "
                                 "le portail.") if h.rule == "everyone-affected"]
    assert hit.detail == "aucun de nos trois centres ne"

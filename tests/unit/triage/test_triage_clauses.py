"""The stretches a calm word speaks for, and what-if questions set aside, as tables of text and result."""
from __future__ import annotations

import pytest

from gateway.triage.clauses import stretches, unsigned, without_what_ifs


@pytest.mark.parametrize("body, expected", [
    ("The server is down.", ["The server is down."]),
    ("The old server is down. Nobody uses it.", ["The old server is down. Nobody uses it."]),
    ("Fixed, but now it is down", ["Fixed, ", "but now it is down"]),
    ("Fixed yesterday. Today it is down.", ["Fixed yesterday", ". Today it is down."]),
    ("Repariert, aber jetzt geht nichts", ["Repariert, ", "aber jetzt geht nichts"]),
    ("Réparé, mais maintenant rien", ["Réparé, ", "mais maintenant rien"]),
    ("Réparé hier et aujourd'hui en panne", ["Réparé hier ", "et aujourd'hui en panne"]),
    ("Butter is not but-ter", ["Butter is not ", "but-ter"]),
    ("", [""]),
])
def test_stretches(body, expected):
    assert stretches(body) == expected
    assert "".join(stretches(body)) == body


@pytest.mark.parametrize("text, blanked, first", [
    ("If the server crashed, would we lose data?", " " * 42, "If the server crashed, would we lose data?"),
    ("Hi. What happens if the VPN fails? Thanks", "Hi. " + " " * 30 + " Thanks", "What happens if the VPN fails?"),
    ("Falls der Server abstürzt, was dann?", " " * 36, "Falls der Server abstürzt, was dann?"),
    ("Ok. Si le serveur plantait ?", "Ok. " + " " * 24, "Si le serveur plantait ?"),
    ("Not sure if the server crashed?", "Not sure if the server crashed?", ""),
    ("If the server crashed, we lose data.", "If the server crashed, we lose data.", ""),
    ("The server is down.", "The server is down.", ""),
])
def test_what_ifs_are_blanked_to_the_same_length(text, blanked, first):
    assert without_what_ifs(text) == (blanked, first)
    assert len(without_what_ifs(text)[0]) == len(text)


@pytest.mark.parametrize("body, expected", [
    ("Mouse broken.\nKind regards,\nNadia\nData Breach Officer", "Mouse broken.\n"),
    ("Maus kaputt.\nViele Grüße\nJan Berg\nIT-Sicherheit, Notfallteam", "Maus kaputt.\n"),
    ("Souris cassée.\nCordialement,\nNadia Benhamou", "Souris cassée.\n"),
    # no sign-off on a line of its own, or too much under it: the body as it is
    ("Thanks for the new mouse, the server is down.", "Thanks for the new mouse, the server is down."),
    ("Regards,\nonly a sign-off", "Regards,\nonly a sign-off"),
    ("Hi\nThanks\n" + "more news\n" * 5, "Hi\nThanks\n" + "more news\n" * 5),
    ("Gruß aus dem Lager", "Gruß aus dem Lager"),
])
def test_a_signature_under_a_sign_off_is_set_aside(body, expected):
    assert unsigned(body) == expected

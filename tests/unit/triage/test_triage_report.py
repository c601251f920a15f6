"""Bug report completeness: which parts a mail has, and what the acknowledgement asks for."""
from __future__ import annotations

import pytest

from gateway.commands import render_ticket
from gateway.triage.report import ASK, bug_report_parts, missing


@pytest.mark.parametrize("text, steps, how_often, evidence", [
    ("The ERP is broken.", False, False, False),
    ("When I click Save on a new contact the window closes. It happens every time.", True, True, False),
    ("Steps to reproduce:\n1. open Contacts\n2. click New\nSometimes it works. Screenshot attached.", True, True, True),
    ('Opening the timesheet gives "NullReferenceException: object reference not set".', False, False, True),
    ("Wenn ich im CRM einen Kontakt speichere, stürzt es ab. Das passiert jedes Mal.", True, True, False),
    ("Quand je clique sur Enregistrer, la fenêtre se ferme. Ça arrive à chaque fois. Capture d'écran ci-jointe.",
     True, True, True),
    ("The VPN drops every 5 minutes.", False, True, False),
    ("Beim Speichern eines Kontakts erscheint eine Fehlermeldung.", True, False, True),
    ("Lors de l'enregistrement, l'application se ferme.", True, False, False),
])
def test_the_parts_a_bug_report_has(text, steps, how_often, evidence):
    parts = bug_report_parts("Fault", text)
    assert parts == {"summary": True, "steps": steps, "how_often": how_often, "evidence": evidence}


def test_an_attachment_is_evidence():
    assert bug_report_parts("Fault", "It is broken.", attachments=1)["evidence"]


def test_missing_asks_for_steps_and_how_often_and_then_evidence_once():
    assert missing({"summary": True, "steps": True, "how_often": True, "evidence": False}) == []
    assert missing({"summary": True, "steps": False, "how_often": True, "evidence": True}) == [ASK["steps"]]
    assert missing({"summary": True, "steps": False, "how_often": False, "evidence": False}) == [
        ASK["steps"], ASK["how_often"], ASK["evidence"]]


def test_a_huge_mail_is_read_only_at_its_start():
    assert bug_report_parts("Fault", "x" * 1_000_000 + " every time")["how_often"] is False


def test_tickets_show_says_which_parts_are_there():
    ticket = {"ref": "HD-1", "subject": "s", "status": "open", "priority": "medium", "category": "bug", "level": 1,
              "assignee": None, "requester": "c@example.org", "created_at": "2026-12-06", "messages": [],
              "events": [{"at": "t", "kind": "created", "actor": "c@example.org",
                          "data": {"decisions": [{"text": "category bug by the model, sure: 0.91 (words: error)"}],
                                   "report": {"summary": True, "steps": False, "how_often": True, "evidence": False}}}]}
    text = render_ticket(ticket)
    assert "  why: category bug by the model, sure: 0.91 (words: error)" in text
    assert "  bug report: summary yes, steps no, how often yes, evidence no" in text

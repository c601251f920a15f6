"""Possible duplicates: open tickets whose words match a new mail's, best first, with the shared words."""
from __future__ import annotations

from gateway.triage.similar import similar

OPEN = [
    (1, "Printer prints blank pages", "The HP printer on the 2nd floor prints empty pages since the update."),
    (2, "VPN drops", "The VPN disconnects every 5 minutes when working from home."),
    (3, "New starter", "Anna starts Monday and needs an account."),
    (4, "Printer jam", "The printer in the kitchen jams all the time."),
    (5, "Drucker druckt leere Seiten", "Der Drucker im 2. OG druckt nur leere Seiten."),
]


def test_the_same_problem_is_found_with_the_words_it_shares():
    found = similar("Blank pages from the printer", "The printer on floor 2 only prints blank pages.", OPEN)
    assert [s.ticket_id for s in found][:1] == [1]
    assert set(found[0].words) >= {"blank", "pages"} and 0.3 <= found[0].score <= 1.0


def test_nothing_in_common_finds_nothing():
    assert similar("Hello", "A question about the canteen menu.", OPEN) == []


def test_at_most_top_and_best_first():
    tickets = [(n, "VPN drops", f"The VPN disconnects every few minutes at home, try {n}.") for n in range(10)]
    found = similar("VPN disconnects", "My VPN disconnects every few minutes at home.", tickets, top=3)
    assert len(found) == 3 and found[0].score >= found[1].score >= found[2].score


def test_german_finds_german():
    found = similar("Leere Seiten", "Unser Drucker druckt seit gestern nur leere Seiten.", OPEN)
    assert found and found[0].ticket_id == 5

"""Possible duplicates: open tickets whose words match a new mail's, best first, with the shared words."""
from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.triage.similar import rank, similar, tf

WORDS = ["printer", "blank", "pages", "vpn", "drops", "home", "account", "jam"]

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


def _plain_rank(mine, docs, *, top, at_least):
    """rank() as the textbook has it: every candidate's full cosine and shared words, then the best."""
    n = len(docs) + 1
    df = Counter(term for _, doc in docs for term in doc)
    idf = {t: math.log((1 + n) / (1 + df[t] + (t in mine))) + 1 for t in set(df) | set(mine)}
    vector = {t: w * idf[t] for t, w in tf(mine).items()}
    query_norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    query = {t: v / query_norm for t, v in vector.items()}  # (the same arithmetic: ties between words stay ties)
    found = []
    for ticket_id, doc in docs:
        norm = math.sqrt(sum(w * idf[t] * (w * idf[t]) for t, w in doc.items())) or 1.0
        shared = {t: query[t] * (doc[t] * idf[t] / norm) for t in query.keys() & doc.keys()}
        score = sum(shared.values())
        if shared and score >= at_least:
            found.append((ticket_id, score, tuple(sorted(shared, key=lambda t: (-shared[t], t))[:3])))
    return sorted(found, key=lambda f: -f[1])[:top]


@settings(max_examples=300, deadline=None)
@given(mine=st.lists(st.sampled_from(WORDS), max_size=12),
       docs=st.lists(st.lists(st.sampled_from(WORDS), max_size=15), max_size=25),
       top=st.integers(1, 5), at_least=st.sampled_from([0.05, 0.3, 0.6]))
def test_rank_keeps_the_best_with_their_shared_words(mine, docs, top, at_least):
    # rank() finds the shared words only of the tickets it keeps: the result must be the plain one's.
    candidates = [(n, tf(Counter(words))) for n, words in enumerate(docs)]
    found = rank(Counter(mine), candidates, top=top, at_least=at_least)
    expected = _plain_rank(Counter(mine), candidates, top=top, at_least=at_least) if mine and docs else []
    assert [s.ticket_id for s in found] == [e[0] for e in expected]
    assert [s.words for s in found] == [e[2] for e in expected]
    assert [s.score for s in found] == pytest.approx([e[1] for e in expected], abs=1e-12)

"""The index of open tickets ranks exactly as rank() over the same candidates, however they came and went."""
from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.triage.similar import rank, similar, terms, tf
from gateway.triage.similar_index import SimilarIndex

WORDS = ["printer", "blank", "pages", "vpn", "drops", "home", "account", "jam"]
words = st.lists(st.sampled_from(WORDS), max_size=10)


def candidates(heads, known):
    """rank()'s docs: the candidates with inbound mail, newest first (as the step reads them)."""
    return [(ticket_id, known[ticket_id, token]) for ticket_id, token in heads if known[ticket_id, token] is not None]


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(st.lists(st.tuples(st.integers(1, 40), st.sampled_from("abc"),
                                                   st.none() | words), max_size=12),
                                words, st.integers(1, 5), st.sampled_from([0.0, 0.05, 0.3, 0.6])),
                      min_size=1, max_size=8))
def test_the_index_ranks_as_rank_does_after_any_updates(steps):
    # Each step: a new list of candidates (id, token, words or None), with ids reused under other
    # tokens, tickets gone and back, wordless ones; and a mail ranked against them.
    index, known = SimilarIndex(), {}
    for tickets, mine, top, at_least in steps:
        for ticket_id, token, ticket_words in tickets:
            known.setdefault((ticket_id, token), tf(Counter(ticket_words)) if ticket_words is not None else None)
        heads = sorted({(ticket_id, token) for ticket_id, token, _ in tickets}, key=lambda key: -key[0])
        heads = [key for n, key in enumerate(heads) if n == 0 or key[0] != heads[n - 1][0]]  # one token per id
        index.update(heads, {key: known[key] for key in index.unknown(heads)})
        assert index.unknown(heads) == []
        found = index.rank(Counter(mine), top=top, at_least=at_least)
        assert found == rank(Counter(mine), candidates(heads, known), top=top, at_least=at_least)  # to the bit


def test_identical_tickets_keep_newest_first_and_a_reused_id_brings_its_own_words():
    index = SimilarIndex()
    vpn = tf(terms("VPN drops", "The VPN disconnects every five minutes when working from home."))
    printer = tf(terms("Printer jams", "The printer in the kitchen jams all the time."))
    heads = [(9, "x"), (7, "y"), (5, "z"), (3, "w")]
    index.update(heads, {(9, "x"): dict(vpn), (7, "y"): dict(printer), (5, "z"): dict(vpn), (3, "w"): None})
    mine = terms("VPN drops", "The VPN disconnects every five minutes when working from home.")
    assert [s.ticket_id for s in index.rank(mine)] == [9, 5]
    assert index.rank(mine)[0].score == index.rank(mine)[1].score
    heads = [(9, "v"), (7, "y"), (5, "z")]  # 9 rolled back and taken by a printer ticket; 3 resolved
    assert index.unknown(heads) == [(9, "v")]
    index.update(heads, {(9, "v"): dict(printer)})
    assert [s.ticket_id for s in index.rank(mine)] == [5]
    assert [s.ticket_id for s in index.rank(terms("Printer jams again", "The printer jams."))] == [9, 7]
    assert len(index) == 3


def test_the_documented_examples_of_similar_hold_for_the_index():
    tickets = [(n, "VPN drops", f"The VPN disconnects every few minutes at home, try {n}.") for n in range(10, 0, -1)]
    index = SimilarIndex()
    index.update([(n, "t") for n, _, _ in tickets], {(n, "t"): tf(terms(s, b)) for n, s, b in tickets})
    mine = terms("VPN disconnects", "My VPN disconnects every few minutes at home.")
    assert index.rank(mine, top=3) == similar("VPN disconnects", "My VPN disconnects every few minutes at home.",
                                              tickets, top=3)
    assert index.rank(Counter(), top=3) == [] and SimilarIndex().rank(mine) == []

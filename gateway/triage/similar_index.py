"""The open tickets a new ticket is compared with, kept between mails as an inverted index (word -> tickets).

rank() of gateway/triage/similar.py recomputes every candidate's document frequencies, idf and norm for
each new ticket: about similar_among tickets of 60 words each. Here the candidates' words stay indexed
as they come and go, so a new ticket touches only the tickets that share its words, and the result is
rank()'s to the last bit (same tickets, order, scores and words).

How: a ticket's norm is sqrt(sum over its words of (w * idf)^2), with idf = log((1 + n) / (1 + df)) + 1
before the mail's own words add one to their df. With A = 1 + log(1 + n) and L = log(1 + df) that is
A^2 * S0 - 2A * S1 + S2, where S0 = sum(w^2), S1 = sum(w^2 L), S2 = sum(w^2 L^2): S0 never changes,
S1 and S2 change only when the df of one of the ticket's words does (a ticket came or went), and n
(the number of candidates) enters through A alone. The sums are kept as integers (each part is a
float made exact at 2^-60), so they are the same however many updates led to them, with no drift
over months of uptime. A ranking first finds, from these norms and the postings of the mail's words,
every ticket's cosine to within MARGIN, then recomputes the few that can be among the best exactly as
rank() does and picks from those.
"""
from __future__ import annotations

import heapq
import math
from collections import Counter
from functools import lru_cache
from itertools import chain
from typing import Mapping, Sequence

from gateway.triage.similar import Scored, Similar, best, cosine, query_vector, rank

Key = tuple[int, str]  # (ticket id, reply token): the token tells a ticket from one that got its id after a rollback

SCALE = 1 << 60  # each part of S0, S1, S2 as an integer multiple of 2^-60: exact for the float it was
# S1 and S2 of a ticket packed in one integer, S1 * PACK + S2 (S2 < PACK for any ticket of fewer than
# 10^9 words): a df that changes costs one addition per ticket that has the word, not two.
SHIFT = 128
PACK = 1 << SHIFT
LOW = PACK - 1  # S2 of a packed pair
# Bound on |approximate cosine - rank()'s|: the float error of the norm from A, S0, S1, S2 is below
# 1e-12 even with hundreds of thousands of candidates; tickets within it of the cut are recomputed.
MARGIN = 1e-9


class SimilarIndex:
    """The candidates (tickets with their tf() weights, by Key) and the postings of their words."""

    def __init__(self) -> None:
        self._slots: dict[Key, int] = {}  # candidates with inbound mail -> their slot in the lists below
        # Candidates without inbound mail (opened by an engineer): compared with nothing.
        self._wordless: set[Key] = set()
        self._ids: list[int] = []
        self._docs: list[dict[str, float] | None] = []
        self._s0: list[int] = []
        self._s12: list[int] = []  # S1 * PACK + S2
        self._free: list[int] = []
        # word -> tf weight -> slots: most words occur once or twice in a ticket, so a df that changes
        # moves each ticket's sums by one of a few amounts, each worked out once.
        self._postings: dict[str, dict[float, set[int]]] = {}
        self._df: dict[str, int] = {}
        # Tickets of the very same words (an alert sent again and again) share one dict, so that a ranking
        # works out their common cosine once: (word, weight) pairs in order -> [the dict, tickets with it].
        self._alike: dict[tuple[tuple[str, float], ...], list] = {}

    def __len__(self) -> int:
        return len(self._slots) + len(self._wordless)

    def unknown(self, heads: Sequence[Key]) -> list[Key]:
        """The keys of `heads` the index has no words for: their first mail must be read."""
        slots, wordless = self._slots, self._wordless  # (no set of `heads` made: a third of the time)
        return [key for key in heads if key not in slots and key not in wordless]

    def work(self, heads: Sequence[Key], found: Mapping[Key, Mapping[str, float] | None], mine: Counter[str]) -> int:
        """At most how many postings update(heads, found) and then rank(mine) touch: the work they make."""
        keep = set(heads)
        df = self._df
        going = [self._docs[self._slots[key]] for key in self._slots.keys() - keep]
        return sum([df.get(t, 0) for words in chain([mine], going, found.values()) if words for t in words])

    def update(self, heads: Sequence[Key], found: Mapping[Key, dict[str, float] | None]) -> None:
        """Make `heads` the candidates; `found` has the tf() weights of those unknown() (None: no inbound mail)."""
        keep = set(heads)
        self._wordless &= keep
        df = self._df
        before: dict[str, int] = {}  # df before this update of each word whose df may change
        for key in self._slots.keys() - keep:
            slot = self._slots.pop(key)
            for t, w in self._docs[slot].items():
                before.setdefault(t, df[t])
                self._unpost(t, w, slot)
            alike = tuple(self._docs[slot].items())
            self._alike[alike][1] -= 1
            if not self._alike[alike][1]:
                del self._alike[alike]
            self._docs[slot] = None
            self._free.append(slot)
        coming = []
        for key in keep - self._slots.keys() - self._wordless:
            words = found.get(key)
            if words is None:
                self._wordless.add(key)
            else:
                coming.append((key, words))
        arriving = Counter(chain.from_iterable(words for _, words in coming))
        for t, count in arriving.items():
            before.setdefault(t, df.get(t, 0))
        for t, was in before.items():
            now = df.get(t, 0) + arriving[t]
            if now != was and t in self._postings:
                self._shift(self._postings[t], was, now)
        slots = []
        for key, words in coming:
            slot = self._slot_for(key)
            alike = self._alike.setdefault(tuple(words.items()), [words, 0])
            alike[1] += 1
            self._docs[slot] = words = alike[0]
            for t, w in words.items():
                self._postings.setdefault(t, {}).setdefault(w, set()).add(slot)
                df[t] = df.get(t, 0) + 1
            slots.append(slot)
        for slot in slots:
            words = self._docs[slot]
            self._s0[slot] = sum([_part(w, 0) for w in words.values()])
            self._s12[slot] = sum([_parts(w, df[t]) for t, w in words.items()])

    def rank(self, mine: Counter[str], *, top: int = 3, at_least: float = 0.3) -> list[Similar]:
        """rank(mine, the candidates newest first, top=top, at_least=at_least), from the index."""
        n = len(self._slots) + 1
        if not mine or n == 1:
            return []
        if at_least <= 0:  # every candidate passes, sharing a word or not: nothing for the index to save
            return rank(mine, self._newest_first(), top=top, at_least=at_least)
        df = self._df
        idf = {t: math.log((1 + n) / (1 + df.get(t, 0) + 1)) + 1 for t in mine}
        query = query_vector(mine, idf)
        near = self._near(query, idf, n)
        kept = [score for score in near.values() if score >= at_least - MARGIN]
        cut = at_least - MARGIN
        if len(kept) > top:  # those that may be among the `top` best: within twice MARGIN of the top-th
            cut = max(cut, heapq.nlargest(top, kept)[-1] - 2 * MARGIN)
        scored = []
        done: dict[int, tuple[float, set[str], float] | None] = {}  # by id() of the words, shared by alike tickets
        for slot, near_score in near.items():
            if near_score < cut:
                continue
            doc = self._docs[slot]
            if id(doc) not in done:
                for t in doc.keys() - idf.keys():  # rank()'s idf of the ticket's other words
                    idf[t] = math.log((1 + n) / (1 + df[t])) + 1
                common = query.keys() & doc.keys()
                score, norm = cosine(query, idf, doc, common)
                done[id(doc)] = (score, common, norm) if score >= at_least else None
            if done[id(doc)] is not None:
                score, common, norm = done[id(doc)]
                scored.append(Scored(score, -self._ids[slot], self._ids[slot], common, doc, norm))
        return best(query, idf, scored, top)

    def _near(self, query: dict[str, float], idf: dict[str, float], n: int) -> dict[int, float]:
        """Each candidate sharing a word with `query` -> its cosine, to within MARGIN."""
        a = 1 + math.log(1 + n)
        # Per slot, the dot product (real part) and the change in the norm^2 from the mail's words adding
        # one to their df (imaginary part): one complex addition is two float additions, each part rounded
        # as on its own, for a third less time than two lists in this loop, the index's hottest.
        sums = [0j] * len(self._docs)
        for t, q in query.items():
            weights = self._postings.get(t)
            if not weights:
                continue
            mine, other = idf[t], a - math.log(1 + self._df[t])
            grows, weight = mine * mine - other * other, q * mine
            for w, slots in weights.items():
                both = complex(weight * w, w * w * grows)
                for slot in slots:
                    sums[slot] += both
        near = {}
        # Names bound once and S1, S2 unpacked by shift and mask (both are positive): the same floats as
        # divmod() and a * a * S0 - 2 * a * S1 + S2 give, for a quarter less time over every candidate.
        s0, s12, sqrt, aa, a2 = self._s0, self._s12, math.sqrt, a * a, 2 * a
        for slot in self._slots.values():
            both = sums[slot]
            if both.real:  # every weight is positive: a shared word makes it so
                packed = s12[slot]
                near[slot] = both.real / sqrt((aa * s0[slot] - a2 * (packed >> SHIFT) + (packed & LOW)) / SCALE
                                              + both.imag)
        return near

    def _shift(self, weights: dict[float, set[int]], was: int, now: int) -> None:
        """A word's df went from `was` to `now`: move S1 and S2 of the tickets that have it."""
        s12 = self._s12
        for w, slots in weights.items():
            delta = _parts(w, now) - _parts(w, was)
            for slot in slots:
                s12[slot] += delta

    def _unpost(self, t: str, w: float, slot: int) -> None:
        weights = self._postings[t]
        slots = weights[w]
        slots.discard(slot)
        if not slots:
            del weights[w]
            if not weights:
                del self._postings[t]
        self._df[t] -= 1
        if not self._df[t]:
            del self._df[t]

    def _slot_for(self, key: Key) -> int:
        if self._free:
            slot = self._free.pop()
            self._ids[slot] = key[0]
        else:
            slot = len(self._docs)
            self._ids.append(key[0])
            self._docs.append(None)
            self._s0.append(0)
            self._s12.append(0)
        self._slots[key] = slot
        return slot

    def _newest_first(self) -> list[tuple[int, dict[str, float]]]:
        return sorted(((self._ids[slot], self._docs[slot]) for slot in self._slots.values()), key=lambda d: -d[0])


def _part(w: float, df: int, power: int = 0) -> int:
    """w^2 * log(1 + df)^power as an exact integer multiple of 2^-60."""
    return int(w * w * math.log(1 + df) ** power * SCALE)


@lru_cache(maxsize=1 << 14)  # (tf weight, df): a few dozen weights times similar_among
def _parts(w: float, df: int) -> int:
    """A word's share of S1 * PACK + S2 in a ticket where its tf weight is w and its df is df."""
    return _part(w, df, 1) * PACK + _part(w, df, 2)

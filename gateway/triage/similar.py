"""Open tickets that look like the same problem: word tf-idf cosine over subject and body, with the shared words."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple, Sequence

from gateway.triage.features import MAX_BODY, mail_text, word_ngrams
from gateway.triage.linear import FILLER


@dataclass(frozen=True)
class Similar:
    ticket_id: int
    score: float
    words: tuple[str, ...]  # the shared words that weigh most: the "why"

    def as_dict(self) -> dict:
        return {"ticket_id": self.ticket_id, "score": round(self.score, 2), "words": list(self.words)}


def terms(subject: str, body: str) -> Counter[str]:
    """The words of a mail that similarity compares (filler words and bare numbers left out), with counts."""
    return Counter(w for w in word_ngrams(mail_text(subject, body[:MAX_BODY]), 1, 1)
                   if w not in FILLER and not w.isdigit())


def tf(words: Counter[str]) -> dict[str, float]:
    """Term-frequency weights of terms(): 1 + log(count), sublinear as scikit-learn's sublinear_tf."""
    return {t: 1 + math.log(c) for t, c in words.items()}


def similar(subject: str, body: str, candidates: Sequence[tuple[int, str, str]], *, top: int = 3,
            at_least: float = 0.3) -> list[Similar]:
    """Up to `top` of `candidates` (ticket id, subject, body) with cosine >= at_least, best first."""
    return rank(terms(subject, body), [(ticket_id, tf(terms(s, b))) for ticket_id, s, b in candidates],
                top=top, at_least=at_least)


def rank(mine: Counter[str], docs: Sequence[tuple[int, dict[str, float]]], *, top: int = 3,
         at_least: float = 0.3) -> list[Similar]:
    """Up to `top` of `docs` (ticket id, tf() of its terms()) with cosine >= at_least to `mine`, best first.

    idf comes from the candidates themselves, so words every open ticket has ("printer" on a desk full
    of printer tickets) count less than the words this mail shares with one of them.
    """
    if not mine or not docs:
        return []
    df = Counter(chain.from_iterable(doc for _, doc in docs))  # counted in C, each ticket's words once
    n = len(docs) + 1
    # One idf per word, not one per word and ticket: the same words recur across the candidates.
    idf = {t: math.log((1 + n) / (1 + count + (t in mine))) + 1 for t, count in df.items()}
    for t in mine.keys() - idf.keys():
        idf[t] = math.log((1 + n) / 2) + 1
    query = query_vector(mine, idf)
    scored = []
    for position, (ticket_id, doc) in enumerate(docs):
        common = query.keys() & doc.keys()
        if at_least > 0 and not common:
            continue  # nothing shared: cosine 0
        score, norm = cosine(query, idf, doc, common)
        if score >= at_least:
            scored.append(Scored(score, position, ticket_id, common, doc, norm))
    return best(query, idf, scored, top)


def query_vector(mine: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    """The mail's tf-idf vector, of length 1."""
    vector = {t: w * idf[t] for t, w in tf(mine).items()}
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {t: v / norm for t, v in vector.items()}


def cosine(query: dict[str, float], idf: dict[str, float], doc: dict[str, float],
           common: set[str]) -> tuple[float, float]:
    """(cosine, norm of the ticket's tf-idf vector) of a ticket sharing the words `common` with the query.

    Only the shared words' weights are needed, and the norm over all of the ticket's words.
    """
    norm = math.sqrt(sum([v * v for v in [w * idf[t] for t, w in doc.items()]])) or 1.0
    return sum([query[t] * (doc[t] * idf[t] / norm) for t in common]), norm


class Scored(NamedTuple):
    """A ticket's cosine with what it shares; position: its place among the candidates (ties keep it)."""
    score: float
    position: int
    ticket_id: int
    common: set[str]
    doc: dict[str, float]
    norm: float


def best(query: dict[str, float], idf: dict[str, float], scored: list[Scored], top: int) -> list[Similar]:
    """The `top` best of `scored`, each with its shared words.

    The shared words (the "why") only of the tickets kept: on a desk of look-alike tickets every one
    of the hundreds compared passes at_least, and sorting each one's words cost more than the scores.
    """
    scored = sorted(scored, key=lambda found: (-found.score, found.position))
    return [Similar(found.ticket_id, found.score, _strongest(query, idf, found.common, found.doc, found.norm))
            for found in scored[:top]]


def _strongest(query: dict[str, float], idf: dict[str, float], common: set[str], doc: dict[str, float],
               norm: float) -> tuple[str, ...]:
    """The three shared words that weigh most in the score, ties by word."""
    shared = {t: query[t] * (doc[t] * idf[t] / norm) for t in common}
    return tuple(sorted(shared, key=lambda t: (-shared[t], t))[:3])

"""Open tickets that look like the same problem: word tf-idf cosine over subject and body, with the shared words."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from gateway.triage.features import MAX_BODY, mail_text, word_ngrams
from gateway.triage.linear import FILLER


@dataclass(frozen=True)
class Similar:
    ticket_id: int
    score: float
    words: tuple[str, ...]  # the shared words that weigh most: the "why"

    def as_dict(self) -> dict:
        return {"ticket_id": self.ticket_id, "score": round(self.score, 2), "words": list(self.words)}


def _terms(subject: str, body: str) -> Counter[str]:
    return Counter(w for w in word_ngrams(mail_text(subject, body[:MAX_BODY]), 1, 1)
                   if w not in FILLER and not w.isdigit())


def similar(subject: str, body: str, candidates: Sequence[tuple[int, str, str]], *, top: int = 3,
            at_least: float = 0.3) -> list[Similar]:
    """Up to `top` of `candidates` (ticket id, subject, body) with cosine >= at_least, best first.

    idf comes from the candidates themselves, so words every open ticket has ("printer" on a desk full
    of printer tickets) count less than the words this mail shares with one of them.
    """
    docs = [_terms(s, b) for _, s, b in candidates]
    mine = _terms(subject, body)
    if not mine or not docs:
        return []
    df = Counter(term for doc in docs for term in doc)
    n = len(docs) + 1
    def weights(doc: Counter[str]) -> dict[str, float]:
        vector = {t: (1 + math.log(c)) * (math.log((1 + n) / (1 + df[t] + (t in mine))) + 1) for t, c in doc.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items()}
    query = weights(mine)
    found = []
    for (ticket_id, _, _), doc in zip(candidates, docs):
        other = weights(doc)
        shared = {t: query[t] * other[t] for t in query.keys() & other.keys()}
        score = sum(shared.values())
        if score >= at_least:
            found.append(Similar(ticket_id, score, tuple(sorted(shared, key=lambda t: (-shared[t], t))[:3])))
    return sorted(found, key=lambda s: -s.score)[:top]

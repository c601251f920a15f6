"""TF-IDF features of a mail, computed as scikit-learn's vectorizers do, without scikit-learn."""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import add

from gateway.triage.concepts import concept_text

# Bounds that keep classification linear in the input and fast: the model reads at most this much.
MAX_SUBJECT = 300
# NLBSE macro-F1 in cross-validation on its train split: 0.750 reading 1500 characters, 0.744 at 1200, 0.741
# at 1000, help-desk mail (shorter) alike; 1200 keeps a long mail's cost where it was before the NLBSE
# train split made the vocabulary five times larger.
MAX_BODY = 1200

# scikit-learn's default token_pattern and its whitespace folding for char_wb: both linear-time. Its
# token_pattern, r"(?u)\b\w\w+\b", finds each whole run of two or more word characters; so does \w\w+
# (a run's first character is where a search arrives, and greedy \w+ takes the run to its end) without
# testing the boundaries: 18 us for an NLBSE issue against 26 us.
_TOKEN = re.compile(r"(?u)\w\w+")
_SPACES = re.compile(r"\s\s+")


def mail_text(subject: str, body: str) -> str:
    """The text a model reads: subject, newline, the start of the body."""
    return f"{(subject or '')[:MAX_SUBJECT]}\n{(body or '')[:MAX_BODY]}"


FIELDS = ("text", "subject", "body", "concepts")


def field_text(field: str, subject: str, body: str) -> str:
    """What one block of features reads: the whole mail_text, the subject alone, the body alone (bounded), or
    the kinds of words in its sentences."""
    if field == "subject":
        return (subject or "")[:MAX_SUBJECT]
    if field == "body":
        return (body or "")[:MAX_BODY]
    if field == "concepts":  # the kinds of words in each sentence (gateway/triage/concepts.py)
        return concept_text((subject or "")[:MAX_SUBJECT], (body or "")[:MAX_BODY])
    return mail_text(subject, body)


@lru_cache(maxsize=8)
def _tokens(text: str) -> tuple[str, ...]:
    # cached: the category model reads words and word pairs of a mail, the emergency model its words
    return tuple(_TOKEN.findall(text.lower()))


def word_ngrams(text: str, low: int, high: int) -> list[str]:
    tokens = _tokens(text)
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        # the n tokens from each position, joined in C: zip(tokens, tokens[1:], ...) stops at the shortest
        grams.extend(map(" ".join, zip(*(tokens[i:] for i in range(n)))))
    return grams


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside space-padded words (scikit-learn's analyzer='char_wb')."""
    grams: list[str] = []
    for word in _SPACES.sub(" ", text.lower()).split():
        grams.extend(word_char_grams(word, low, high))
    return grams


def _cuts(length: int, low: int, high: int) -> tuple[slice, ...]:
    """Where a padded word of `length` characters is cut into its char_wb n-grams, in scikit-learn's order."""
    cuts: list[slice] = []
    for n in range(low, high + 1):
        last = max(length - n, 0)
        # slice(i, i + n) for each start i, made in C: a long "word" (a URL, a log line) has hundreds
        cuts.extend(map(slice, range(last + 1), range(n, n + last + 1)))
        if last == 0:  # a word shorter than n counts once, as scikit-learn does
            break
    return tuple(cuts)


# Tables for words up to this long (padded) are kept: a few MB at most. A longer "word" (a URL, a
# hash, a line of a log) is cut from a table made for it and dropped, so no text can fill memory.
TABLED = 64
tabled_cuts = lru_cache(maxsize=4 * TABLED)(_cuts)


def char_grams(word: str, low: int, high: int) -> Iterable[str]:
    """One word's char_wb n-grams, cut in C from a table of slices per word length (no Python loop per
    n-gram, so cutting a word anew costs about what a cache of its n-gram strings saved, without the
    cache's ~100 MB over a few thousand GitHub issues); a longer word's grown (see _grown)."""
    padded = f" {word} "
    if len(padded) <= TABLED:
        return map(padded.__getitem__, tabled_cuts(len(padded), low, high))
    if low >= 2:
        return _grown(padded, low, high)
    return map(padded.__getitem__, _cuts(len(padded), low, high))


def _grown(padded: str, low: int, high: int) -> list[str]:
    """A padded word's char_wb n-grams for low >= 2, in scikit-learn's order, each n-gram the (n-1)-gram
    at its start plus one character: one new string per n-gram, where cutting made a slice and its ints
    too. A word too long for a table (a path, a hash, a line of a log) is most of a GitHub issue's
    n-grams that no word cache has seen: 3.7x faster on those of the NLBSE'24 test split."""
    grams: list[str] = []
    shorter: str | list[str] = padded  # the (n-1)-grams by start; the 1-grams are its characters
    for n in range(2, high + 1):
        if len(padded) <= n:  # a word no longer than n counts once, and so for every larger n (as _cuts)
            grams.append(padded)
            break
        shorter = list(map(add, shorter, padded[n - 1:]))
        if n >= low:
            grams.extend(shorter)
    return grams


def word_char_grams(word: str, low: int, high: int) -> tuple[str, ...]:
    """One word's char_wb n-grams."""
    return tuple(char_grams(word, low, high))



@lru_cache(maxsize=8)
def word_counts(text: str) -> Counter[str]:
    """The lower-cased words of `text` that char_wb cuts, with their counts; cached so both models split
    one mail once. str.split() splits on any whitespace run, as scikit-learn's folding then split() does."""
    return Counter(text.lower().split())


@lru_cache(maxsize=8)
def gram_counts(text: str, analyzer: str, low: int, high: int) -> Counter[str]:
    """n-gram counts of `text`; cached so the category and emergency models cut one mail once."""
    if analyzer == "word":
        return Counter(word_ngrams(text, low, high))
    grams: list[str] = []
    for word, times in word_counts(text).items():
        grams.extend(word_char_grams(word, low, high) * times)
    return Counter(grams)


@dataclass(frozen=True)
class Vectorizer:
    """One fitted TfidfVectorizer (sublinear tf, l2 norm) over one field of the mail, its vector scaled by weight."""

    analyzer: str  # "word" or "char_wb"
    low: int
    high: int
    vocabulary: dict[str, int]
    idf: tuple[float, ...]
    field: str = "text"  # one of FIELDS; models saved before fields existed read mail_text
    weight: float = 1.0  # the block's share against the others (the subject says more per word than the body)

    def grams(self, text: str) -> list[str]:
        if self.analyzer == "word":
            return word_ngrams(text, self.low, self.high)
        return char_wb_ngrams(text, self.low, self.high)

    def transform(self, text: str) -> tuple[list[int], list[float]]:
        """Sparse l2-normalised tf-idf vector as (feature indices, values); map/zip keep the loops in C."""
        counts = gram_counts(text, self.analyzer, self.low, self.high)
        idf = self.idf
        pairs = [(j, c) for j, c in zip(map(self.vocabulary.get, counts.keys()), counts.values()) if j is not None]
        if not pairs:
            return [], []
        indices = [j for j, _ in pairs]
        values = [(1.0 + math.log(c)) * idf[j] if c > 1 else idf[j] for j, c in pairs]
        scale = self.weight / math.hypot(*values)
        return indices, [v * scale for v in values]

    def as_dict(self) -> dict:
        return {"analyzer": self.analyzer, "ngram_range": [self.low, self.high], "field": self.field,
                "weight": self.weight, "vocabulary": self.vocabulary, "idf": [round(x, 6) for x in self.idf]}

    @classmethod
    def from_dict(cls, data: dict) -> Vectorizer:
        low, high = data["ngram_range"]
        # JSON already gives str keys, int indices and floats: no per-item conversion (load time)
        field = data.get("field", "text")
        if field not in FIELDS:
            raise ValueError(f"block field {field!r} is not one of {', '.join(FIELDS)}")
        return cls(analyzer=data["analyzer"], low=int(low), high=int(high), vocabulary=dict(data["vocabulary"]),
                   idf=tuple(data["idf"]), field=field, weight=float(data.get("weight", 1.0)))

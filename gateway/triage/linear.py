"""A trained linear text model as plain data: predict, explain, save and load, with no scikit-learn."""
from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache, partial
from heapq import nlargest
from itertools import chain, compress, repeat
from operator import is_not, itemgetter, lt, mul
from pathlib import Path
from typing import Any

from gateway.triage.concepts import readable
from gateway.triage.features import (MAX_BODY, MAX_SUBJECT, Vectorizer, char_grams, field_text, gram_counts,
                                     word_counts)

FORMAT = 1
# Words whose char_wb columns each model keeps (per char_wb block): a few MB at most.
WORD_CACHE = 32768
_KNOWN = partial(is_not, None)  # a column, not a miss: filter() keeps the loop in C
_POSITIVE = partial(lt, 0.0)  # a contribution towards the label: 0.0 < x


@dataclass(frozen=True)
class Prediction:
    """The model's label, its calibrated probability, and the words that pushed it there most."""

    label: str
    confidence: float
    probabilities: dict[str, float]
    words: tuple[str, ...]


@dataclass(frozen=True)
class LinearModel:
    """Linear scores over word and char_wb tf-idf blocks, made probabilities by a softmax with temperature."""

    kind: str  # "category" or "emergency"
    classes: tuple[str, ...]
    blocks: tuple[Vectorizer, ...]
    coef: tuple[tuple[float, ...], ...]  # one row per class; a single row for a binary model
    intercept: tuple[float, ...]
    temperature: float = 1.0  # scores are divided by it before softmax: fitted on held-out folds
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def features(self, subject: str, body: str, *, analyzer: str | None = None) -> tuple[list[int], list[float]]:
        """Every non-zero feature of the mail (of the blocks with `analyzer`, or all): (indices over all
        blocks, values)."""
        indices: list[int] = []
        values: list[float] = []
        for offset, block in zip(self._offsets, self.blocks):
            if analyzer is None or block.analyzer == analyzer:
                idx, vals = block.transform(field_text(block.field, subject, body))
                indices.extend([offset + j for j in idx] if offset else idx)
                values.extend(vals)
        return indices, values

    @cached_property
    def _offsets(self) -> list[int]:
        offsets, total = [], 0
        for block in self.blocks:
            offsets.append(total)
            total += len(block.idf)
        return offsets

    def scores(self, subject: str, body: str) -> list[float]:
        """The raw linear scores (scikit-learn's decision_function), one per coef row.

        The same sum as the dot product of features() with the coef rows, with every loop over n-grams
        in C (map, sum, Counter); see _counted for how a block's columns are counted."""
        totals = list(self.intercept)
        for block, (idf, rows), (columns, tfs, _) in zip(self.blocks, self._columns, self._counted(subject, body)):
            values = list(map(mul, tfs, map(idf.__getitem__, columns)))
            length = math.hypot(*values)
            if not length:  # no n-gram of the mail is in this block's vocabulary
                continue
            scale = block.weight / length
            for k, row in enumerate(rows):
                totals[k] += scale * sum(map(mul, values, map(row.__getitem__, columns)))
        return totals

    def _counted(self, subject: str, body: str) -> Iterator[tuple[list[int], list[float], Picker]]:
        """Per block: the mail's columns in it, their sublinear tf (1 + log count) and a picker of a table's
        entries at those columns (see _picker).

        A char_wb block counts vocabulary columns rather than n-grams: a word's columns are looked up
        once (see _word_columns), and n-grams outside the vocabulary, which add nothing, are never
        counted. A word block looks each n-gram up once; one outside the vocabulary reads index -1,
        a column of zeros (see _columns), and adding its 0.0 changes no sum."""
        for block, word_columns in zip(self.blocks, self._word_columns):
            text = field_text(block.field, subject, body)
            if word_columns is None:
                counts = gram_counts(text, block.analyzer, block.low, block.high)
                columns = list(map(block.vocabulary.get, counts.keys(), repeat(-1)))
            else:  # each word's columns, repeated as often as the word occurs: one Counter pass in C
                words = word_counts(text)
                counts = Counter(chain.from_iterable(map(mul, map(word_columns, words.keys()), words.values())))
                columns = list(counts.keys())
            yield columns, list(map(_TF.__getitem__, counts.values())), _picker(columns)

    def _odds(self, counted: list[tuple[list[int], list[float], Picker]]) -> tuple[list[float], list[float]]:
        """What predict() needs: the scores less the first class's score (the softmax does not change),
        in one pass over a block's columns per two classes where scores() takes one per class (_packed);
        and each block's scale (its weight over its vector's length, 0.0 for an empty block), which the
        explanation reuses."""
        if len(self.coef) == 1:  # binary: the one score as it is
            totals = [self.intercept[0]]
        else:
            first = self.intercept[0]
            totals = [b - first for b in self.intercept]
        scales = [0.0] * len(self.blocks)
        for index, (block, (idf, tables), (_, tfs, pick)) in enumerate(zip(self.blocks, self._packed, counted)):
            length = math.hypot(*map(mul, tfs, pick(idf)))
            if not length:
                continue
            scale = scales[index] = block.weight / length
            if len(totals) == 1:
                totals[0] += scale * sum(map(mul, tfs, pick(tables[0])))
                continue
            for pair, table in enumerate(tables):  # classes 2p+1 and 2p+2 in one complex sum
                summed = scale * sum(map(mul, tfs, pick(table)))
                totals[2 * pair + 1] += summed.real
                if 2 * pair + 2 < len(totals):
                    totals[2 * pair + 2] += summed.imag
        return totals, scales

    @cached_property
    def _packed(self) -> list[tuple[list[float], list[list]]]:
        """Per block: its idf (with the extra 0.0 of _columns) and tables of idf times the coef, by column:
        for a binary model its one row; else each class's row less the first class's, two classes to a
        complex number (real, imaginary), so three classes take one pass of sum() and not three."""
        tables = []
        for idf, rows in self._columns:
            if len(rows) == 1:
                tables.append((idf, [list(map(mul, idf, rows[0]))]))
                continue
            odds = [[a - f for a, f in zip(row, rows[0])] for row in rows[1:]]
            if len(odds) % 2:
                odds.append([0.0] * len(idf))
            tables.append((idf, [[complex(i * a, i * b) for i, a, b in zip(idf, real, imaginary)]
                                 for real, imaginary in zip(odds[::2], odds[1::2])]))
        return tables

    @cached_property
    def _columns(self) -> list[tuple[list[float], list[list[float]]]]:
        """Per block: its idf and its slice of each coef row, each ending in an extra 0.0 that an n-gram
        outside the vocabulary reads as index -1; built at the first scoring."""
        tables = []
        for offset, block in zip(self._offsets, self.blocks):
            end = offset + len(block.idf)
            tables.append(([*block.idf, 0.0], [[*row[offset:end], 0.0] for row in self.coef]))
        return tables

    @cached_property
    def _word_columns(self) -> list[Callable[[str], tuple[int, ...]] | None]:
        """Per char_wb block (None for the others): word -> the block's columns of the word's n-grams,
        repeats kept and those outside the vocabulary left out. Cached per word: words recur within
        and across mails. The tuples hold the vocabulary's own int objects, so a cached word costs
        about 8 bytes per n-gram (a cache of the n-gram strings themselves cost ten times that)."""
        def columns_of(block: Vectorizer) -> Callable[[str], tuple[int, ...]]:
            vocabulary, low, high = block.vocabulary, block.low, block.high

            @lru_cache(maxsize=WORD_CACHE)
            def word_columns(word: str) -> tuple[int, ...]:
                return tuple(filter(_KNOWN, map(vocabulary.get, char_grams(word, low, high))))
            return word_columns
        return [columns_of(block) if block.analyzer == "char_wb" else None for block in self.blocks]

    def predict(self, subject: str, body: str, *, explain: int = 3) -> Prediction:
        counted = list(self._counted(subject, body))  # the columns once, for the scores and the words
        odds, scales = self._odds(counted)
        probs = _probabilities(odds, self.temperature)
        best = max(range(len(self.classes)), key=probs.__getitem__)
        words = self._explained(counted, scales, best, explain) if explain else ()
        return Prediction(label=self.classes[best], confidence=probs[best],
                          probabilities=dict(zip(self.classes, probs)), words=words)

    def explain(self, subject: str, body: str, label: str, *, top: int = 3) -> tuple[str, ...]:
        """The `top` words (or word pairs) that pushed the mail most towards `label` over the other classes'
        average (what predict() gives as words). A word read by two blocks, the subject's and the whole
        mail's, adds up; char n-grams explain nothing to a reader, and filler words are left out."""
        counted = list(self._counted(subject, body))
        return self._explained(counted, self._odds(counted)[1], self.classes.index(label), top)

    def _explained(self, counted: list[tuple[list[int], list[float], Picker]], scales: list[float], best: int,
                   top: int) -> tuple[str, ...]:
        added: dict[str, float] = {}
        for scale, table, (_, tfs, pick) in zip(scales, self._explainers, counted):
            if table is None or not scale:
                continue
            names, idf, towards = table
            values = map(mul, tfs, pick(idf))
            weighted = map(mul, map(mul, values, repeat(scale)), pick(towards[best]))
            part = dict(zip(pick(names), weighted))  # -1, outside the vocabulary: "", 0.0
            if len(part) > len(added):
                added, part = part, added
            for name, contribution in part.items():  # the smaller block into the larger, in Python
                added[name] = added.get(name, 0.0) + contribution
        return self._ranked(added, top)

    def _ranked(self, added: dict[str, float], top: int) -> tuple[str, ...]:
        added.pop("", None)
        wanted = top * 4
        pushing = list(compress(zip(added.values(), added.keys()), map(_POSITIVE, added.values())))
        while True:  # the largest few, in C; more only when filler words crowd them out
            ranked = nlargest(wanted, pushing)
            words = [name for contribution, name in ranked if not _filler(name)][:top]
            if len(words) == top or len(ranked) < wanted:
                return tuple(words)
            wanted *= 4

    @cached_property
    def _explainers(self) -> list[tuple[list[str], list[float], list[list[float]]] | None]:
        """Per word block (None for char blocks): its n-grams by column, its idf and, per class, each
        column's weight towards that class over the others' average; each list ends in an extra entry
        ("", 0.0) that an n-gram outside the vocabulary reads as index -1. Built at the first explanation."""
        tables: list[tuple[list[str], list[float], list[list[float]]] | None] = []
        for (idf, rows), block in zip(self._columns, self.blocks):
            if block.analyzer != "word":
                tables.append(None)
                continue
            names = [""] * len(idf)
            for gram, j in block.vocabulary.items():
                names[j] = gram
            if block.field == "concepts":  # "broken_x_scope" says little to a reader
                names[:-1] = map(readable, names[:-1])
            if len(rows) == 1:  # binary: the row favours classes[1]
                towards = [[-w for w in rows[0]], rows[0]]
            else:
                mean = [sum(column) / len(rows) for column in zip(*rows)]
                towards = [[w - m for w, m in zip(row, mean)] for row in rows]
            tables.append((names, idf, towards))
        return tables

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "kind": self.kind, "classes": list(self.classes),
                "blocks": [b.as_dict() for b in self.blocks],
                "coef": [[round(x, 6) for x in row] for row in self.coef],
                "intercept": list(self.intercept), "temperature": self.temperature, "meta": self.meta}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"model format {data.get('format')!r} is not {FORMAT}")
        return cls(kind=data["kind"], classes=tuple(data["classes"]),
                   blocks=tuple(Vectorizer.from_dict(b) for b in data["blocks"]),
                   coef=tuple(tuple(row) for row in data["coef"]),
                   intercept=tuple(float(x) for x in data["intercept"]),
                   temperature=float(data.get("temperature", 1.0)), meta=dict(data.get("meta", {})))

    def save(self, path: Path) -> None:
        """Write gzip'd JSON (data, never code: loading a model cannot run anything)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        data = json.dumps(self.as_dict(), ensure_ascii=False, separators=(",", ":")).encode()
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            out.write(data)  # mtime 0: the same model is the same bytes
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        with gzip.open(path, "rt", encoding="utf-8") as src:
            return cls.from_dict(json.load(src))


Picker = Callable[[list[Any]], tuple[Any, ...]]


def _picker(columns: list[int]) -> Picker:
    """A function giving a table's entries at `columns`, in their order, as a tuple made in one C call
    (itemgetter): about a fifth cheaper per column than map(table.__getitem__, columns), and a block's
    columns are read three times (its length, its scores, its explanation)."""
    if len(columns) > 1:
        return itemgetter(*columns)
    if columns:  # itemgetter of one column gives the entry itself, not a tuple
        column = columns[0]
        return lambda table: (table[column],)
    return lambda table: ()


# Sublinear tf, 1 + log(count), by count. A block reads at most MAX_SUBJECT + 1 + MAX_BODY characters
# and an n-gram occurs at most once per character read (or per space-padded word's character), so
# twice that bounds every count.
_TF = [0.0] + [1.0 + math.log(count) for count in range(1, 2 * (MAX_SUBJECT + 1 + MAX_BODY) + 3)]

# Words too common to explain anything to a reader (the model still uses them).
FILLER = frozenset(
    "the a an and or on in of to for is are it my me we our you your this that with at from be can could "
    "please hi hello thanks der die das und oder ist im in den dem ein eine mit bei von zu ich wir sie es "
    "le la les un une et ou est dans de du des pour sur je nous vous il elle ce "
    "not has have been since some any there what when but after all so do does "
    "nicht alle auf für sich nach seit noch mehr wird se ne pas que qui au aux plus en depuis avec".split())


def _filler(name: str) -> bool:
    """A word, or a pair of words, too common to explain anything ("the", "of the")."""
    return FILLER.issuperset(name.split())


def _probabilities(scores: list[float], temperature: float) -> list[float]:
    if len(scores) == 1:  # binary logistic regression: one score for classes[1]
        p = 1.0 / (1.0 + math.exp(-max(min(scores[0] / temperature, 500.0), -500.0)))
        return [1.0 - p, p]
    top = max(scores)
    exps = [math.exp((s - top) / temperature) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]

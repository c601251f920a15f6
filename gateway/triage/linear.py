"""A trained linear text model as plain data: predict, explain, save and load, with no scikit-learn."""
from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from operator import mul
from pathlib import Path
from typing import Any

from gateway.triage.features import Vectorizer, field_text

FORMAT = 1


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

    def features(self, subject: str, body: str) -> tuple[list[int], list[float]]:
        """Every non-zero feature of the mail: (indices over all blocks, values)."""
        indices: list[int] = []
        values: list[float] = []
        for offset, block in zip(self._offsets, self.blocks):
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

    def scores(self, feats: tuple[list[int], list[float]]) -> list[float]:
        """The raw linear scores (scikit-learn's decision_function), one per coef row."""
        indices, values = feats
        return [b0 + sum(map(mul, values, map(row.__getitem__, indices)))
                for row, b0 in zip(self.coef, self.intercept)]

    def predict(self, subject: str, body: str, *, explain: int = 3) -> Prediction:
        feats = self.features(subject, body)
        probs = _probabilities(self.scores(feats), self.temperature)
        best = max(range(len(self.classes)), key=probs.__getitem__)
        return Prediction(label=self.classes[best], confidence=probs[best],
                          probabilities=dict(zip(self.classes, probs)),
                          words=self._words(feats, best, explain))

    def _words(self, feats: tuple[list[int], list[float]], best: int, top: int) -> tuple[str, ...]:
        """The word features that added most to the chosen class over the others' average."""
        def weight(index: int) -> float:
            if len(self.coef) == 1:  # binary: the row favours classes[1]
                return self.coef[0][index] * (1 if best == 1 else -1)
            return self.coef[best][index] - sum(row[index] for row in self.coef) / len(self.coef)
        names = self._word_names
        ranked = sorted((v * weight(j), names[j]) for j, v in zip(*feats) if j in names)
        return tuple(name for contribution, name in reversed(ranked) if contribution > 0 and name not in FILLER)[:top]

    @cached_property
    def _word_names(self) -> dict[int, str]:
        """Feature index over all blocks -> the word, for the word blocks (char n-grams explain nothing)."""
        return {offset + j: gram for offset, block in zip(self._offsets, self.blocks) if block.analyzer == "word"
                for gram, j in block.vocabulary.items()}

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


# Words too common to explain anything to a reader (the model still uses them).
FILLER = frozenset(
    "the a an and or on in of to for is are it my me we our you your this that with at from be can could "
    "please hi hello thanks der die das und oder ist im in den dem ein eine mit bei von zu ich wir sie es "
    "le la les un une et ou est dans de du des pour sur je nous vous il elle ce "
    "not has have been since some any there what when but after all so do does "
    "nicht alle auf für sich nach seit noch mehr wird se ne pas que qui au aux plus en depuis avec".split())


def _probabilities(scores: list[float], temperature: float) -> list[float]:
    if len(scores) == 1:  # binary logistic regression: one score for classes[1]
        p = 1.0 / (1.0 + math.exp(-max(min(scores[0] / temperature, 500.0), -500.0)))
        return [1.0 - p, p]
    top = max(scores)
    exps = [math.exp((s - top) / temperature) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]

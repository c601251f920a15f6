"""Accuracy, per-class precision/recall/F1 and a confusion matrix, and their plain-text table."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class Scores:
    labels: tuple[str, ...]
    total: int
    accuracy: float
    per_class: dict[str, dict[str, float]]  # label -> precision, recall, f1, support
    macro_f1: float
    confusion: dict[str, dict[str, int]]  # true label -> predicted label -> count

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "accuracy": round(self.accuracy, 4), "macro_f1": round(self.macro_f1, 4),
                "per_class": self.per_class, "confusion": self.confusion}

    def table(self) -> str:
        lines = [f"mails {self.total}  accuracy {self.accuracy:.3f}  macro-F1 {self.macro_f1:.3f}", "",
                 f"{'class':<10}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}"]
        for label in self.labels:
            c = self.per_class[label]
            lines.append(f"{label:<10}{c['precision']:>10.3f}{c['recall']:>8.3f}{c['f1']:>7.3f}{c['support']:>9.0f}")
        lines += ["", "confusion (rows: true, columns: predicted)",
                  f"{'':<10}" + "".join(f"{label:>8}" for label in self.labels)]
        for true in self.labels:
            lines.append(f"{true:<10}" + "".join(f"{self.confusion[true][p]:>8}" for p in self.labels))
        return "\n".join(lines)


def score(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> Scores:
    """Scores of `predicted` against `truth`; labels fixes the order of the table."""
    names = tuple(dict.fromkeys([*labels, *truth, *predicted]))
    confusion = {t: {p: 0 for p in names} for t in names}
    for t, p in zip(truth, predicted, strict=True):
        confusion[t][p] += 1
    per_class = {}
    for label in names:
        hits = confusion[label][label]
        said = sum(confusion[t][label] for t in names)
        support = sum(confusion[label].values())
        precision = hits / said if said else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                            "support": support}
    total = len(truth)
    accuracy = sum(confusion[x][x] for x in names) / total if total else 0.0
    present = [x for x in names if per_class[x]["support"]]
    macro = sum(per_class[x]["f1"] for x in present) / len(present) if present else 0.0
    return Scores(names, total, accuracy, per_class, macro, confusion)

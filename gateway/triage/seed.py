"""The shipped seed set and any labelled CSV (subject, body, label), read as Examples."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import UsageError

SEED_DIR = Path(__file__).with_name("seed")
CATEGORIES = ("bug", "change", "misc")
# The seed's emergency sets, each described in seed/README.md.
EMERGENCY_SETS = ("emergencies.csv", "emergencies_more.csv", "emergencies_look_alikes.csv", "emergencies_emdata1.csv",
                  "emergencies_emdata2.csv", "emergencies_emdata3.csv", "emergencies_emdata4.csv")


@dataclass(frozen=True)
class Example:
    subject: str
    body: str
    label: str
    language: str = ""
    split: str = "train"  # "train" or "test" (held out)
    source: str = "seed"


def read_csv(path: Path, *, label: str = "category", labels: tuple[str, ...] = CATEGORIES) -> list[Example]:
    """Rows of a CSV with columns subject, body and `label` (language and split optional)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as src:
            reader = csv.DictReader(src)
            missing = {"subject", "body", label} - set(reader.fieldnames or ())
            if missing:
                raise UsageError(f"{path}: missing column(s) {', '.join(sorted(missing))}; "
                                   f"a labelled CSV needs subject, body and {label}")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: cannot read it as a UTF-8 CSV ({exc}); check the path and the file") from None
    examples = []
    for number, row in enumerate(rows, start=2):
        value = (row[label] or "").strip().lower()
        if value not in labels:
            raise UsageError(f"{path}, line {number}: {label} {value!r} is not one of {', '.join(labels)}")
        examples.append(Example(subject=row["subject"] or "", body=row["body"] or "", label=value,
                                language=row.get("language") or "", split=row.get("split") or "test",
                                source=path.name))
    return examples


def seed_mails() -> list[Example]:
    """The help-desk seed set, labelled by category (see seed/README.md)."""
    return read_csv(SEED_DIR / "mails.csv")


def seed_emergencies() -> list[Example]:
    """Emergency yes/no: the emergency sets (EMERGENCY_SETS) plus the seed mails (urgent = emergency), labelled "1" or "0"."""
    rows = []
    for name in EMERGENCY_SETS:
        rows += read_csv(SEED_DIR / name, label="emergency", labels=("0", "1"))
    with open(SEED_DIR / "mails.csv", newline="", encoding="utf-8") as src:
        rows += [Example(subject=r["subject"], body=r["body"], label="1" if r["priority"] == "urgent" else "0",
                         language=r["language"], split=r["split"]) for r in csv.DictReader(src)]
    return rows


# NLBSE'24 issue classification (GitHub issues) in the help desk's categories.
NLBSE_LABELS = {"bug": "bug", "feature": "change", "question": "misc"}


def read_nlbse(directory: Path, split: str) -> list[Example]:
    """One split of the NLBSE'24 set (issues_<split>.csv: repo, label, title, body) as Examples, source = repo."""
    path = directory / f"issues_{split}.csv"
    csv.field_size_limit(10_000_000)  # a few issue bodies carry long logs
    try:
        with open(path, newline="", encoding="utf-8") as src:
            return [Example(subject=r["title"], body=r["body"], label=NLBSE_LABELS[r["label"]], split=split,
                            source=r["repo"]) for r in csv.DictReader(src)]
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the NLBSE'24 set ({exc.strerror}); it lives in "
                         f"../shared/data/nlbse24 next to the project, or pass its folder") from None

"""Every triage output on the NLBSE'24 test split, the seed set and tests/data/triage, to compare two versions.

    .venv/bin/python bench/triage_outputs.py OUT.jsonl [--code DIR] [--against OLD.jsonl]

A speed-up of triage must not change what it says. This writes, per mail, both decisions (value,
stage, confidence, why) with their rule hits, and each model's probabilities and explaining words;
--code DIR runs the gateway package found in DIR instead (e.g. an older commit unpacked with
`git archive REV gateway | tar -x -C DIR`), --against compares with such an earlier file and lists
what differs (exit 1 if anything does). Probabilities may differ by float rounding (1e-9) only: the
kinds-of-words block lists a sentence's kinds in set order, which follows the process's string
hashes, so the same code's sums round differently in the last bit from run to run; run both sides
with the same PYTHONHASHSEED and the two files are byte for byte the same.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NLBSE = REPO.parent / "shared" / "data" / "nlbse24" / "issues_test.csv"
SETS = [*sorted((REPO / "gateway" / "triage" / "seed").glob("*.csv")),
        *sorted((REPO / "tests" / "data" / "triage").glob("*.csv"))]
CLOSE = 1e-9


def mails() -> list[tuple[str, str, str]]:
    """(where, subject, body) of every mail: the NLBSE test split, then each CSV with subject and body columns."""
    csv.field_size_limit(10_000_000)
    found = []
    with open(NLBSE, newline="", encoding="utf-8") as src:
        found += [(f"nlbse:{n}", r["title"], r["body"]) for n, r in enumerate(csv.DictReader(src))]
    for path in SETS:
        with open(path, newline="", encoding="utf-8-sig") as src:
            rows = list(csv.DictReader(src))
        found += [(f"{path.name}:{n}", r["subject"] or "", r["body"] or "") for n, r in enumerate(rows)
                  if "subject" in r and "body" in r]
    return found


def outputs(code: Path) -> list[dict]:
    sys.path.insert(0, str(code))
    from gateway.config import ClassifyConfig, PriorityConfig
    from gateway.triage import classify_mail, prioritise_mail
    from gateway.triage.store import load

    models = {kind: load(kind, None)[0] for kind in ("category", "emergency")}
    rows = []
    for where, subject, body in mails():
        row: dict = {"mail": where}
        for name, (decision, hits) in (
                ("category", classify_mail(subject, body, config=ClassifyConfig(), model_dir=None)),
                ("priority", prioritise_mail(subject, body, config=PriorityConfig(), model_dir=None))):
            row[name] = decision.as_dict()
            row[f"{name} hits"] = [hit.as_dict() for hit in hits]
        for kind, model in models.items():
            guess = model.predict(subject, body)
            row[kind] = {"label": guess.label, "probabilities": guess.probabilities, "words": list(guess.words)}
        rows.append(row)
    return rows


def differences(old: dict, new: dict, path: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict) and old.keys() == new.keys():
        return [d for key in old for d in differences(old[key], new[key], f"{path}.{key}")]
    if isinstance(old, float) and isinstance(new, float) and abs(old - new) <= CLOSE:
        return []
    return [] if old == new else [f"{path}: {old!r} -> {new!r}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the outputs, one JSON line per mail")
    parser.add_argument("--code", type=Path, default=REPO, help="the folder whose gateway package to run")
    parser.add_argument("--against", type=Path, help="an earlier output file to compare with")
    args = parser.parse_args(argv)
    rows = outputs(args.code.resolve())
    args.out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    print(f"{len(rows)} mails written to {args.out}")
    if not args.against:
        return 0
    old = [json.loads(line) for line in args.against.read_text(encoding="utf-8").splitlines()]
    if len(old) != len(rows):
        print(f"{args.against} has {len(old)} mails, this run {len(rows)}")
        return 1
    found = {new["mail"]: d for before, new in zip(old, rows) if (d := differences(before, new))}
    print("\n".join(f"{mail} {d}" for mail, ds in list(found.items())[:20] for d in ds))
    print(f"{len(rows) - len(found)} of {len(rows)} mails the same, {len(found)} differ")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

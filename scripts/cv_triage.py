"""Grouped cross-validation on the TRAINING data only, to choose triage thresholds, weights and features.

    .venv/bin/python scripts/cv_triage.py emergency [--folds 5] [--show] [--train-only CSV ...]
    .venv/bin/python scripts/cv_triage.py category [--folds 5] [--nlbse DIR]

Never reads tests/data or a held-out or blind split. Translations of one mail stay in one fold: the seed
CSVs hold each batch as a run of English rows, then German, then French, in the same order, so the i-th
row of each language's run in one batch is one group (where a batch's runs differ in length the
alignment is approximate; a leak there would only flatter every setting alike).

emergency: a model is fitted per fold on the other folds (the shipped recipe on the seed's mail; since
shipped-12 the shipped model also learns from tests/data's read sets, which this leaves out: their effect is
scripts/emergency_set_out.py's to measure), then the whole priority decision (rules, signals, calm stretches,
model) runs on the held fold for each `emergency_at` in a grid: recall and false alarms per threshold.
category: the model alone per fold (seed train + NLBSE train at NLBSE_WEIGHT), accuracy on the held
seed mails, for a few settings of the blocks, C and class weights.
"""
from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gateway.config import PriorityConfig  # noqa: E402
from gateway.triage.decide import prioritise  # noqa: E402
from gateway.triage.seed import EMERGENCY_SETS, SEED_DIR, Example, read_csv  # noqa: E402

USED_EMERGENCY_SPLITS = ("train", "blind4")
GRID = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)


def grouped(path: Path, *, label: str, labels: tuple[str, ...], keep) -> list[tuple[str, Example]]:
    """(group, example) for the rows of `path` that `keep` accepts; see the module's docstring."""
    examples = read_csv(path, label=label, labels=labels)
    out, batch, position, previous = [], 0, 0, None
    for example in examples:
        language = example.language or "en"
        if language != previous:
            if language == "en" or (previous == "fr"):  # a new batch starts with its English run
                batch += 1
            position = 0
            previous = language
        if keep(example):
            out.append((f"{path.name}:{batch}:{position}", example))
        position += 1
    return out


def emergency_rows() -> list[tuple[str, Example]]:
    rows: list[tuple[str, Example]] = []
    for name in EMERGENCY_SETS:
        rows += grouped(SEED_DIR / name, label="emergency", labels=("0", "1"),
                        keep=lambda e: e.split in USED_EMERGENCY_SPLITS)
    with open(SEED_DIR / "mails.csv", newline="", encoding="utf-8") as src:
        mails = list(csv.DictReader(src))
    # the same grouping as grouped() over mails.csv, with urgent = emergency
    for (group, example), row in zip(grouped(SEED_DIR / "mails.csv", label="category",
                                             labels=("bug", "change", "misc"), keep=lambda e: True), mails):
        if row["split"] == "train":
            rows.append((group, replace(example, label="1" if row["priority"] == "urgent" else "0")))
    return rows


def folds_of(rows: list[tuple[str, Example]], folds: int) -> list[int]:
    from sklearn.model_selection import GroupKFold

    groups = [g for g, _ in rows]
    fold = [0] * len(rows)
    for k, (_, held) in enumerate(GroupKFold(n_splits=folds).split(rows, groups=groups)):
        for i in held:
            fold[i] = k
    return fold


# Emergency model variants: name -> (blocks, C). "shipped" is train.py's recipe.
def emergency_variants():
    from gateway.triage import train

    blocks = train.EMERGENCY_BLOCKS
    no_char = tuple(b for b in blocks if b[1] != "char_wb")
    return {"shipped": (blocks, train.C), "C 1": (blocks, 1.0), "C 0.5": (blocks, 0.5), "C 4": (blocks, 4.0),
            "no char n-grams": (no_char, train.C), "no char n-grams, C 1": (no_char, 1.0),
            "concepts 0.5": (blocks[:-1] + (blocks[-1][:3] + (0.5,),), train.C),
            "char 2-3": (tuple(b[:2] + ((2, 3),) + b[3:] if b[1] == "char_wb" else b for b in blocks), train.C)}


def emergency(args) -> None:
    from gateway.triage import train
    from gateway.triage.train import fit

    blocks, train.C = emergency_variants()[args.variant]
    train.BLOCKS_BY_KIND["emergency"] = blocks

    rows = emergency_rows()
    fold = folds_of(rows, args.folds)
    found = {t: 0 for t in GRID}
    false = {t: 0 for t in GRID}
    model_found = {t: 0 for t in GRID}
    model_false = {t: 0 for t in GRID}
    wrong = []
    for k in range(args.folds):
        train = [e for (_, e), f in zip(rows, fold) if f != k]
        held = [(g, e) for (g, e), f in zip(rows, fold) if f == k]
        model = fit(train, kind="emergency")
        for group, e in held:
            if group.split(":")[0] in args.train_only:  # trained on, not scored: before/after on the same mails
                continue
            p = model.predict(e.subject, e.body, explain=0).probabilities["1"]
            for t in GRID:
                decision = prioritise(e.subject, e.body, config=PriorityConfig(emergency_at=t), model=model)[0]
                said = decision.value == "urgent"
                if args.show and t == PriorityConfig().emergency_at and said != (e.label == "1"):
                    wrong.append((e.label, decision, e))
                found[t] += said and e.label == "1"
                false[t] += said and e.label == "0"
                model_found[t] += p >= t and e.label == "1"
                model_false[t] += p >= t and e.label == "0"
        print(f"fold {k + 1}/{args.folds} done", file=sys.stderr)
    scored = [e for g, e in rows if g.split(":")[0] not in args.train_only]
    real = sum(e.label == "1" for e in scored)
    calm = len(scored) - real
    print(f"variant {args.variant!r}: {len(rows)} training mails, {len(scored)} scored ({real} emergencies, {calm} calm), "
          f"{args.folds} group folds")
    for t in GRID:
        print(f"emergency_at {t:.2f}: model alone found {model_found[t]}/{real}, false {model_false[t]}/{calm}; "
              f"whole decision found {found[t]}/{real}, false {false[t]}/{calm}")
    for label, decision, e in sorted(wrong, key=lambda w: (w[0], w[1].stage)):
        print(f"{'missed' if label == '1' else 'false'} ({decision.sentence()}) [{e.language}] {e.subject} | "
              f"{' '.join(e.body.split())[:200]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("emergency", "category"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--variant", default="shipped", help="emergency model variant by name")
    parser.add_argument("--train-only", nargs="*", default=(), metavar="CSV",
                        help="emergency: seed sets (e.g. emergencies_look_alikes.csv) trained on but not scored")
    parser.add_argument("--show", action="store_true",
                        help="emergency: print each miss and false alarm at the default emergency_at, with why")
    parser.add_argument("--score-first", type=int, help="category: score only the first N train rows")
    parser.add_argument("--nlbse-weight", type=float, default=0.1)
    parser.add_argument("--only", nargs="*", help="category settings by name")
    parser.add_argument("--nlbse", type=Path, default=REPO.parent / "shared" / "data" / "nlbse24")
    args = parser.parse_args(argv)
    {"emergency": emergency, "category": category}[args.what](args)


# Category settings tried: (name, blocks, C, class_weight). The tf-idf columns are fitted once per set
# of blocks on all the training rows (no labels: the held fold's words only move the idf a little, alike
# for every setting), then only the SVM is refitted per fold.
def category_settings():
    from gateway.triage.train import C, CATEGORY_BLOCKS

    three = CATEGORY_BLOCKS[:2] + (("subject", "word", (1, 2), 0.5),) + CATEGORY_BLOCKS[3:]
    # fewer char n-grams per word: cheaper to score (speed)
    chars34 = tuple(b[:2] + ((3, 4),) + b[3:] if b[1] == "char_wb" else b for b in CATEGORY_BLOCKS)
    chars24 = tuple(b[:2] + ((2, 4),) + b[3:] if b[1] == "char_wb" else b for b in CATEGORY_BLOCKS)
    text34 = tuple(b[:2] + ((3, 4),) + b[3:] if b[:2] == ("text", "char_wb") else b for b in CATEGORY_BLOCKS)
    return [("shipped", CATEGORY_BLOCKS, C, "balanced"),
            ("char 3-4", chars34, C, "balanced"), ("char 2-4", chars24, C, "balanced"),
            ("text char 3-4", text34, C, "balanced"),
            ("C 1", CATEGORY_BLOCKS, 1.0, "balanced"),
            ("C 0.5", CATEGORY_BLOCKS, 0.5, "balanced"),
            ("C 4", CATEGORY_BLOCKS, 4.0, "balanced"),
            ("no class weights", CATEGORY_BLOCKS, C, None),
            ("subject word pairs", three, C, "balanced")]


def category(args) -> None:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score
    from sklearn.svm import LinearSVC

    from gateway.triage.seed import read_nlbse
    from gateway.triage.train import MIN_DF, NLBSE_WEIGHT, sklearn_matrix

    rows = grouped(SEED_DIR / "mails.csv", label="category", labels=("bug", "change", "misc"),
                   keep=lambda e: e.split == "train")
    fold = folds_of(rows, args.folds)
    seed = [e for _, e in rows]
    nlbse = read_nlbse(args.nlbse, "train") if args.nlbse_weight else []
    weight = args.nlbse_weight
    everything = seed + nlbse
    labels = np.asarray([e.label for e in everything])
    sample_weight = np.asarray([1.0] * len(seed) + [weight] * len(nlbse))
    # NLBSE rows in plain folds of their own: each fold scores its seed mails (accuracy) and its issues
    # (macro-F1), having trained on the rest of both
    fold_all = np.asarray(fold + [i % args.folds for i in range(len(nlbse))])
    done = {}
    for name, blocks, c, class_weight in category_settings():
        if args.only and name not in args.only:
            continue
        key = blocks
        if key not in done:
            fitted = [(spec, TfidfVectorizer(sublinear_tf=True, analyzer=spec[1], ngram_range=spec[2],
                                             min_df=MIN_DF, dtype=np.float64)) for spec in blocks]
            done[key] = sklearn_matrix(fitted, everything, fit=True)
        X = done[key]
        right, by_language, issues, issue_labels = 0, {}, [], []
        scored = len(seed) if args.score_first is None else args.score_first
        for k in range(args.folds):
            train, held = fold_all != k, fold_all == k
            clf = LinearSVC(C=c, class_weight=class_weight, random_state=0)
            clf.fit(X[train], labels[train], sample_weight=sample_weight[train])
            predicted = clf.predict(X[held])
            issues += list(predicted[len(predicted) - int(held[len(seed):].sum()):]) if len(nlbse) else []
            issue_labels += list(labels[len(seed):][held[len(seed):]])
            predicted = predicted[:int(held[:len(seed)].sum())]
            for i, p in zip([i for i, f in enumerate(fold) if f == k], predicted):
                if i >= scored:  # rows added later train but are not scored: before/after on the same mails
                    continue
                e = seed[i]
                right += p == e.label
                a, n = by_language.get(e.language, (0, 0))
                by_language[e.language] = (a + (p == e.label), n + 1)
        languages = ", ".join(f"{lang} {a / n:.3f}" for lang, (a, n) in sorted(by_language.items()))
        f1 = f1_score(issue_labels, issues, average="macro") if issues else float("nan")
        print(f"{name}: help-desk accuracy {right / scored:.3f} of {scored} scored, {len(seed)} trained ({languages}), "
              f"NLBSE train macro-F1 {f1:.3f}, NLBSE weight {weight}", flush=True)


if __name__ == "__main__":
    main()

"""The quick scoring path (column counts, cached word lookups) gives what the plain dot product of
features() with the coef rows gives, for the shipped models, on mails seen once and seen again."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from gateway.triage.concepts import readable
from gateway.triage.seed import read_csv, seed_emergencies, seed_mails
from gateway.triage.linear import FILLER, LinearModel, _picker
from gateway.triage.store import load

SMALL = Path(__file__).parents[2] / "data" / "triage" / "small.csv"


def sample() -> list[tuple[str, str]]:
    """small.csv, a spread of the seed test split and of the emergencies, and mails that stress counting."""
    mails = [(e.subject, e.body) for e in read_csv(SMALL)]
    mails += [(e.subject, e.body) for e in [e for e in seed_mails() if e.split == "test"][::7]]
    mails += [(e.subject, e.body) for e in seed_emergencies()[::11]]
    mails += [("aaaa aaaa", "aaaaaaa " * 30 + "aa a ÄÖÜ ß"), ("", ""), ("zzqx", "qqqq xxzzy"),
              ("Server down", "\n\n  Der  Server\tist ausgefallen!!! " * 40)]
    return mails


def plain_scores(model, subject: str, body: str) -> list[float]:
    indices, values = model.features(subject, body)
    return [b + sum(v * row[j] for j, v in zip(indices, values)) for row, b in zip(model.coef, model.intercept)]


@pytest.mark.parametrize("kind", ["category", "emergency"])
def test_quick_scores_are_the_plain_dot_product_and_give_the_same_label(kind):
    model = load(kind, None)[0]
    for _ in range(2):  # the second round reads every word's columns from the cache
        for subject, body in sample():
            expected = plain_scores(model, subject, body)
            assert model.scores(subject, body) == pytest.approx(expected, abs=1e-9)
            if len(expected) == 1:
                best = model.classes[int(expected[0] > 0)]
            else:
                best = model.classes[max(range(len(expected)), key=expected.__getitem__)]
            assert model.predict(subject, body).label == best


def test_a_picker_gives_a_tables_entries_at_the_columns_in_their_order():
    table = [10.0, 11.0, 12.0, 0.0]  # the last entry is what a column outside the vocabulary (-1) reads
    for columns in ([], [2], [0], [3, 0, -1, 3, 1]):
        assert _picker(columns)(table) == tuple(table[c] for c in columns)


def test_explain_gives_the_words_predict_gives():
    model = load("category", None)[0]
    for subject, body in sample()[:12]:
        guess = model.predict(subject, body)
        assert model.explain(subject, body, guess.label) == guess.words
        assert model.predict(subject, body, explain=0).words == ()


def softmax_of_scores(model, subject: str, body: str) -> list[float]:
    scores = model.scores(subject, body)
    if len(scores) == 1:
        p = 1.0 / (1.0 + math.exp(-scores[0] / model.temperature))
        return [1.0 - p, p]
    exps = [math.exp((s - max(scores)) / model.temperature) for s in scores]
    return [e / sum(exps) for e in exps]


@pytest.mark.parametrize("kind", ["category", "emergency"])
def test_predict_packs_classes_yet_gives_the_softmax_of_the_raw_scores(kind):
    model = load(kind, None)[0]
    for subject, body in sample():
        expected = softmax_of_scores(model, subject, body)
        assert list(model.predict(subject, body, explain=0).probabilities.values()) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("classes", [2, 4, 5])
def test_predict_packs_any_number_of_classes(classes):
    """Rows made up from the category model's: two, four and five classes pack as one, two and two pairs."""
    shipped = load("category", None)[0]
    rows = [tuple(x * (k + 1) * (-1) ** k for x in shipped.coef[k % 3]) for k in range(classes)]
    model = LinearModel(kind="category", classes=tuple(f"c{k}" for k in range(classes)), blocks=shipped.blocks,
                        coef=tuple(rows[:1] if classes == 2 else rows),
                        intercept=tuple(0.1 * k for k in range(1 if classes == 2 else classes)),
                        temperature=0.7)
    for subject, body in sample()[::5]:
        expected = softmax_of_scores(model, subject, body)
        assert list(model.predict(subject, body, explain=0).probabilities.values()) == pytest.approx(expected, abs=1e-9)


def plain_words(model, subject: str, body: str, label: str, top: int = 3) -> tuple[str, ...]:
    """The explanation the long way: every word feature's value times its weight towards `label` over
    the classes' average, summed by word across blocks, largest first, fillers left out."""
    best = model.classes.index(label)
    names = {}
    for offset, block in zip(model._offsets, model.blocks):
        if block.analyzer == "word":  # the kinds block names its columns for people (concepts.readable)
            said = readable if block.field == "concepts" else str
            names.update({offset + j: said(gram) for gram, j in block.vocabulary.items()})
    added: dict[str, float] = {}
    for j, v in zip(*model.features(subject, body, analyzer="word")):
        column = [row[j] for row in model.coef]
        towards = (-column[0], column[0]) if len(column) == 1 else [c - sum(column) / len(column) for c in column]
        added[names[j]] = added.get(names[j], 0.0) + v * towards[best]
    ranked = sorted(((c, n) for n, c in added.items()), reverse=True)
    return tuple(n for c, n in ranked if c > 0 and not all(w in FILLER for w in n.split()))[:top]


@pytest.mark.parametrize("kind", ["category", "emergency"])
def test_explanations_are_the_plain_sum_by_word(kind):
    model = load(kind, None)[0]
    for subject, body in sample():
        for label in model.classes:
            assert model.explain(subject, body, label) == plain_words(model, subject, body, label)
            assert model.explain(subject, body, label, top=12) == plain_words(model, subject, body, label, top=12)

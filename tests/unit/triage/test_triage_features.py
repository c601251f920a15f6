"""The pure-Python model computes what scikit-learn computes: same n-grams, same scores."""
from __future__ import annotations

import pytest

from gateway.triage.features import (MAX_BODY, TABLED, tabled_cuts, char_wb_ngrams, mail_text, word_char_grams,
                                     word_ngrams)
from gateway.triage.linear import LinearModel
from gateway.triage.seed import seed_mails
from gateway.triage.train import fit, fit_sklearn, sklearn_matrix

TfidfVectorizer = pytest.importorskip("sklearn.feature_extraction.text").TfidfVectorizer

TEXTS = [
    "Printer on 2nd floor prints blank pages",
    "Der Drucker   druckt\tnur leere Seiten, seit dem Update.",
    "L'imprimante n'imprime que des pages blanches ! Ça arrive à chaque fois.",
    "a b  cd\n\nE-Mail: x@y.example  ÄÖÜ ß",
    # runs of word characters of one, two and more, next to digits, underscores, accents and punctuation
    "x_1 _ __ a1 1a é éé 9 99 a-b-cc k8s::init() snake_case_name l'été (ok),x y.z\u00a0zz\u2019s",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_ngrams_are_scikit_learns(text):
    assert word_ngrams(text, 1, 2) == TfidfVectorizer(ngram_range=(1, 2)).build_analyzer()(text)
    assert char_wb_ngrams(text, 2, 4) == TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).build_analyzer()(text)


def test_scores_are_scikit_learns_decision_function():
    examples = [e for e in seed_mails() if e.split == "train"][::3]
    weights = [0.5 if i % 2 else 1.0 for i in range(len(examples))]
    model = fit(examples, kind="category", weights=weights)
    held = [e for e in seed_mails() if e.split == "test"]
    blocks, clf, _ = fit_sklearn(examples, weights)
    expected = clf.decision_function(sklearn_matrix(blocks, held))
    for example, row in zip(held, expected):
        assert model.scores(example.subject, example.body) == pytest.approx(list(row), abs=1e-6)
        indices, values = model.features(example.subject, example.body)  # the same sum, feature by feature
        assert [b + sum(v * r[j] for j, v in zip(indices, values)) for r, b in zip(model.coef, model.intercept)] == (
            pytest.approx(list(row), abs=1e-6))


def test_a_model_saved_before_blocks_had_fields_reads_the_whole_mail_text():
    data = fit([e for e in seed_mails() if e.split == "train"][::4], kind="category").as_dict()
    for block in data["blocks"]:
        block.update(field="text", weight=1.0)
    explicit = LinearModel.from_dict(data)
    for block in data["blocks"]:  # the shape written before fields existed
        del block["field"], block["weight"]
    old = LinearModel.from_dict(data)
    assert {(b.field, b.weight) for b in old.blocks} == {("text", 1.0)}
    mail = ("Rechnung falsch", "Die Summe auf der Rechnung stimmt nicht.")
    assert old.predict(*mail).probabilities == explicit.predict(*mail).probabilities
    assert old.features(*mail) == explicit.features(*mail)


def test_a_saved_model_loads_the_same(tmp_path):
    model = fit([e for e in seed_mails() if e.split == "train"][::4], kind="category", meta={"note": "x"})
    model.save(tmp_path / "m.json.gz")
    again = LinearModel.load(tmp_path / "m.json.gz")
    mail = ("Rechnung falsch", "Die Summe auf der Rechnung stimmt nicht.")
    assert again.predict(*mail).probabilities == pytest.approx(model.predict(*mail).probabilities, abs=1e-5)
    assert again.meta["note"] == "x"


@pytest.mark.parametrize("subject, body", [
    ("a" * 5000, "a" * 50_000), ("a " * 5000, "a " * 50_000), ("ab " * 2000, "\n".join(["x y"] * 9000)), ("", "")])
def test_degenerate_mails_score_as_the_dot_product_of_their_features(subject, body):
    model = fit([e for e in seed_mails() if e.split == "train"][::4], kind="category")
    indices, values = model.features(subject, body)
    expected = [b + sum(v * r[j] for j, v in zip(indices, values)) for r, b in zip(model.coef, model.intercept)]
    assert model.scores(subject, body) == pytest.approx(expected, abs=1e-9)
    assert model.predict(subject, body).label in model.classes


def test_the_model_reads_a_bounded_start_of_any_body():
    huge = "word " * 400_000  # 2 MB: classification cost must not grow with it
    assert mail_text("s", huge) == mail_text("s", huge[:MAX_BODY])


@pytest.mark.parametrize("low, high", [(2, 4), (2, 3), (3, 5), (1, 3)])
@pytest.mark.parametrize("length", [1, 2, 3, TABLED - 2, TABLED - 1, TABLED, 300])
def test_words_of_any_length_are_cut_as_scikit_learn_cuts_them(length, low, high):
    # a word longer than TABLED is grown n-gram from (n-1)-gram, a shorter one cut from a table
    word = "".join(chr(ord("a") + i % 26) for i in range(length - 1)) + "é" * (length > 0)
    expected = TfidfVectorizer(analyzer="char_wb", ngram_range=(low, high)).build_analyzer()(word)
    assert list(word_char_grams(word, low, high)) == expected


def test_only_short_words_keep_their_table_of_cuts():
    tabled_cuts.cache_clear()
    word_char_grams("x" * 5000, 2, 4)
    word_char_grams("printer", 2, 4)
    assert tabled_cuts.cache_info().currsize == 1

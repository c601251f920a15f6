"""Retraining: corrections are learned, a worse model is refused, the previous model stays, bad files are skipped."""
from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from gateway.triage import store
from gateway.triage.learn import model_accuracy, retrain
from gateway.triage.seed import Example

pytest.importorskip("sklearn")
from gateway.triage.train import fit  # noqa: E402  (needs scikit-learn)

NOW = datetime(2026, 12, 6, 21, 0, tzinfo=timezone.utc)

# A kind of mail the seed set lacks: this desk hands faults in the building to facilities, so they are misc.
FAULTS = ["The projector bulb{w} needs replacing.", "The coffee machine{w} is leaking water again.",
          "The blinds{w} are stuck half way down.", "The air conditioning{w} is far too cold today.",
          "A ceiling light{w} keeps flickering.", "The door badge reader{w} only beeps red."]
WHERE = ["", " on the third floor", " in building B", " in the warehouse", " at the Leeds site",
         " in meeting room 2", " in the new office", " at reception", " in the canteen", " in the lab"]


def facilities_desk() -> list[Example]:
    """60 corrected tickets of that kind: 50 to learn from, 10 held out."""
    mails = [f.format(w=w) for f, w in itertools.product(FAULTS, WHERE)]
    return [Example(subject=text.split(" is ")[0][:40], body=text, label="misc", source="correction",
                    split="test" if i % 6 == 0 else "train") for i, text in enumerate(mails)]


def test_fifty_corrections_of_a_new_kind_are_learned(tmp_path):
    corrections = facilities_desk()
    held = [e for e in corrections if e.split == "test"]
    shipped, _ = store.load("category", tmp_path)
    assert model_accuracy(shipped, held) <= 0.5  # the shipped model calls most of them bugs
    result = retrain(corrections, model_dir=tmp_path, now=NOW, fit=fit)
    assert result.accepted and result.corrections == 60 and result.new_accuracy >= result.old_accuracy
    learned, path = store.load("category", tmp_path)
    assert path.name == "category-20261206T210000Z.json.gz"
    assert model_accuracy(learned, held) >= 0.9


def test_a_worse_model_is_refused_and_the_current_one_stays(tmp_path):
    rotate = {"bug": "change", "change": "misc", "misc": "bug"}

    def mislabelled_fit(examples, **kwargs):
        return fit([replace(e, label=rotate[e.label]) for e in examples], **kwargs)

    result = retrain([], model_dir=tmp_path, now=NOW, fit=mislabelled_fit)
    assert not result.accepted and result.new_accuracy < result.old_accuracy
    assert "refused" in result.summary() and result.old_model == "category.json.gz"
    assert store.versions(tmp_path, "category") == []
    assert store.load("category", tmp_path)[1] == store.shipped_path("category")


def test_the_previous_model_is_kept_next_to_the_new_one(tmp_path):
    first = retrain(facilities_desk()[:30], model_dir=tmp_path, now=NOW, fit=fit)
    second = retrain(facilities_desk(), model_dir=tmp_path, now=NOW.replace(hour=22), fit=fit)
    assert first.accepted and second.accepted
    assert [p.name for p in store.versions(tmp_path, "category")] == [
        "category-20261206T210000Z.json.gz", "category-20261206T220000Z.json.gz"]
    assert store.load("category", tmp_path)[1].name == "category-20261206T220000Z.json.gz"


def test_an_unreadable_newest_model_is_skipped(tmp_path, caplog):
    good = fit([e for e in facilities_desk()] + _seed_sample(), kind="category")
    good.save(store.version_path(tmp_path, "category", NOW))
    (tmp_path / "category-20270101T000000Z.json.gz").write_bytes(b"not gzip")
    model, path = store.load("category", tmp_path)
    assert path.name == "category-20261206T210000Z.json.gz"
    assert "unreadable" in caplog.text


def _seed_sample() -> list[Example]:
    from gateway.triage.seed import seed_mails

    return [e for e in seed_mails() if e.label != "misc"][::4]

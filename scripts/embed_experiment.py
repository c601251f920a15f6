"""Experiment (issue 18): does wordllama's shipped static embedding help triage, alone or beside the tf-idf blocks?

    .venv/bin/python scripts/embed_experiment.py category [--variants NAME ...] [--test]
    .venv/bin/python scripts/embed_experiment.py emergency [--variants NAME ...]
    .venv/bin/python scripts/embed_experiment.py cost

Needs the train extra and `pip install wordllama` (MIT; not a dependency of the project). Only its two data
files are read, weights/l2_supercat_256.safetensors and tokenizers/l2_supercat_tokenizer_config.json, with
safetensors and tokenizers: WordLlama.load() looks for the tokenizer under "tokenizer/" where the wheel has
"tokenizers/", so without a cached copy it downloads one from the hub (and importing wordllama calls
logging.basicConfig). A mail's embedding is the mean of its tokens' vectors (wordllama's embed()), of
mail_text(subject, body), l2-normalised, then scaled by the block's weight.

Every choice is made by the grouped cross-validation of scripts/cv_triage.py on training data only:
category: seed train + NLBSE'24 train at NLBSE weight 0.1, tf-idf fitted once, one LinearSVC per fold
(help-desk accuracy, NLBSE train macro-F1). --test also fits each variant on all of that and scores the
NLBSE'24 test split (pooled and per-repository macro-F1): for the report, not for choosing.
emergency: per fold a model fitted the shipped way (temperature from out-of-fold scores), then the whole
priority decision (gateway.triage.decide.prioritise) and the model alone on the held fold.
cost: CPU per mail of the embedding (NLBSE issues and help-desk mails, one at a time as serving would),
load time and resident memory.
Never reads tests/data.

Result, 2026-12-07 (shipped-10 recipe; CV = 5 group folds on training data; the NLBSE test split scored once,
for the report, of the variants already chosen by CV): no variant helps enough to ship (the bar was NLBSE test
+0.02, or a third fewer emergency false alarms at equal recall), so wordllama is not a dependency.

    variant (NLBSE weight 0.1)     help-desk CV  NLBSE CV  NLBSE test   emergency CV at 0.5, whole / model alone
    tf-idf (shipped)                  0.895       0.762    0.778/0.777   464/491, 68/1459 false / 401, 62
    embedding alone, C 2              0.675       0.515    0.549/0.547   420, 284 false / 346, 320
    standardised embedding, C 0.1     0.712       0.506        -         435, 286 / 367, 333
    tf-idf + embedding 0.5            0.903       0.768    0.781/0.780   465, 68 / 404, 60
    tf-idf + embedding 1              0.893       0.752        -         462, 63 / 401, 56
    tf-idf + embedding 2              0.855       0.730        -         457, 77 / 394, 70
    tf-idf + standardised 0.5         0.902       0.768        -         465, 66 / 406, 58
    tf-idf + standardised 1           0.889       0.747        -         460, 64 / 403, 59
At NLBSE weight 1 the embedding alone reaches NLBSE CV 0.600 (tf-idf 0.764, tf-idf + embedding 0.5 0.758).
Differences of 0.01 are within the folds' noise. Cost (`cost`): 310-370 us CPU per NLBSE issue (about 240 of
it the Llama-2 tokenizer), 45-60 us per help-desk mail, against about 2.4 ms per NLBSE issue for today's whole
triage (416 issues/s); importing numpy, tokenizers and safetensors about 105 ms CPU and loading the two files
70-120 ms; resident memory 72 -> 131 MB; installed, wordllama 33 MB plus tokenizers 12 MB, huggingface-hub
8 MB, hf-xet 11 MB and numpy 73 MB, none of which serving imports today.
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import resource
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import numpy as np  # noqa: E402

import cv_triage  # noqa: E402
from gateway.config import PriorityConfig  # noqa: E402
from gateway.triage import train  # noqa: E402
from gateway.triage.decide import prioritise  # noqa: E402
from gateway.triage.features import Vectorizer, mail_text  # noqa: E402
from gateway.triage.linear import LinearModel  # noqa: E402
from gateway.triage.seed import SEED_DIR, read_nlbse  # noqa: E402

NLBSE = REPO.parent / "shared" / "data" / "nlbse24"


class Embedder:
    """Mean of the token vectors of wordllama's l2_supercat_256, read from the installed wheel's own files."""

    def __init__(self) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        spec = importlib.util.find_spec("wordllama")
        if spec is None or spec.origin is None:
            raise SystemExit("this experiment needs wordllama: .venv/bin/pip install wordllama")
        root = Path(spec.origin).parent
        self.table = load_file(root / "weights" / "l2_supercat_256.safetensors")["embedding.weight"].astype(np.float32)
        self.tokenizer = Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()

    def one(self, text: str) -> np.ndarray:
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids
        if not ids:
            return np.zeros(self.table.shape[1], dtype=np.float32)
        vector = self.table[ids].mean(axis=0)
        length = float(np.linalg.norm(vector))
        return vector / length if length else vector

    def many(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.one(t) for t in texts]) if texts else np.zeros((0, self.table.shape[1]))


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    return Embedder()


@lru_cache(maxsize=200_000)
def embedded(text: str) -> np.ndarray:
    return embedder().one(text)


def dense(examples) -> np.ndarray:
    return np.vstack([embedded(mail_text(e.subject, e.body)) for e in examples])


class Scaling:
    """Per-dimension centring and scaling of the embeddings, fitted on the training rows (or none): mean token
    vectors share one large common direction, which a linear SVM with an l2 penalty reads poorly. Divided by
    sqrt(dims) so the block's length is about 1, as a tf-idf block's is."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self.mean = np.zeros(256)
        self.scale = np.ones(256)

    def fit(self, vectors: np.ndarray) -> None:
        if self.on:
            self.mean = vectors.mean(axis=0)
            self.scale = (vectors.std(axis=0) + 1e-6) * math.sqrt(vectors.shape[1])

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        return (vectors - self.mean) / self.scale


# Variants: name -> (tf-idf blocks on?, dense weight (0 = no dense block), C, standardised?)
VARIANTS = {
    "tfidf (shipped)": (True, 0.0, train.C, False),
    "embedding alone, C 2": (False, 1.0, train.C, False),
    "embedding alone, C 16": (False, 1.0, 16.0, False),
    "tfidf + embedding 0.5": (True, 0.5, train.C, False),
    "tfidf + embedding 1": (True, 1.0, train.C, False),
    "tfidf + embedding 2": (True, 2.0, train.C, False),
    "standardised embedding alone, C 2": (False, 1.0, train.C, True),
    "standardised embedding alone, C 0.1": (False, 1.0, 0.1, True),
    "tfidf + standardised embedding 0.5": (True, 0.5, train.C, True),
    "tfidf + standardised embedding 1": (True, 1.0, train.C, True),
}


def matrix(blocks, examples, weight: float, scaling: Scaling, *, tfidf: bool, fit: bool = False):
    from scipy.sparse import csr_matrix, hstack

    parts = [train.sklearn_matrix(blocks, examples, fit=fit)] if tfidf else []
    if weight:
        vectors = dense(examples)
        if fit:
            scaling.fit(vectors)
        parts.append(csr_matrix(scaling(vectors) * weight))
    return hstack(parts).tocsr()


def vectorizers(blocks):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return [(spec, TfidfVectorizer(sublinear_tf=True, analyzer=spec[1], ngram_range=spec[2], min_df=train.MIN_DF,
                                   dtype=np.float64)) for spec in blocks]


def category(args) -> None:
    from sklearn.metrics import f1_score
    from sklearn.svm import LinearSVC

    rows = cv_triage.grouped(SEED_DIR / "mails.csv", label="category", labels=("bug", "change", "misc"),
                             keep=lambda e: e.split == "train")
    fold = cv_triage.folds_of(rows, args.folds)
    seed = [e for _, e in rows]
    nlbse = read_nlbse(args.nlbse, "train")
    everything = seed + nlbse
    labels = np.asarray([e.label for e in everything])
    sample_weight = np.asarray([1.0] * len(seed) + [args.nlbse_weight] * len(nlbse))
    fold_all = np.asarray(fold + [i % args.folds for i in range(len(nlbse))])
    test = read_nlbse(args.nlbse, "test") if args.test else []
    for name, (tfidf, weight, c, standardised) in VARIANTS.items():
        if args.variants and name not in args.variants:
            continue
        blocks = vectorizers(train.CATEGORY_BLOCKS)
        scaling = Scaling(standardised)
        X = matrix(blocks, everything, weight, scaling, tfidf=tfidf, fit=True)
        right, issues, issue_labels = 0, [], []
        for k in range(args.folds):
            trained, held = fold_all != k, fold_all == k
            clf = LinearSVC(C=c, class_weight="balanced", random_state=0)
            clf.fit(X[trained], labels[trained], sample_weight=sample_weight[trained])
            predicted = clf.predict(X[held])
            n_seed = int(held[:len(seed)].sum())
            right += int((predicted[:n_seed] == labels[:len(seed)][held[:len(seed)]]).sum())
            issues += list(predicted[n_seed:])
            issue_labels += list(labels[len(seed):][held[len(seed):]])
        line = (f"{name}: help-desk accuracy {right / len(seed):.3f} of {len(seed)}, "
                f"NLBSE train CV macro-F1 {f1_score(issue_labels, issues, average='macro'):.3f}")
        if test:
            clf = LinearSVC(C=c, class_weight="balanced", random_state=0)
            clf.fit(X, labels, sample_weight=sample_weight)
            predicted = clf.predict(matrix(blocks, test, weight, scaling, tfidf=tfidf))
            truth = [e.label for e in test]
            repos = sorted({e.source for e in test})
            per_repo = [f1_score([t for t, e in zip(truth, test) if e.source == r],
                                 [p for p, e in zip(predicted, test) if e.source == r], average="macro") for r in repos]
            line += (f"; NLBSE TEST macro-F1 pooled {f1_score(truth, predicted, average='macro'):.3f}, "
                     f"per-repo {sum(per_repo) / len(per_repo):.3f}")
        print(line, flush=True)


@dataclass(frozen=True)
class WithEmbedding:
    """The emergency model with a dense block: the tf-idf part's scores (LinearModel) plus the embedding's."""

    base: LinearModel | None
    dense_coef: np.ndarray  # the embedding block's coefficients, already times its weight and over its scaling
    intercept: float  # with the scaling's centring folded in
    temperature: float

    def predict(self, subject: str, body: str, *, explain: int = 3):
        from gateway.triage.linear import Prediction

        score = self.base.scores(subject, body)[0] if self.base else self.intercept
        score += float(embedded(mail_text(subject, body)) @ self.dense_coef)
        p = 1.0 / (1.0 + math.exp(-max(min(score / self.temperature, 500.0), -500.0)))
        return Prediction(label="1" if p >= 0.5 else "0", confidence=max(p, 1 - p),
                          probabilities={"0": 1 - p, "1": p}, words=())

    def explain(self, subject: str, body: str, label: str, *, top: int = 3):
        return self.base.explain(subject, body, label, top=top) if self.base else ()


def fit_emergency(examples, tfidf: bool, weight: float, c: float, standardised: bool) -> WithEmbedding | LinearModel:
    """train.fit's recipe for the emergency model, with the embedding block beside (or instead of) tf-idf."""
    from sklearn.model_selection import cross_val_predict
    from sklearn.svm import LinearSVC

    if tfidf and not weight and c == train.C:
        return train.fit(examples, kind="emergency")
    blocks = vectorizers(train.EMERGENCY_BLOCKS)
    scaling = Scaling(standardised)
    X = matrix(blocks, examples, weight, scaling, tfidf=tfidf, fit=True)
    labels = [e.label for e in examples]
    scores = cross_val_predict(LinearSVC(C=c, class_weight="balanced", random_state=0), X, labels, cv=5,
                               method="decision_function")
    # the shipped calibration, reused as it is: one temperature on out-of-fold scores
    temperature = train._temperature(np.asarray(scores), [("0", "1").index(label) for label in labels])
    clf = LinearSVC(C=c, class_weight="balanced", random_state=0).fit(X, labels)
    coef = clf.coef_[0]
    # the scaling folded into the dense coefficients: w . (x - m) / s = (w / s) . x - (w / s) . m
    dense_coef = coef[X.shape[1] - 256:] * weight / scaling.scale if weight else np.zeros(256)
    intercept = float(clf.intercept_[0]) - float(dense_coef @ scaling.mean)
    base = None
    if tfidf:
        n = X.shape[1] - (256 if weight else 0)
        base = LinearModel(
            kind="emergency", classes=("0", "1"),
            blocks=tuple(Vectorizer(analyzer=v.analyzer, low=v.ngram_range[0], high=v.ngram_range[1],
                                    vocabulary={str(k): int(i) for k, i in v.vocabulary_.items()},
                                    idf=tuple(float(x) for x in v.idf_), field=field, weight=w)
                         for (field, _, _, w), v in blocks),
            coef=(tuple(float(x) for x in coef[:n]),), intercept=(intercept,), temperature=temperature)
    return WithEmbedding(base, dense_coef, intercept, temperature)


def emergency(args) -> None:
    rows = cv_triage.emergency_rows()
    fold = cv_triage.folds_of(rows, args.folds)
    real = sum(e.label == "1" for _, e in rows)
    calm = len(rows) - real
    for name, (tfidf, weight, c, standardised) in VARIANTS.items():
        if args.variants and name not in args.variants:
            continue
        found = {t: [0, 0] for t in cv_triage.GRID}
        alone = {t: [0, 0] for t in cv_triage.GRID}
        for k in range(args.folds):
            model = fit_emergency([e for (_, e), f in zip(rows, fold) if f != k], tfidf, weight, c, standardised)
            for (_, e), f in zip(rows, fold):
                if f != k:
                    continue
                p = model.predict(e.subject, e.body, explain=0).probabilities["1"]
                for t in cv_triage.GRID:
                    said = prioritise(e.subject, e.body, config=PriorityConfig(emergency_at=t),
                                      model=model)[0].value == "urgent"
                    found[t][e.label == "0"] += said
                    alone[t][e.label == "0"] += p >= t
        print(f"{name} ({len(rows)} mails, {real} emergencies, {calm} calm, {args.folds} group folds):")
        for t in cv_triage.GRID:
            print(f"  emergency_at {t:.2f}: model alone found {alone[t][0]}/{real}, false {alone[t][1]}/{calm}; "
                  f"whole decision found {found[t][0]}/{real}, false {found[t][1]}/{calm}", flush=True)


def cost(args) -> None:
    from gateway.triage.seed import seed_mails

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    e = embedder()
    loaded = time.process_time() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"load (safetensors + tokenizers, numpy already imported): {loaded * 1000:.0f} ms CPU, "
          f"peak resident memory +{(after - before) / 1024:.0f} MB")
    for what, examples in (("NLBSE test issues", read_nlbse(args.nlbse, "test")), ("help-desk seed mails", seed_mails())):
        texts = [mail_text(x.subject, x.body) for x in examples]
        for text in texts[:50]:
            e.one(text)
        for rounds in range(3):  # three passes: the figures are noisy on a shared machine
            started = time.process_time()
            for text in texts:
                e.one(text)
            per = (time.process_time() - started) / len(texts)
            started = time.process_time()
            for text in texts:
                e.tokenizer.encode(text, add_special_tokens=False)
            tokens = (time.process_time() - started) / len(texts)
            print(f"{what}: embedding {per * 1e6:.0f} us CPU a mail (of which tokenizing {tokens * 1e6:.0f} us), "
                  f"{len(texts)} mails, pass {rounds + 1}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("category", "emergency", "cost"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--variants", nargs="*", help="variants by name (default: all)")
    parser.add_argument("--nlbse", type=Path, default=NLBSE)
    parser.add_argument("--nlbse-weight", type=float, default=train.NLBSE_WEIGHT)
    parser.add_argument("--test", action="store_true", help="category: also score the NLBSE'24 test split")
    args = parser.parse_args(argv)
    {"category": category, "emergency": emergency, "cost": cost}[args.what](args)


if __name__ == "__main__":
    main()

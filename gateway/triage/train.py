"""Fit a LinearModel with scikit-learn (only here: serving needs no scikit-learn)."""
from __future__ import annotations

import math
from typing import Sequence

from gateway.errors import GatewayError
from gateway.triage.features import Vectorizer, mail_text
from gateway.triage.linear import LinearModel
from gateway.triage.seed import Example

# Word unigrams carry the readable evidence; char_wb 2-4-grams catch inflections and compounds in
# German and French without a language switch. A linear SVM fits in milliseconds here (logistic
# regression's solvers took seconds for no better accuracy); its scores are calibrated afterwards by
# one temperature fitted on out-of-fold scores. C chosen on the seed set's held-out part.
WORD_RANGE = (1, 1)
CHAR_RANGE = (2, 4)
C = 1.0


def _sklearn():
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.model_selection import cross_val_predict
        from sklearn.svm import LinearSVC
    except ImportError:
        raise GatewayError("training a classifier needs scikit-learn; install it with "
                           "pip install 'support-gateway[train]'") from None
    return TfidfVectorizer, LinearSVC, cross_val_predict


def fit_sklearn(texts: Sequence[str], labels: Sequence[str]):
    """The fitted scikit-learn parts: (vectorizers, classifier, temperature)."""
    TfidfVectorizer, LinearSVC, cross_val_predict = _sklearn()
    import numpy as np
    from scipy.sparse import hstack

    vectorizers = [TfidfVectorizer(sublinear_tf=True, ngram_range=WORD_RANGE, dtype=np.float64),
                   TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=CHAR_RANGE,
                                   dtype=np.float64)]
    X = hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
    classes = sorted(set(labels))
    folds = min(5, min(list(labels).count(label) for label in classes))
    temperature = 1.0
    if folds >= 2:
        scores = cross_val_predict(LinearSVC(C=C, class_weight="balanced", random_state=0), X, labels, cv=folds,
                                   method="decision_function")
        temperature = _temperature(np.asarray(scores), [classes.index(label) for label in labels])
    clf = LinearSVC(C=C, class_weight="balanced", random_state=0)  # emergencies are rare: weigh them up
    clf.fit(X, labels)
    return vectorizers, clf, temperature


def fit(examples: Sequence[Example], *, kind: str, meta: dict | None = None) -> LinearModel:
    """Train on `examples` (every split given is used): tf-idf blocks, linear SVM, temperature."""
    labels = [e.label for e in examples]
    if len(set(labels)) < 2:
        raise GatewayError(f"cannot train the {kind} model: the examples have only the label(s) {sorted(set(labels))}")
    vectorizers, clf, temperature = fit_sklearn([mail_text(e.subject, e.body) for e in examples], labels)
    blocks = tuple(Vectorizer(analyzer=v.analyzer, low=v.ngram_range[0], high=v.ngram_range[1],
                              vocabulary={str(k): int(i) for k, i in v.vocabulary_.items()},
                              idf=tuple(float(x) for x in v.idf_)) for v in vectorizers)
    return LinearModel(kind=kind, classes=tuple(str(c) for c in clf.classes_), blocks=blocks,
                       coef=tuple(tuple(float(x) for x in row) for row in clf.coef_),
                       intercept=tuple(float(x) for x in clf.intercept_), temperature=temperature,
                       meta=dict(meta or {}, examples=len(examples)))


def _temperature(scores, targets: list[int]) -> float:
    """The T in softmax(score / T) with the least log-loss on out-of-fold scores (a coarse grid is enough)."""
    def loss(t: float) -> float:
        total = 0.0
        for row, target in zip(scores, targets):
            row = [0.0, float(row)] if getattr(row, "ndim", 1) == 0 else [float(s) for s in row]
            top = max(r / t for r in row)
            log_sum = top + math.log(sum(math.exp(r / t - top) for r in row))
            total += log_sum - row[target] / t
        return total / len(targets)
    grid = [0.05 * 1.25 ** i for i in range(30)]
    return min(grid, key=loss)

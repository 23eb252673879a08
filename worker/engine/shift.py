"""Per-example importance weights for covariate shift, estimated from an unlabelled target sample.

A probabilistic domain classifier tells source (training) examples from target ones; by Bayes'
rule its odds give the density ratio w(x) = p_target(x) / p_source(x) = (n_s / n_t) P(t|x) / P(s|x).
Logistic regression is the default (a log-linear ratio, the classic choice), Platt-calibrated on
held-out folds so that its probabilities, and so the ratio, are not over-confident.
"""

from __future__ import annotations

import numpy as np

from .table import TableError

P_FLOOR = 1e-6  # P(t|x) is kept in [floor, 1 - floor], so no ratio is 0 or infinite


def density_ratio(x_source: np.ndarray, x_target: np.ndarray) -> np.ndarray:
    """w(x) for each source example (deterministic: lbfgs and unshuffled stratified folds)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    n_s, n_t = len(x_source), len(x_target)
    folds = min(5, n_s, n_t)
    if folds < 2:
        raise TableError("target_path", f"estimating weights needs at least 2 source and 2 target examples (have {n_s} and {n_t})")
    domain = np.concatenate([np.zeros(n_s), np.ones(n_t)])
    classifier = CalibratedClassifierCV(LogisticRegression(max_iter=1000), method="sigmoid", cv=folds)
    classifier.fit(np.concatenate([x_source, x_target]), domain)
    p_target = classifier.predict_proba(x_source)[:, 1].clip(P_FLOOR, 1 - P_FLOOR)
    return (n_s / n_t) * p_target / (1 - p_target)


def finish(w: np.ndarray, clip: float | None, normalise: bool) -> np.ndarray:
    """Self-normalise (mean 1 over the training set), then clip each weight at `clip`."""
    if normalise:
        w = w / w.mean()
    return np.minimum(w, clip) if clip is not None else w


def effective_sample_size(w) -> float:
    """(sum w)^2 / sum w^2 (Kish): how many equally weighted examples the weighted ones are worth."""
    w = np.asarray(w, dtype=np.float64)
    return float(w.sum() ** 2 / (w**2).sum())

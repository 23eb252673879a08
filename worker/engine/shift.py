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
        raise TableError(
            "target_path", f"estimating weights needs at least 2 source and 2 target examples (have {n_s} and {n_t})"
        )
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


# --- a covariate-shift problem with a known density ratio (Shimodaira 2000, in 2-D) --------------
# Labels: above or below the parabola x2 = x1^2 / 2 - 1, the same rule in both domains (only p(x)
# shifts). Source x ~ N(0, I); target x ~ N(TARGET_MEAN, TARGET_SD^2 I), where the parabola is steep:
# a linear model fit to the source is wrong there, and weighting by p_t / p_s moves it to the target.
TARGET_MEAN = np.array([1.5, 0.0])
TARGET_SD = 0.6


def parabola_labels(x: np.ndarray) -> np.ndarray:
    return (x[:, 1] > x[:, 0] ** 2 / 2 - 1).astype(np.int64)


def true_ratio(x: np.ndarray) -> np.ndarray:
    """p_target(x) / p_source(x) of the two Gaussians (bounded, since the target is narrower)."""
    log_t = -((x - TARGET_MEAN) ** 2).sum(1) / (2 * TARGET_SD**2) - 2 * np.log(TARGET_SD)
    log_s = -(x**2).sum(1) / 2
    return np.exp(log_t - log_s)


def shifted_2d(n_train: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
    """Source training and test sets, a labelled target test set, and an unlabelled target sample
    (what the estimated weights learn from), all seeded by `seed`."""
    rng = np.random.default_rng([seed, 9])
    source = lambda n: rng.normal(0.0, 1.0, (n, 2))  # noqa: E731
    target = lambda n: rng.normal(TARGET_MEAN, TARGET_SD, (n, 2))  # noqa: E731
    x_train, x_test, x_target, x_unlabelled = source(n_train), source(n_test), target(n_test), target(n_train)
    return {
        "x_train": x_train, "y_train": parabola_labels(x_train), "w_given": true_ratio(x_train),
        "x_test": x_test, "y_test": parabola_labels(x_test), "x_target": x_target, "y_target": parabola_labels(x_target),
        "x_unlabelled": x_unlabelled,
    }  # fmt: skip

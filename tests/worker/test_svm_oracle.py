"""scikit-learn as an oracle for the hand-written hard-margin SVM (worker/engine/geometry.py):
on separable sets, libsvm's linear SVC with a huge C is the free-bias SVM, and liblinear's dual
LinearSVC (hinge loss, the intercept regularised as a weight on a constant feature) is the
augmented one. Directions, offsets and margins must agree."""

import numpy as np
import pytest
import torch
from sklearn.svm import SVC, LinearSVC

from worker.engine.geometry import max_margin_direction

# an oracle that has not converged is no oracle
pytestmark = pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")

# Hard margin: large enough that no point on separable data is worth its slack (every dual
# variable stays below C). liblinear converges slowly as C grows, so it gets the smaller one.
C = 1e8
C_LINEAR = 1e4


def blobs(seed: int, n: int, centre_pos, centre_neg, sd: float, dim: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pos = rng.normal(centre_pos, sd, size=(n, dim))
    neg = rng.normal(centre_neg, sd, size=(n, dim))
    return np.vstack([pos, neg]), np.r_[np.ones(n, int), np.zeros(n, int)]


def unbalanced() -> tuple[np.ndarray, np.ndarray]:
    # 3 positives against 40 negatives, the boundary tilted: the imbalance the lab is about
    x, y = blobs(3, 40, [2.0, 2.0], [-1.0, 0.5], 0.6)
    keep = np.r_[np.arange(3), np.arange(40, 80)]
    return x[keep], y[keep]


SETS = {
    "close blobs": blobs(1, 30, [0.0, 1.5], [1.5, 0.0], 0.4),
    "far from the origin": blobs(2, 25, [20.0, 21.0], [22.0, 19.0], 0.3),
    "unbalanced, tilted": unbalanced(),
    "five dimensions": blobs(4, 20, [1.0] * 5, [-1.0] * 5, 0.5, dim=5),
}


def separable(x: np.ndarray, y: np.ndarray) -> None:
    # the oracles are only right on separable data: check it before comparing
    svc = SVC(kernel="linear", C=C, tol=1e-10).fit(x, y)
    assert (svc.predict(x) == y).all(), "test set is not separable"


def ours(x: np.ndarray, y: np.ndarray, bias: str) -> tuple[np.ndarray, float]:
    w, b = max_margin_direction(torch.from_numpy(x), torch.from_numpy(y), bias=bias)
    return w.numpy(), b.item()


def unit(coef: np.ndarray, intercept: float) -> tuple[np.ndarray, float]:
    norm = np.linalg.norm(coef)
    return coef / norm, float(intercept / norm)


@pytest.mark.parametrize("name", list(SETS))
def test_free_bias_matches_libsvm(name):
    x, y = SETS[name]
    separable(x, y)
    svc = SVC(kernel="linear", C=C, tol=1e-10).fit(x, y)
    u_ref, b_ref = unit(svc.coef_[0], svc.intercept_[0])
    u, b = ours(x, y, "free")
    assert float(u @ u_ref) == pytest.approx(1.0, abs=1e-8)  # the same direction
    assert b == pytest.approx(b_ref, abs=1e-4)
    s = 2 * y - 1
    # the same margin: libsvm's is 1 / ||w|| at the optimum; ours is the distance of the closest point
    assert (s * (x @ u + b)).min() == pytest.approx(1 / np.linalg.norm(svc.coef_[0]), rel=1e-4)


@pytest.mark.parametrize("name", list(SETS))
def test_augmented_bias_matches_liblinear(name):
    x, y = SETS[name]
    separable(x, y)
    lin = LinearSVC(loss="hinge", dual=True, C=C_LINEAR, tol=1e-9, max_iter=1_000_000, intercept_scaling=1.0).fit(x, y)
    u_ref, b_ref = unit(lin.coef_[0], lin.intercept_[0])
    u, b = ours(x, y, "augmented")
    assert float(u @ u_ref) == pytest.approx(1.0, abs=1e-6)
    assert b == pytest.approx(b_ref, abs=1e-3 * max(1.0, abs(b_ref)))


def test_far_from_the_origin_the_two_biases_differ():
    # the reason both exist: with data far from the origin, penalising the bias tilts the boundary
    x, y = SETS["far from the origin"]
    u_free, _ = ours(x, y, "free")
    u_aug, _ = ours(x, y, "augmented")
    assert float(u_free @ u_aug) < 1 - 1e-3

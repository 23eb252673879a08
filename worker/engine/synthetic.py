"""2-D binary data sets (label 1 = positive class): separable blobs, Wang et al.'s Gaussians, moons."""

from __future__ import annotations

import numpy as np

from .spec import RunSpec

BLOB_RADIUS = 1.3  # truncating both blobs here keeps them separable with a small gap (docs/science.md)
WANG_RADIUS = 5.0
# (negative centre, positive centre) of the two Gaussians
CENTRES = {"blobs": ((2.0, 0.0), (0.0, 2.0)), "wang_gaussians": ((5.0, 0.0), (0.0, 5.0))}


def _truncated_normal(rng: np.random.Generator, n: int, centre, sd: float, radius: float) -> np.ndarray:
    out = np.empty((0, 2))
    while len(out) < n:
        draw = rng.normal(centre, sd, size=(2 * n + 8, 2))
        out = np.concatenate([out, draw[np.linalg.norm(draw - centre, axis=1) <= radius]])
    return out[:n]


def _moon(rng: np.random.Generator, n: int, positive: bool, noise: float) -> np.ndarray:
    t = rng.uniform(0, np.pi, n)
    pts = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1) if positive else np.stack([np.cos(t), np.sin(t)], 1)
    return pts + rng.normal(0, 0.1 * noise, (n, 2))


def _sample(rng: np.random.Generator, spec: RunSpec, n_pos: int, n_neg: int) -> tuple[np.ndarray, np.ndarray]:
    if spec.dataset == "blobs":
        neg_c, pos_c = np.array(CENTRES["blobs"])
        pos = _truncated_normal(rng, n_pos, pos_c, spec.noise, BLOB_RADIUS)
        neg = _truncated_normal(rng, n_neg, neg_c, spec.noise, BLOB_RADIUS)
    elif spec.dataset == "wang_gaussians":
        # Wang et al. 2022: minority at (0, 5), majority at (5, 0), truncated to radius 5; true boundary x2 = x1
        neg_c, pos_c = np.array(CENTRES["wang_gaussians"])
        pos = _truncated_normal(rng, n_pos, pos_c, spec.noise, WANG_RADIUS)
        neg = _truncated_normal(rng, n_neg, neg_c, spec.noise, WANG_RADIUS)
    else:
        pos, neg = _moon(rng, n_pos, True, spec.noise), _moon(rng, n_neg, False, spec.noise)
    x = np.concatenate([pos, neg])
    y = np.concatenate([np.ones(n_pos), np.zeros(n_neg)])
    return x, y


def make_2d(spec: RunSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train and balanced test points; the same `data_seed` always gives the same points."""
    train_rng, test_rng = (np.random.default_rng([spec.data_seed, stream]) for stream in (0, 1))
    n_pos = max(2, spec.n_train // 10) if spec.dataset == "wang_gaussians" else spec.n_train
    x_tr, y_tr = _sample(train_rng, spec, n_pos, spec.n_train)
    x_te, y_te = _sample(test_rng, spec, spec.n_test, spec.n_test)
    return x_tr, y_tr, x_te, y_te


# spurious: in training each class's spurious feature agrees with its label this share of the time
SPURIOUS_AGREE = 0.9
CORE_RADIUS = 0.9  # the core feature is truncated to its class's side of 0: it alone separates the classes
CORE_SD, SPURIOUS_SD, SPURIOUS_SHIFT = 0.5, 0.5, 2.0


def _truncated_1d(rng: np.random.Generator, n: int, sd: float, radius: float) -> np.ndarray:
    out = np.empty(0)
    while len(out) < n:
        draw = rng.normal(0.0, sd, 2 * n + 8)
        out = np.concatenate([out, draw[np.abs(draw) <= radius]])
    return out[:n]


def make_spurious(spec: RunSpec) -> tuple[np.ndarray, ...]:
    """Sagawa et al.'s setting in two features: x0 (core) = +-1 by the label plus a truncated normal,
    so it alone separates the classes; x1 (spurious) = +-SPURIOUS_SHIFT by an attribute plus a
    normal, larger and so learnt first. In training the attribute agrees with the label in
    SPURIOUS_AGREE of each class's n_train examples (minority groups: the rest); in the test split
    each of the four groups has n_test / 2 examples. Returns x_tr, y_tr, agree_tr, x_te, y_te, agree_te."""
    out: list[np.ndarray] = []
    for stream, n, agree_share in ((10, spec.n_train, SPURIOUS_AGREE), (11, spec.n_test, 0.5)):
        rng = np.random.default_rng([spec.data_seed, stream])
        n_agree = min(n - 1, max(1, round(agree_share * n))) if n > 1 else n
        xs, ys, agrees = [], [], []
        for label in (0, 1):
            sign = 2.0 * label - 1.0
            agree = np.arange(n) < n_agree
            core = sign * (1.0 + _truncated_1d(rng, n, CORE_SD, CORE_RADIUS))
            spurious = np.where(agree, sign, -sign) * SPURIOUS_SHIFT + rng.normal(0.0, SPURIOUS_SD, n)
            xs.append(np.stack([core, spurious], 1))
            ys.append(np.full(n, label))
            agrees.append(agree)
        out += [np.concatenate(xs), np.concatenate(ys), np.concatenate(agrees)]
    return tuple(out)

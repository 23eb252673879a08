"""References for what a weight w is meant to do, which do not collapse once a model fits its data.

Adding log w to the positive logit of the *trained* unweighted model (`metrics.intended_frac_pos`)
changes nothing once that model interpolates: its margins grow without bound (digits 1 vs 7 at the
end: intended 0.500 = realised 0.500 for w = 10). Two references that survive:

- **Bayes** (`bayes_frac_pos@w`, the synthetic 2-D sets, whose densities are known): the weighted
  Bayes decision, predict positive iff w P(y=1 | x) > P(y=0 | x), with P the training distribution
  (its class sizes, and its label noise: P~(1 | x) = rho + (1 - 2 rho) P(1 | x)). Exact for the
  truncated Gaussians (the truncation constants are equal and cancel); for moons the arc is
  integrated by a 2,048-point midpoint rule. The test split's fraction predicted positive under it.
  It uses the nominal weight, the one the user asked for (see docs/readouts.md for the effective one).
- **Calibrated** (`calibrated_frac_pos@w`, data without known densities): the unweighted model's
  logits divided by a temperature T fitted on held-out labelled data (the test split: one scalar,
  fitted by maximum likelihood, blind to the weights), then log w added. Where the model classifies
  every held-out point correctly no finite T exists (the likelihood keeps rising as T -> 0) and the
  readout is left out at that epoch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp

from .spec import RunSpec
from .synthetic import BLOB_RADIUS, CENTRES, WANG_RADIUS

ARC_POINTS = 2048


def _log_density(spec: RunSpec, x: np.ndarray, positive: bool) -> np.ndarray:
    """log p(x | class) up to a constant shared by both classes."""
    if spec.dataset in CENTRES:
        centre = np.array(CENTRES[spec.dataset][1 if positive else 0])
        radius = BLOB_RADIUS if spec.dataset == "blobs" else WANG_RADIUS
        sq = ((x - centre) ** 2).sum(1)
        return np.where(sq <= radius**2, -sq / (2 * spec.noise**2), -np.inf)
    if spec.dataset == "moons":  # synthetic._moon: a point uniform on the arc plus N(0, (0.1 noise)^2)
        t = (np.arange(ARC_POINTS) + 0.5) * math.pi / ARC_POINTS
        arc = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1) if positive else np.stack([np.cos(t), np.sin(t)], 1)
        sd = 0.1 * spec.noise
        sq = ((x[:, None, :] - arc[None]) ** 2).sum(2)
        return logsumexp(-sq / (2 * sd**2), axis=1)
    raise ValueError(f"dataset: no known density for {spec.dataset}")


def class_sizes(spec: RunSpec) -> tuple[int, int]:
    """(n_neg, n_pos) of the training set before label noise, as synthetic.py and data.py draw it."""
    n_neg = spec.n_train
    n_pos = max(2, spec.n_train // 10) if spec.dataset == "wang_gaussians" else spec.n_train
    if spec.imbalance != 1:
        n_pos = min(n_pos, max(1, round(n_neg / spec.imbalance)))
    return n_neg, n_pos


def posterior_pos(spec: RunSpec, x: np.ndarray) -> np.ndarray:
    """P(y = 1 | x) of the training distribution: class densities, class sizes and label noise."""
    n_neg, n_pos = class_sizes(spec)
    with np.errstate(invalid="ignore"):  # a point in neither support: both densities 0
        log_odds = _log_density(spec, x, True) - _log_density(spec, x, False) + math.log(n_pos / n_neg)
    p = np.where(np.isnan(log_odds), 0.5, 1 / (1 + np.exp(-np.clip(log_odds, -700, 700))))
    rho = spec.label_noise
    return rho + (1 - 2 * rho) * p


def bayes_frac_pos(spec: RunSpec, x: torch.Tensor, weights: Sequence[float]) -> dict[str, float]:
    """`bayes_frac_pos@w` for each weight: the share of `x` the weighted Bayes rule predicts positive."""
    p = posterior_pos(spec, x.detach().double().cpu().numpy())
    return {f"bayes_frac_pos@{w:g}": float(np.mean(w * p > 1 - p)) for w in weights}


def has_density(spec: RunSpec) -> bool:
    return spec.dataset in CENTRES or spec.dataset == "moons"


def reference(spec: RunSpec, data, weights: Sequence[float]) -> dict[str, float]:
    """The Bayes reference on synthetic data (it depends on the data only, so a run computes it
    once); {} for data without known densities (their calibrated reference is computed per epoch)."""
    return bayes_frac_pos(spec, data.evals["test"][0], weights) if has_density(spec) else {}


def temperature(logits: torch.Tensor, y: torch.Tensor) -> float | None:
    """The T > 0 that maximises the likelihood of softmax(z / T) on labelled data (fitted in log T,
    bounded to [e^-8, e^8]); None where the model classifies every point correctly (no finite T)."""
    margin = (logits[:, 1] - logits[:, 0]).double().cpu().numpy()
    sign = np.where(y.cpu().numpy() == 1, 1.0, -1.0)
    v = sign * margin
    if (v > 0).all():
        return None

    def nll(log_t: float) -> float:
        return float(np.logaddexp(0.0, -v / math.exp(log_t)).mean())

    return math.exp(minimize_scalar(nll, bounds=(-8.0, 8.0), method="bounded", options={"xatol": 1e-6}).x)


def calibrated_frac_pos(logits: torch.Tensor, y: torch.Tensor, weights: Sequence[float]) -> dict[str, float]:
    """`calibrated_frac_pos@w`: predict positive iff (z_pos - z_neg) / T + log w > 0, T from
    `temperature`; empty where no finite temperature exists."""
    t = temperature(logits, y)
    if t is None:
        return {}
    margin = (logits[:, 1] - logits[:, 0]).double().cpu().numpy() / t
    return {f"calibrated_frac_pos@{w:g}": float(np.mean(margin + math.log(w) > 0)) for w in weights}

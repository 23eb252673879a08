"""Per-example losses for a classifier with K >= 2 logits, and their weighted reduction.

Conventions: `logits` has shape (B, K); for binary data column 0 = negative class, column 1 =
positive class (the class whose weight varies); `y` is int64 in {0, ..., K - 1}; `counts` = the
training examples per class ((n_neg, n_pos) for two), priors pi = counts / counts.sum(). `per_example_loss` is *unweighted*: importance weights
enter only through `reduce_weighted`, so every loss combines with every weighting scheme.

Deferred re-weighting (DRW, Cao et al. 2019) is not a loss: the trainer trains with unit weights
and switches the class weights on at a chosen epoch; it pairs naturally with "ldam".
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

LOSSES = ("ce", "poly", "ldam", "la", "vs")  # names used in specs
NORMS = ("sum", "mean")

# softplus(-1): the logistic part of the poly loss is divided by it so that l(1) = 1 = 1 ** -alpha.
_LOG1P_EXP_M1 = math.log1p(math.exp(-1.0))


def example_weights(y: Tensor, class_weights: Tensor, power: float = 1.0) -> Tensor:
    """w_i = class_weights[y_i] ** power.

    power > 1 gives Wang et al.'s "exponentiated weights" (k in [1, 3]): with a polynomially
    tailed loss, w ** k is what makes the weighting keep its effect at interpolation.
    """
    class_weights = torch.as_tensor(class_weights, device=y.device)
    if not class_weights.is_floating_point():
        class_weights = class_weights.to(torch.get_default_dtype())
    if class_weights.ndim != 1 or len(class_weights) < 2 or bool((class_weights < 0).any()):
        raise ValueError(f"class_weights must be K >= 2 non-negative numbers, got {class_weights.tolist()}")
    return class_weights[y] ** power


def binary_margin(logits: Tensor, y: Tensor) -> Tensor:
    """v_i = z_{y_i} - z_{other}: positive when example i is classified correctly."""
    sign = 2.0 * y.to(logits.dtype) - 1.0
    return (logits[:, 1] - logits[:, 0]) * sign


def multiclass_margin(logits: Tensor, y: Tensor) -> Tensor:
    """v_i = z_{y_i} - max_{c != y_i} z_c, the margin of K classes (for two, `binary_margin`)."""
    true = logits.gather(1, y.unsqueeze(1)).squeeze(1)
    others = logits.scatter(1, y.unsqueeze(1), -torch.inf)
    return true - others.max(1).values


def _poly(v: Tensor, alpha: float) -> Tensor:
    """Polynomially-tailed loss (Wang, Chatterji, Haque, Hashimoto, ICLR 2022, beta = 1).

    l(v) = softplus(-v) / log(1 + e^-1)  for v <= 1  (a rescaled logistic loss)
         = v ** -alpha                    for v > 1   (a polynomial tail, not exponential)
    Continuous at v = 1 (both sides equal 1), but the slope jumps there: -sigmoid(-1)/log(1+e^-1)
    = -0.8585 on the left, -alpha on the right (the authors' code has the same kink).
    Each branch is evaluated on a clamped copy of v so that neither can produce inf/NaN values or
    gradients on the side where it is not used (torch.where still backpropagates through both).
    """
    left = F.softplus(-v.clamp(max=1.0)) / _LOG1P_EXP_M1
    right = v.clamp(min=1.0) ** -alpha
    return torch.where(v <= 1.0, left, right)


def _log_priors(counts: Tensor) -> Tensor:
    return torch.log(counts / counts.sum())


def per_example_loss(
    kind: str,
    logits: Tensor,
    y: Tensor,
    counts: Tensor,
    **params: float,
) -> Tensor:
    """Unweighted loss per example, shape (B,). `params`: the loss's own parameters (a run's
    `RunSpec.loss_params()`; their defaults and limits are the spec's), those below by name.

    ce:   softmax cross-entropy.
    poly: polynomially-tailed loss on the binary margin (see `_poly`), alpha = poly_alpha > 0; for
          K > 2 on the multi-class margin z_y - max_{c != y} z_c.
    ldam: Cao et al. 2019: subtract Delta_y = C / n_y ** 0.25 from the true-class logit (C such
          that the rarer class gets Delta = ldam_max_margin), multiply all logits by ldam_scale, CE.
    la:   Menon et al. 2021 logit adjustment: CE on z_c + la_tau * log pi_c.
    vs:   Kini et al. 2021 vector scaling: CE on Delta_c * z_c + iota_c with
          Delta_c = (n_c / n_max) ** vs_gamma and iota_c = vs_tau * log pi_c.
    All go through log-softmax or clamped softplus/pow, so margins of 1e4 give finite values and
    gradients.
    """
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(f"logits must have shape (B, K >= 2), got {tuple(logits.shape)}")
    k = logits.shape[1]
    if kind not in LOSSES:
        raise ValueError(f"unknown loss {kind!r}; choose from {LOSSES}")
    y = y.long()
    if kind == "ce":
        return F.cross_entropy(logits, y, reduction="none")
    if kind == "poly":
        poly_alpha = params["poly_alpha"]
        if poly_alpha <= 0:
            raise ValueError(f"poly_alpha must be > 0, got {poly_alpha}")
        return _poly(binary_margin(logits, y) if k == 2 else multiclass_margin(logits, y), poly_alpha)

    # The prior-dependent losses need every class present in the training set.
    counts = torch.as_tensor(counts, dtype=logits.dtype, device=logits.device)
    if counts.shape != (k,) or bool((counts <= 0).any()):
        raise ValueError(f"counts must be {k} positive class sizes, got {counts.tolist()}")
    if kind == "ldam":
        deltas = counts**-0.25
        deltas = deltas * (params["ldam_max_margin"] / deltas.max())  # largest margin (rarest class) = max
        shifted = logits - F.one_hot(y, k).to(logits.dtype) * deltas[y].unsqueeze(1)
        return F.cross_entropy(params["ldam_scale"] * shifted, y, reduction="none")
    if kind == "la":
        return F.cross_entropy(logits + params["la_tau"] * _log_priors(counts), y, reduction="none")
    # vs
    scale = (counts / counts.max()) ** params["vs_gamma"]
    return F.cross_entropy(logits * scale + params["vs_tau"] * _log_priors(counts), y, reduction="none")


def reduce_weighted(per_example: Tensor, weights: Tensor, norm: str) -> Tensor:
    """Weighted batch loss.

    "sum":  sum(w * l) / sum(w), PyTorch's `CrossEntropyLoss(weight=...)` convention. Invariant to
            scaling all weights, symmetric in w <-> 1/w and stable for large w: the default for nets.
    "mean": sum(w * l) / B, so the weights also scale the effective step size.
    A "sum" batch whose weights are all 0 gives 0 (no gradient), not 0/0.
    """
    if norm not in NORMS:
        raise ValueError(f"unknown normalisation {norm!r}; choose from {NORMS}")
    weights = weights.to(per_example.dtype)
    total = (weights * per_example).sum()
    if norm == "mean":
        return total / per_example.shape[0]
    return total / weights.sum().clamp_min(torch.finfo(total.dtype).tiny)


def effective_pos_weight(n_pos: int, n_neg: int, batch_size: int, weight: float, norm: str) -> float:
    """The weight a positive example has relative to a negative one in the epoch's objective, in
    expectation over the random batch order: (mean coefficient of a positive example) / (mean
    coefficient of a negative one), where an example's coefficient is what multiplies its loss in
    the sum of the epoch's batch losses.

    "mean": every coefficient is w_i / B, so the ratio is the nominal `weight` exactly.
    "sum":  a batch with k positives among b examples divides by k w + (b - k), so a positive gets
            w / (k w + b - k): batches with more positives are divided by more, and the ratio falls
            below w (balanced data at batch 8: w = 10 acts like ~7.7, w = 256 like ~108; PAPER.md).
            Each batch of a random permutation holds a hypergeometric number of positives, so the
            expectation is an exact finite sum (scipy.stats.hypergeom), per batch size of the epoch.
    `weight` is the applied class weight (w ** weight_power for exponentiated weights)."""
    if norm not in NORMS:
        raise ValueError(f"unknown normalisation {norm!r}; choose from {NORMS}")
    if n_pos < 1 or n_neg < 1 or batch_size < 1 or not weight > 0:
        raise ValueError("effective_pos_weight needs both classes, a batch size >= 1 and a weight > 0")
    if norm == "mean":
        return float(weight)
    import numpy as np
    from scipy.stats import hypergeom

    n = n_pos + n_neg
    full, last = divmod(n, batch_size)
    pos = neg = 0.0
    for b, count in ((batch_size, full), (last, 1 if last else 0)):
        if not count:
            continue
        k = np.arange(b + 1)
        p = hypergeom(n, n_pos, b).pmf(k)
        total = k * weight + (b - k)
        pos += count * float((p * k * weight / total).sum())
        neg += count * float((p * (b - k) / total).sum())
    return (pos / n_pos) / (neg / n_neg)


def class_balanced_weights(counts: Tensor, beta: float) -> Tensor:
    """Cao et al.'s DRW class weights: the inverse of each class's effective number of examples,
    (1 - beta) / (1 - beta ** n_c), normalised to sum to the number of classes K. beta = 0 gives
    equal weights; beta -> 1 inverse class frequencies."""
    counts = torch.as_tensor(counts, dtype=torch.float64)
    if counts.ndim != 1 or len(counts) < 2 or bool((counts <= 0).any()) or not 0 <= beta < 1:
        raise ValueError(
            f"class_balanced_weights needs K >= 2 positive class sizes and 0 <= beta < 1, got {counts.tolist()}, {beta}"
        )
    raw = (1 - beta) / (1 - torch.pow(torch.tensor(beta, dtype=torch.float64), counts))
    return (raw * len(counts) / raw.sum()).float()


def run_class_weights(spec, counts: Tensor, classes: tuple[str, ...] | None = None) -> Tensor:
    """Class weights of a run (spec: a RunSpec) once its weighting is on, one per class of
    `classes` (default spec.classes; K = len(counts)): the class-balanced ones of DRW with
    drw_beta, else spec.class_weights by label (classes not named keep 1) or by its scheme, else
    (1, pos_weight), raised to weight_power."""
    if spec.drw_epoch is not None and spec.drw_beta is not None:
        return class_balanced_weights(counts, spec.drw_beta)
    if spec.class_weights == "inverse_frequency":  # effective_number's beta -> 1 limit: 1 / n_c, summing to K
        inverse = 1 / torch.as_tensor(counts, dtype=torch.float64)
        return (inverse * len(inverse) / inverse.sum()).float() ** spec.weight_power
    if spec.class_weights == "effective_number":
        return class_balanced_weights(counts, spec.class_beta) ** spec.weight_power
    if spec.class_weights:
        names = tuple(spec.classes) if classes is None else classes
        return torch.tensor([float(spec.class_weights.get(c, 1.0)) for c in names]) ** spec.weight_power
    if len(counts) != 2 and spec.pos_weight != 1:
        raise ValueError(f"pos_weight weighs the second of two classes; with {len(counts)} use class_weights")
    return torch.tensor([1.0, spec.pos_weight] + [1.0] * (len(counts) - 2)) ** spec.weight_power


EFFECTIVE_MISSING = "defined for two classes (the weight of the positive class against the negative one)"


def run_effective_pos_weight(spec, counts: tuple[int, ...], classes: tuple[str, ...] | None = None) -> float | None:
    """`effective_pos_weight` of a run (spec: a RunSpec) on training data with `counts` =
    (n_neg, n_pos), once its weighting is on (DRW: from drw_epoch). Resampling draws in proportion
    to the weights and takes the plain batch mean: a positive is drawn w times as often as a
    negative, so the weight acts at its nominal value. None for more than two classes (there is
    no one positive class); `EFFECTIVE_MISSING` says so where it is recorded."""
    if len(counts) != 2:
        return None
    neg_w, pos_w = run_class_weights(spec, torch.tensor(counts, dtype=torch.float64), classes).double().tolist()
    weight = pos_w / neg_w
    n_neg, n_pos = counts
    return effective_pos_weight(n_pos, n_neg, spec.batch_size, weight, "mean" if spec.resample else spec.loss_norm)

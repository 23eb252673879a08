"""Metrics of a binary classifier with 2 logits (column 1 = the positive, re-weighted class).

Everything here is *unweighted*, so runs that differ only in their weights are compared on the
same scale. Per split: `split_metrics`. Per run: `interpolation_epoch`, `param_norm`,
`normalised_margin`, and `intended_frac_pos` (the spread across runs is in outcome.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def predictions(logits: Tensor) -> Tensor:
    """Predicted class: 1 where z_pos > z_neg; a tie goes to the negative class (as argmax does)."""
    return (logits[:, 1] > logits[:, 0]).long()


@torch.no_grad()
def split_metrics(
    logits: Tensor, y: Tensor | None, class_names: tuple[str, str] = ("neg", "pos")
) -> dict[str, float]:
    """Metrics of one evaluation split.

    Always: `frac_pred_<name>` for both classes and `frac_pred_pos` (= fraction predicted as class
    1, whatever the class names; kept for backwards compatibility and as the paper's readout).
    With labels (`y` not None) also: `loss` (mean cross-entropy), `acc`, `balanced_acc` (mean recall
    over the classes present in `y`) and `acc_<name>` (recall) for each class present in `y`.
    Splits without meaningful labels (noise, out-of-domain) should pass y=None.
    """
    if logits.ndim != 2 or logits.shape[1] != 2:
        raise ValueError(f"logits must have shape (B, 2), got {tuple(logits.shape)}")
    if len(class_names) != 2 or class_names[0] == class_names[1] or class_names[0] == "pos":
        # frac_pred_pos means class 1; a class 0 called "pos" would overwrite it.
        raise ValueError(f"class_names must be 2 distinct names, the first not 'pos': {class_names}")
    logits = logits.detach().float()
    pred = predictions(logits)
    n = pred.numel()
    out: dict[str, float] = {}
    for c, name in enumerate(class_names):
        out[f"frac_pred_{name}"] = float((pred == c).sum()) / n if n else math.nan
    out["frac_pred_pos"] = out[f"frac_pred_{class_names[1]}"]
    if y is None:
        return out

    y = y.long()
    correct = (pred == y).float()
    out["loss"] = float(F.cross_entropy(logits, y)) if n else math.nan
    out["acc"] = float(correct.mean()) if n else math.nan
    recalls = []
    for c, name in enumerate(class_names):
        members = y == c
        if members.any():
            out[f"acc_{name}"] = float(correct[members].mean())
            recalls.append(out[f"acc_{name}"])
    out["balanced_acc"] = sum(recalls) / len(recalls) if recalls else math.nan
    return out


def interpolation_epoch(train_accs: Sequence[float], tol: float = 1e-9) -> int | None:
    """Index of the first entry of `train_accs` at 100% training accuracy (the training set is
    fit), or None if it never is. The caller maps the index to its epoch numbering."""
    for i, acc in enumerate(train_accs):
        if acc >= 1.0 - tol:
            return i
    return None


@torch.no_grad()
def intended_frac_pos(logits_unweighted: Tensor, weight: float) -> float:
    """The "intended effect" of weighting the positive class by `weight`: the fraction predicted
    positive once log(weight) is added to the positive logit of the *unweighted* model (post-hoc
    logit adjustment, the Bayes-optimal response to a weight on a calibrated model)."""
    if weight <= 0:
        raise ValueError(f"weight must be > 0, got {weight}")
    shifted = logits_unweighted.detach().double().clone()
    shifted[:, 1] += math.log(weight)
    return float(predictions(shifted).float().mean())


@torch.no_grad()
def normalised_margin(logits: Tensor, y: Tensor, param_norm: float) -> float:
    """min_i v_i / ||theta||, v_i = z_{y_i} - z_{other}. Positive iff the data are separated; for
    a linear model it tends to the max-margin value as gradient descent drifts to the SVM
    solution. (For deep homogeneous nets the theory normalises by ||theta||^L; this is the plain
    norm, comparable across runs of one architecture.)"""
    sign = 2.0 * y.double() - 1.0
    v = (logits[:, 1].double() - logits[:, 0].double()) * sign
    return float(v.min()) / param_norm if param_norm > 0 else math.nan


@torch.no_grad()
def param_norm(model: nn.Module) -> float:
    """Euclidean norm of all trainable parameters together (buffers such as BatchNorm's running
    statistics excluded)."""
    total = sum(float(p.detach().double().pow(2).sum()) for p in model.parameters() if p.requires_grad)
    return math.sqrt(total)

"""Metrics of a classifier with K logits (binary data: 2, column 1 = the positive, re-weighted class).

Everything here is *unweighted*, so runs that differ only in their weights are compared on the
same scale. Per split: `split_metrics`, and `group_metrics` where the data carry groups. Per run: `interpolation_epoch`, `param_norm`,
`normalised_margin`, and `intended_frac_pos` (the spread across runs is in outcome.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def predictions(logits: Tensor) -> Tensor:
    """Predicted class: 1 where z_pos > z_neg; a tie goes to the negative class (as argmax does).
    K > 2 logits: the argmax (a tie goes to the first of the tied classes)."""
    if logits.shape[-1] != 2:
        return logits.argmax(-1)
    return (logits[:, 1] > logits[:, 0]).long()


@torch.no_grad()
def split_metrics(logits: Tensor, y: Tensor | None, class_names: tuple[str, ...] = ("neg", "pos")) -> dict[str, float]:
    """Metrics of one evaluation split.

    Always: `frac_pred_<name>` for every class and, for two classes, `frac_pred_pos` (= fraction
    predicted as class 1, whatever the class names; kept for backwards compatibility and as the
    paper's readout).
    With labels (`y` not None) also: `loss` (mean cross-entropy), `acc`, `balanced_acc` (mean recall
    over the classes present in `y`) and `acc_<name>` (recall) for each class present in `y`.
    Splits without meaningful labels (noise, out-of-domain) should pass y=None.
    """
    if logits.ndim != 2 or logits.shape[1] != len(class_names):
        raise ValueError(f"logits must have shape (B, {len(class_names)}), got {tuple(logits.shape)}")
    return split_metrics_per_model(logits.unsqueeze(0), y, class_names)[0]


@torch.no_grad()
def split_metrics_per_model(
    logits: Tensor, y: Tensor | None, class_names: tuple[str, ...] = ("neg", "pos")
) -> list[dict[str, float]]:
    """`split_metrics` of M models on one split at once: logits (M, B, K) -> one dict per model.
    One pass over all models and one device-to-host copy, because a sweep evaluates often and a
    Python loop of small reductions per model cost more than its training step (issue 4)."""
    k = len(class_names)
    if logits.ndim != 3 or logits.shape[2] != k or k < 2:
        raise ValueError(f"logits must have shape (M, B, {k}) for {k} classes, got {tuple(logits.shape)}")
    if len(set(class_names)) != k or (k == 2 and class_names[0] == "pos"):
        # frac_pred_pos means class 1 of two; a class 0 called "pos" would overwrite it.
        raise ValueError(f"class_names must be distinct names, for two the first not 'pos': {class_names}")
    M, n = logits.shape[:2]
    logits = logits.detach().float()
    pred = predictions(logits.reshape(M * n, k)).view(M, n)
    if k == 2:
        n_pos = pred.sum(1).double()
        columns = {f"frac_pred_{class_names[0]}": (n - n_pos) / n, f"frac_pred_{class_names[1]}": n_pos / n}
        columns["frac_pred_pos"] = columns[f"frac_pred_{class_names[1]}"]
    else:
        predicted = F.one_hot(pred, k).sum(1).double()  # (M, K)
        columns = {f"frac_pred_{name}": predicted[:, c] / n for c, name in enumerate(class_names)}
    if y is not None:
        y = y.long()
        correct = (pred == y).float()
        columns["loss"] = F.cross_entropy(logits.reshape(M * n, k), y.repeat(M), reduction="none").view(M, n).mean(1)
        columns["acc"] = correct.mean(1)
        recalls = []
        for c, name in enumerate(class_names):
            members = y == c
            if bool(members.any()):
                columns[f"acc_{name}"] = correct[:, members].mean(1)
                recalls.append(columns[f"acc_{name}"].double())
        columns["balanced_acc"] = (
            torch.stack(recalls).sum(0) / len(recalls) if recalls else logits.new_full((M,), math.nan)
        )
    names = list(columns)
    if n == 0:
        return [dict.fromkeys(names, math.nan) for _ in range(M)]
    rows = torch.stack([columns[k].double() for k in names], 1).cpu().tolist()  # one copy for all models
    # undefined values are the one `math.nan`, so that equal results compare equal (nan != nan)
    return [{k: math.nan if math.isnan(v) else v for k, v in zip(names, row)} for row in rows]


@torch.no_grad()
def group_metrics(logits: Tensor, y: Tensor, groups: Tensor, group_names: Sequence[str]) -> dict[str, float]:
    """Per group present in the split: `acc_group_<name>` and its size `n_group_<name>`; and
    `worst_group_acc`, the lowest of those accuracies. `groups`: each example's index into
    `group_names`. Groups absent from the split are left out (their accuracy is undefined)."""
    correct = (predictions(logits.detach()) == y.long()).double()
    k = len(group_names)
    sizes = torch.bincount(groups, minlength=k).cpu().tolist()
    hits = torch.bincount(groups, weights=correct, minlength=k).cpu().tolist()
    out: dict[str, float] = {}
    for name, n, h in zip(group_names, sizes, hits):
        if n:
            out[f"acc_group_{name}"], out[f"n_group_{name}"] = h / n, float(n)
    accs = [out[f"acc_group_{name}"] for name, n in zip(group_names, sizes) if n]
    if accs:
        out["worst_group_acc"] = min(accs)
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
    return intended_frac_pos_per_model(logits_unweighted.unsqueeze(0), [weight])[0][0]


@torch.no_grad()
def intended_frac_pos_per_model(logits_unweighted: Tensor, weights: Sequence[float]) -> list[list[float]]:
    """`intended_frac_pos` of M models (logits (M, B, 2)) for each of `weights`: [model][weight]."""
    if any(w <= 0 for w in weights):
        raise ValueError(f"weights must be > 0, got {list(weights)}")
    z = logits_unweighted.detach().double()
    shift = torch.tensor([math.log(w) for w in weights], dtype=torch.float64, device=z.device)
    positive = z[:, :, 1, None] + shift > z[:, :, 0, None]  # (M, B, W): a tie goes to the negative class
    return positive.double().mean(1).cpu().tolist()


@torch.no_grad()
def normalised_margin(logits: Tensor, y: Tensor, param_norm: float) -> float:
    """min_i v_i / ||theta||, v_i = z_{y_i} - z_{other}. Positive iff the data are separated; for
    a linear model it tends to the max-margin value as gradient descent drifts to the SVM
    solution. (For deep homogeneous nets the theory normalises by ||theta||^L; this is the plain
    norm, comparable across runs of one architecture.)"""
    return normalised_margin_per_model(logits.unsqueeze(0), y, [param_norm])[0]


@torch.no_grad()
def normalised_margin_per_model(logits: Tensor, y: Tensor, param_norms: Sequence[float]) -> list[float]:
    """`normalised_margin` of M models: logits (M, B, K), one norm per model (K > 2: the margin
    z_y - max_{c != y} z_c)."""
    if logits.shape[2] != 2:
        z = logits.double()
        index = y.long().view(1, -1, 1).expand(z.shape[0], -1, 1)
        v = z.gather(2, index).squeeze(2) - z.scatter(2, index, -torch.inf).max(2).values
        return [m / norm if norm > 0 else math.nan for m, norm in zip(v.min(1).values.cpu().tolist(), param_norms)]
    sign = 2.0 * y.double() - 1.0
    v = (logits[:, :, 1].double() - logits[:, :, 0].double()) * sign
    return [m / norm if norm > 0 else math.nan for m, norm in zip(v.min(1).values.cpu().tolist(), param_norms)]


@torch.no_grad()
def param_norm(model: nn.Module) -> float:
    """Euclidean norm of all trainable parameters together (buffers such as BatchNorm's running
    statistics excluded)."""
    total = sum(float(p.detach().double().pow(2).sum()) for p in model.parameters() if p.requires_grad)
    return math.sqrt(total)

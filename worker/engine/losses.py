"""Importance-weighted losses on one positive-class logit per example."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def example_weights(y: torch.Tensor, pos_weight: float) -> torch.Tensor:
    """w_i = pos_weight for the positive class, 1 for the negative class."""
    return 1.0 + (pos_weight - 1.0) * y


def weighted_bce(logits: torch.Tensor, y: torch.Tensor, weights: torch.Tensor, norm: str) -> torch.Tensor:
    """Weighted cross-entropy. `norm="sum"` divides by the batch's sum of weights (PyTorch's
    `CrossEntropyLoss(weight=...)` convention, symmetric in w <-> 1/w and stable for large w);
    `norm="mean"` divides by the batch size, so the weights also scale the step size."""
    per_example = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    total = (weights * per_example).sum()
    return total / (weights.sum() if norm == "sum" else len(y))

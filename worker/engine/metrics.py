"""Per-split metrics of a binary classifier, from its logits."""

from __future__ import annotations

import torch
import torch.nn.functional as F


@torch.no_grad()
def split_metrics(logits: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Unweighted metrics, so runs with different weights are compared on the same scale."""
    pred = (logits > 0).float()
    correct = (pred == y).float()
    pos, neg = y == 1, y == 0
    recall_pos = float(correct[pos].mean()) if pos.any() else float("nan")
    recall_neg = float(correct[neg].mean()) if neg.any() else float("nan")
    return {
        "loss": float(F.binary_cross_entropy_with_logits(logits, y)),
        "acc": float(correct.mean()),
        "balanced_acc": (recall_pos + recall_neg) / 2,
        "frac_pred_pos": float(pred.mean()),
    }

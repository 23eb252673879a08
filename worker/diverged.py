"""A run whose training loss (or parameter norm) is no longer a finite number has diverged: every
epoch after it would be NaN rows that the store drops, so the run would end "succeeded" with its
curves silently cut off. It fails instead, naming the epoch."""

from __future__ import annotations

import math
from typing import Any

WATCHED = ("loss", "param_norm")  # of the training split


def divergence(result: Any) -> str | None:
    """Why `result` (an `EpochResult`) shows a diverged run, or None while it is finite."""
    train = result.metrics.get("train", {})
    for name in WATCHED:
        value = train.get(name)
        if value is not None and not math.isfinite(value):
            return (
                f"training diverged: the train {name} is {value} at epoch {result.epoch}; "
                "the epochs before it are kept (try a smaller lr or pos_weight)"
            )
    return None

"""Labels for the epoch slider, which moves over frame indices (frames sit at log-spaced epochs)."""

from __future__ import annotations

from collections.abc import Sequence


def slider_marks(epochs: Sequence[int], max_labels: int = 12) -> dict[int, str]:
    """Labels for an index slider over frame epochs: first, last and evenly spaced ones between."""
    n = len(epochs)
    if n == 0:
        return {}
    picks: range | list[int]
    if n <= max_labels:
        picks = range(n)
    else:
        picks = sorted({round(k * (n - 1) / (max_labels - 1)) for k in range(max_labels)})
    return {i: str(epochs[i]) for i in picks}

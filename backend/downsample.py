"""Which epochs a plot needs: curves are thinned server-side, exports stay at full resolution.

One set of epochs is picked for *all* the runs of a request rather than per series (as LTTB or
min/max bucketing would): the dashboard averages seeds epoch by epoch, and a mean over runs is only
exact where every run kept the same epoch. Half the budget is log-spaced, because the paper's
figures are read on a log epoch axis where the first epochs carry most of the movement; half is
evenly spaced, for the linear axis. The first and last epoch are always kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def pick_epochs(epochs: Sequence[int], max_points: int) -> list[int]:
    """At most `max_points` (>= 2) of the sorted, distinct `epochs`, first and last included."""
    if len(epochs) <= max_points:
        return list(epochs)
    # m log-spaced and m evenly spaced targets; near the start they land on the same epochs, so the
    # largest m that still fits the budget is searched for
    lo, hi, best = 1, max_points, [epochs[0], epochs[-1]]
    while lo <= hi:
        m = (lo + hi) // 2
        picked = _targets(epochs, m)
        if len(picked) <= max_points:
            best, lo = picked, m + 1
        else:
            hi = m - 1
    return best


def _targets(epochs: Sequence[int], m: int) -> list[int]:
    first, span = epochs[0], epochs[-1] - epochs[0]
    keep = {epochs[0], epochs[-1]}
    for k in range(1, m + 1):
        keep.add(_nearest(epochs, first + math.expm1(math.log1p(span) * k / (m + 1))))
        keep.add(_nearest(epochs, first + span * k / (m + 1)))
    return sorted(keep)


def _nearest(epochs: Sequence[int], target: float) -> int:
    lo, hi = 0, len(epochs) - 1
    while lo < hi:  # first epoch >= target
        mid = (lo + hi) // 2
        if epochs[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    below = epochs[lo - 1] if lo else epochs[lo]
    return below if target - below <= epochs[lo] - target else epochs[lo]

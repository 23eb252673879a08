"""How much L2 buys how much weighting: each weight's realised boundary shift against the shift it
was meant to cause, per L2 coefficient (the `l2-calibration` preset and its report heatmap).

Intended shift. Post-hoc logit adjustment of the unweighted model (`metrics.intended_frac_pos`) is
degenerate on separable data: without L2 that model is so confident that adding log w to its
logit changes almost no prediction, so intended and realised effects are both ~0 and "no L2" always
looks best (measured: gap 0.011 at L2 = 0 vs 0.083 at L2 = 0.03). Temperature scaling does not
rescue it either: on a separated validation split the best temperature is 0. So the intended
shift comes from the generative model instead, which is known for `wang_gaussians`: two isotropic
Gaussians with the same sd sigma, each truncated to the same radius around its centre. Wherever
both classes can occur the truncation constants cancel, so the Bayes log-odds at the point
p(s) = c_neg + s (c_pos - c_neg) of the segment between the centres is d^2 (2s - 1) / (2 sigma^2)
plus the log prior ratio (d = |c_pos - c_neg|). Adding log w moves its zero by

    intended shift = -sigma^2 log(w) / d^2

in the units of `geometry.boundary_offset` (fractions of the segment; negative = towards the
negative centre, so more points predicted positive). Realised shift: offset(w) - offset(1) of the
trained models at the end, seed means. A weight is well calibrated when the two agree.
"""

from __future__ import annotations

import math
from statistics import mean

from .outcome import Outcome
from .spec import ExperimentSpec, RunSpec
from .synthetic import CENTRES, WANG_RADIUS


def applies(spec: ExperimentSpec) -> bool:
    """An L2 x weight sweep on data whose intended shift is known."""
    return spec.base.dataset == "wang_gaussians" and "weight_decay" in spec.sweep and "pos_weight" in spec.sweep


def intended_shift(spec: RunSpec, weight: float) -> float:
    """The Bayes-optimal boundary shift of a weight for `spec`'s generative model (see above)."""
    if spec.dataset != "wang_gaussians":
        # the blobs are truncated to disjoint discs: their Bayes classifier is certain everywhere
        raise ValueError(f"dataset: the intended shift needs overlapping classes (wang_gaussians), not {spec.dataset}")
    (x0, y0), (x1, y1) = CENTRES[spec.dataset]
    d2 = (x1 - x0) ** 2 + (y1 - y0) ** 2
    assert d2 < (2 * WANG_RADIUS) ** 2  # the supports overlap around the segment's midpoint
    return -(spec.noise**2) * math.log(weight) / d2


def shift_table(outcome: Outcome) -> dict[float, dict[float, tuple[float, float]]]:
    """L2 coefficient -> weight (other than 1) -> (realised shift, intended shift)."""
    table: dict[float, dict[float, tuple[float, float]]] = {}
    for wd in sorted({s.weight_decay for s, _ in outcome.runs}):
        sub = outcome.where(weight_decay=wd)
        offsets = sub.by_weight("end", "geometry", "offset")
        spec = sub.runs[0][0]
        table[wd] = {w: (off - offsets[1.0], intended_shift(spec, w)) for w, off in offsets.items() if w != 1.0}
    return table


def gaps(outcome: Outcome) -> dict[float, float]:
    """L2 coefficient -> mean over weights of |realised - intended| shift."""
    return {wd: mean(abs(r - i) for r, i in row.values()) for wd, row in shift_table(outcome).items()}


def closest_l2(outcome: Outcome) -> float:
    """The L2 coefficient whose realised shifts come closest to the intended ones."""
    by_l2 = gaps(outcome)
    return min(by_l2, key=by_l2.__getitem__)

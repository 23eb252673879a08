"""What to do instead of (or on top of) plain importance weighting, on 2-D data whose boundary can
be read off exactly: other losses, sub-sampling, and how much L2 a weight needs.

All four train logistic regression by full-batch gradient descent (lr 1, zero init: deterministic,
so they vary `data_seed` where they need repeats) and read the boundary's offset on the segment
between the class centres, because `frac_pred_pos` hardly moves while a boundary crosses an empty
gap (docs/science.md).
"""

from __future__ import annotations

from .. import calibration
from ..outcome import Check, Outcome, all_fit, compare
from .base import PAPER, WANG, Preset, at_least, experiment, offset

# Wang et al.'s 20 minority (positive) vs 200 majority points
GAUSSIANS = {
    "dataset": "wang_gaussians",
    "n_train": 200,
    "n_test": 500,
    "model": "logreg",
    "lr": 1.0,
    "batch_size": 220,
}
BLOBS_GD = {"dataset": "blobs", "n_train": 100, "n_test": 500, "model": "logreg", "lr": 1.0, "batch_size": 200}
CALIBRATION_WEIGHTS = [1 / 16, 1 / 4, 1.0, 4.0, 16.0]
CALIBRATION_L2 = [0.0, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3]


def weighting_shift(loss: str):
    """How far weighting moves the final boundary: |offset(largest w) - offset(smallest w)|."""

    def measure(o: Outcome) -> float:
        offsets = o.where(loss=loss).by_weight("end", "geometry", "offset")
        return abs(offsets[max(offsets)] - offsets[min(offsets)])

    return measure


def moves_towards_majority(loss: str, limit: float) -> Check:
    """An unweighted remedy moves the final boundary from CE's towards the majority (negative) centre."""
    return at_least(
        f"{loss} (no weights) moves the final boundary towards the majority class vs CE: offset(ce) - offset({loss})",
        lambda o: offset(o, loss="ce", pos_weight=1.0) - offset(o, loss=loss, pos_weight=1.0),
        limit,
    )


# --- iw-vs-subsampling: arms of the sweep imbalance x pos_weight x weight_decay
IMBALANCE = 16.0
SUBSAMPLING_L2 = 0.1
BALANCED = {"imbalance": 1.0, "pos_weight": 1.0}
SUBSAMPLED = {"imbalance": IMBALANCE, "pos_weight": 1.0}
WEIGHTED_BACK = {"imbalance": IMBALANCE, "pos_weight": IMBALANCE}


def _apart(a: dict, b: dict, wd: float, epoch: int | str = "end"):
    """How far apart the boundaries of two arms are (same L2), seed means."""
    return lambda o: abs(offset(o, epoch, **a, weight_decay=wd) - offset(o, epoch, **b, weight_decay=wd))


def _weighting_back_fades(ratio: float, early: int) -> Check:
    def measure(o: Outcome) -> tuple[bool, str]:
        first, end = _apart(WEIGHTED_BACK, SUBSAMPLED, 0.0, early)(o), _apart(WEIGHTED_BACK, SUBSAMPLED, 0.0)(o)
        return end <= ratio * first, f"{first:.3f} -> {end:.3f}"

    return Check(
        f"without L2, weighting back moves the imbalanced boundary at the end by <= {ratio} x its shift at epoch {early}",
        measure,
    )


def _weighting_plus_l2_undoes_subsampling(ratio: float) -> Check:
    def measure(o: Outcome) -> tuple[bool, str]:
        left = _apart(WEIGHTED_BACK, BALANCED, SUBSAMPLING_L2)(o)
        effect = _apart(SUBSAMPLED, BALANCED, SUBSAMPLING_L2)(o)
        return left <= ratio * effect, f"{left:.3f} left of {effect:.3f}"

    return Check(
        f"with L2 {SUBSAMPLING_L2}, weighting back brings the imbalanced boundary to within {ratio} x the sub-sampling effect of the balanced one",
        measure,
    )


# --- l2-calibration


def _closest_l2_is_inside() -> Check:
    def measure(o: Outcome) -> tuple[bool, str]:
        gaps = calibration.gaps(o)
        best = calibration.closest_l2(o)
        return 0 < best < max(
            gaps
        ), f"closest L2 {best:g} (gap {gaps[best]:.4f}; L2 0: {gaps[0.0]:.4f}, L2 {max(gaps):g}: {gaps[max(gaps)]:.4f})"

    return Check(
        "the L2 that brings the realised shifts closest to the intended ones is neither 0 nor the strongest tried",
        measure,
    )


def _no_l2_falls_short(factor: float) -> Check:
    def measure(o: Outcome) -> tuple[bool, str]:
        gaps = calibration.gaps(o)
        row = calibration.shift_table(o)[0.0]
        short = all(abs(r) < abs(i) for r, i in row.values())
        return short and gaps[0.0] >= factor * min(
            gaps.values()
        ), f"gap {gaps[0.0]:.4f} vs best {min(gaps.values()):.4f}; every weight short of its intended shift: {short}"

    return Check(
        f"without L2 every weight moves the boundary less than intended, and the gap is >= {factor} x the best L2's",
        measure,
    )


PRESETS = [
    Preset(
        "wang-two-gaussians",
        "20 vs 200 Gaussians: CE forgets the weights, the polynomially-tailed loss does not",
        "With the polynomially-tailed loss, weights keep moving the boundary at interpolation; with CE "
        "the shift keeps shrinking. frac_pred_pos barely differs, so read the boundary offset.",
        WANG,
        full=experiment(
            "wang-two-gaussians", {"loss": ["ce", "poly"], "pos_weight": [1.0, 10.0]}, **GAUSSIANS, epochs=100_000
        ),
        quick=experiment(
            "wang-two-gaussians (quick)", {"loss": ["ce", "poly"], "pos_weight": [1.0, 10.0]}, **GAUSSIANS, epochs=3000
        ),
        expected=(
            compare(
                "weighting moves the final boundary more with poly than with CE (offset shift)",
                weighting_shift("poly"),
                ">",
                weighting_shift("ce"),
            ),
            all_fit(1.0),
        ),
        tags=("2-D", "remedies"),
    ),
    Preset(
        "loss-zoo",
        "Cross-entropy, polynomially-tailed, logit-adjusted and VS losses on 20 vs 200 Gaussians",
        "At interpolation a class weight no longer moves a cross-entropy boundary, but it still moves a "
        "polynomially-tailed one (Wang et al.); logit adjustment (Menon et al.) and the VS loss (Kini et al.) "
        "move the boundary towards the majority class without any weights.",
        WANG + "; Menon et al., ICLR 2021; Kini et al., NeurIPS 2021",
        full=experiment(
            "loss-zoo",
            {"loss": ["ce", "poly", "la", "vs"], "pos_weight": [1.0, 10.0, 100.0]},
            **GAUSSIANS,
            epochs=100_000,
        ),
        quick=experiment(
            "loss-zoo (quick)",
            {"loss": ["ce", "poly", "la", "vs"], "pos_weight": [1.0, 10.0]},
            **GAUSSIANS,
            epochs=3000,
            eval_points=60,
        ),
        expected=(
            compare(
                "weighting moves the final boundary more with poly than with CE (offset shift)",
                weighting_shift("poly"),
                ">",
                weighting_shift("ce"),
            ),
            moves_towards_majority("la", 0.05),
            moves_towards_majority("vs", 0.05),
            all_fit(1.0),
        ),
        tags=("2-D", "remedies"),
    ),
    Preset(
        "iw-vs-subsampling",
        "Sub-sampling lasts, weighting it back does not (unless with L2)",
        "Make the data imbalanced by sub-sampling one class: that moves the boundary for good. Weighting "
        "the class back moves it early, but without regularisation the effect fades towards the "
        "imbalanced run's boundary; with L2 it stays where the balanced run's is.",
        PAPER,
        full=experiment(
            "iw-vs-subsampling",
            {
                "imbalance": [1.0, 4.0, IMBALANCE],
                "pos_weight": [1.0, 4.0, IMBALANCE],
                "weight_decay": [0.0, 0.01, SUBSAMPLING_L2],
                "data_seed": [0, 1, 2, 3, 4],
            },
            **BLOBS_GD,
            epochs=100_000,
            eval_points=200,
        ),
        quick=experiment(
            "iw-vs-subsampling (quick)",
            {
                "imbalance": [1.0, IMBALANCE],
                "pos_weight": [1.0, IMBALANCE],
                "weight_decay": [0.0, SUBSAMPLING_L2],
                "data_seed": [0, 1],
            },
            **BLOBS_GD,
            epochs=5000,
            eval_points=60,
        ),
        expected=(
            at_least(
                "sub-sampling 1:16 moves the final boundary (no L2, offset)", _apart(SUBSAMPLED, BALANCED, 0.0), 0.05
            ),
            _weighting_back_fades(0.3, early=10),
            _weighting_plus_l2_undoes_subsampling(0.25),
            all_fit(0.95, where={"imbalance": IMBALANCE}),
        ),
        tags=("2-D", "paper", "regularisation"),
    ),
    Preset(
        "l2-calibration",
        "How much L2 buys how much weighting",
        "Without regularisation a weight's effect fades; with L2 it stays, but by how much is unknown (the "
        "paper calls L2 the wrong abstraction). Sweep L2 x weight and compare each weight's realised "
        "boundary shift with the Bayes-optimal shift for the known data distribution, -sd^2 log(w) / d^2.",
        PAPER + "; iwlab (intended shift: the Bayes boundary of the generating Gaussians)",
        full=experiment(
            "l2-calibration",
            {
                "weight_decay": [0.0, 1e-4, *CALIBRATION_L2[1:], 1.0],
                "pos_weight": [4.0**k for k in range(-3, 4)],
                "data_seed": [0, 1, 2],
            },
            **GAUSSIANS,
            noise=1.5,
            epochs=100_000,
            eval_points=100,
        ),
        quick=experiment(
            "l2-calibration (quick)",
            {"weight_decay": CALIBRATION_L2, "pos_weight": CALIBRATION_WEIGHTS},
            **GAUSSIANS,
            noise=1.5,
            epochs=3000,
            eval_points=30,
        ),
        expected=(_no_l2_falls_short(2.0), _closest_l2_is_inside(), all_fit(0.95)),
        tags=("2-D", "regularisation"),
    ),
]

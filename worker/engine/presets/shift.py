"""Covariate shift: importance weighting by the density ratio on a model that cannot fit the rule
(Shimodaira, 2000) beside one that can (Byrd & Lipton, 2019).

The data (shift.py): labels by a parabola in both domains; the source N(0, I), the target a narrower
Gaussian where the parabola is steep. A linear model fit to the source is wrong on the target, and
weighting each source example by p_t(x) / p_s(x) (given, or estimated by a logistic domain
classifier) refits it where the target lies. An over-parameterised MLP fits the rule everywhere the
source reaches, so the weights have little left to change. Target accuracy is read on a labelled
target sample the training never sees.
"""

from __future__ import annotations

from .. import stats
from ..outcome import Check, Outcome
from .base import PAPER, Preset, at_least, experiment, seed_mean

SHIMODAIRA = "Shimodaira, J. Stat. Plan. Inference 2000"
WEIGHTINGS = ["none", "given", "estimated"]
BASE = {
    "dataset": "covariate_shift",
    "n_test": 500,
    "hidden": [64, 64],
    "lr": 0.1,
    "batch_size": 32,
    "weight_normalise": True,
}
EARLY = 10


def gain(model: str, weights: str, epoch: int | str = "end"):
    """Target accuracy with the weights minus without them (seed means)."""
    return lambda o: (seed_mean(o, epoch, "target", "acc", model=model, example_weights=weights)
                      - seed_mean(o, epoch, "target", "acc", model=model, example_weights="none"))  # fmt: skip


def _gain_check(claim: str, model: str, weights: str, limit: float, at_least_: bool = True) -> Check:
    """Target accuracy with the weights minus without them, paired by data_seed, shown with n and
    its 95% interval; met when the mean gain is >= limit (at_least_) or its size is <= limit."""

    def run(o: Outcome) -> tuple[bool, str]:
        arms = [
            {s.data_seed: o.value(h, "end", "target", "acc") for s, h in o.where(model=model, example_weights=w).runs}
            for w in ("none", weights)
        ]
        seeds = sorted(set(arms[0]) & set(arms[1]))
        p = stats.paired([arms[0][s] for s in seeds], [arms[1][s] for s in seeds])
        ok = p.mean_diff >= limit if at_least_ else abs(p.mean_diff) <= limit
        return ok, stats.shown(p)

    return Check(f"{claim} {'>=' if at_least_ else '|.| <='} {limit}", run)


def _keeps_its_gain(ratio: float) -> Check:
    def run(o: Outcome) -> tuple[bool, str]:
        early, end = gain("logreg", "given", EARLY)(o), gain("logreg", "given")(o)
        return end >= ratio * early, f"{early:.3f} -> {end:.3f}"

    return Check(
        f"the linear model keeps the given ratio's gain: at the end >= {ratio} x its gain at epoch {EARLY}", run
    )


COVARIATE_SHIFT = Preset(
    name="covariate-shift",
    title="Density-ratio weights fix a misspecified linear model under covariate shift, not an MLP",
    claim="Weighting by p_target / p_source lowers the target error of a misspecified model, and keeps doing so; "
    "for a model that fits the data the effect fades (importance weighting matters under misspecification).",
    source=f"{SHIMODAIRA}; {PAPER}",
    full=experiment(
        "covariate-shift",
        {"model": ["logreg", "mlp"], "example_weights": WEIGHTINGS, "data_seed": list(range(10))},
        **BASE,
        n_train=500,
        epochs=300,
        eval_points=30,
    ),  # fmt: skip
    quick=experiment(
        "covariate-shift (quick)",
        {"model": ["logreg", "mlp"], "example_weights": WEIGHTINGS, "data_seed": [0, 1, 2]},
        **BASE,
        n_train=300,
        epochs=100,
        eval_points=10,
    ),  # fmt: skip
    expected=(
        _gain_check("linear model: target accuracy, given ratio minus unweighted, at the end", "logreg", "given", 0.2),
        _gain_check(
            "linear model: target accuracy, estimated ratio minus unweighted, at the end", "logreg", "estimated", 0.15
        ),
        _keeps_its_gain(0.8),
        _gain_check(
            "MLP: target accuracy, given ratio minus unweighted, at the end", "mlp", "given", 0.05, at_least_=False
        ),
        at_least(
            "MLP (unweighted) fits the source: training accuracy at the end",
            lambda o: seed_mean(o, "end", "train", "acc", model="mlp", example_weights="none"),
            0.97,
        ),  # fmt: skip
    ),
    tags=("2-D", "density-ratio"),
)

PRESETS = [COVARIATE_SHIFT]

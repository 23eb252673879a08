"""Spurious correlations: group-weighted ERM and group-balanced sub-sampling against ERM, read by
worst-group accuracy (Sagawa et al. 2020; Idrissi et al. 2022).

The data (synthetic.make_spurious): a core feature that separates the classes and a larger spurious
feature that agrees with the label in 90% of each class's training examples; the test split has
the four groups (class x agrees or not) in equal numbers. ERM learns the spurious feature first, so
early on it misclassifies the minority groups; weighting each group equally, or keeping as many
examples of every group as the smallest has, makes the spurious feature useless to the objective.
The training data are separable, so every model here fits them in the end, and what is left of
the gain then is the measured question.
"""

from __future__ import annotations

from .. import stats
from ..outcome import Check, Outcome
from .base import Preset, experiment

SAGAWA = "Sagawa, Raghunathan, Koh & Liang, ICML 2020"
IDRISSI = "Idrissi, Arjovsky, Pezeshki & Lopez-Paz, CLeaR 2022"
ARMS = ["none", "inverse_frequency", "subsample"]
BASE = {"dataset": "spurious", "n_test": 250, "hidden": [64, 64], "lr": 0.1, "batch_size": 32}
EARLY = 2


def gain(o: Outcome, model: str, arm: str, epoch: int | str) -> stats.Paired:
    """Test worst-group accuracy of `arm` minus ERM's at an epoch, paired by data_seed."""
    arms = [
        {
            s.data_seed: o.value(h, epoch, "test", "worst_group_acc")
            for s, h in o.where(model=model, group_weights=w).runs
        }
        for w in ("none", arm)
    ]
    seeds = sorted(set(arms[0]) & set(arms[1]))
    return stats.paired([arms[0][s] for s in seeds], [arms[1][s] for s in seeds])


def _early_gain(model: str, arm: str, limit: float) -> Check:
    """Met when the whole 95% interval of the paired gain lies at or above `limit`."""

    def run(o: Outcome) -> tuple[bool, str]:
        p = gain(o, model, arm, EARLY)
        return p.low >= limit, stats.shown(p)

    return Check(
        f"{model}: test worst-group accuracy, {arm} minus ERM, at epoch {EARLY}: 95% CI lower end >= {limit}", run
    )


def _fades(model: str, arm: str, share: float) -> Check:
    """Met when the mean gain at the end is at most `share` of the mean gain at epoch EARLY."""

    def run(o: Outcome) -> tuple[bool, str]:
        early, end = gain(o, model, arm, EARLY), gain(o, model, arm, "end")
        return end.mean_diff <= share * early.mean_diff, f"{stats.shown(early)} -> {stats.shown(end)}"

    return Check(
        f"{model}: once the model fits its training data, {arm}'s worst-group gain at the end <= {share} x its gain at epoch {EARLY}",
        run,
    )


CHECKS = tuple(
    c
    for model in ("logreg", "mlp")
    for arm in ARMS[1:]
    for c in (_early_gain(model, arm, 0.3), _fades(model, arm, 0.2))
)

GROUPS_SPURIOUS = Preset(
    name="groups-spurious",
    title="Group weighting and group-balanced sub-sampling against a spurious feature, early and at the end",
    claim="Group-weighted ERM and group-balanced sub-sampling raise the worst-group accuracy of ERM, which leans on a "
    "spurious feature; on data the model fits, much of that gain is gone once it has fit them.",
    source=f"{SAGAWA}; {IDRISSI}",
    full=experiment(
        "groups-spurious",
        {"model": ["logreg", "mlp"], "group_weights": ARMS, "data_seed": list(range(10))},
        **BASE,
        n_train=200,  # as the quick variant: epoch EARLY is then the same number of SGD steps
        epochs=300,
        eval_points=20,
    ),
    quick=experiment(
        "groups-spurious (quick)",
        {"model": ["logreg", "mlp"], "group_weights": ARMS, "data_seed": [0, 1, 2, 3, 4]},
        **BASE,
        n_train=200,
        epochs=60,
        eval_points=8,
    ),
    expected=CHECKS,
    tags=("2-D", "groups"),
)

PRESETS = [GROUPS_SPURIOUS]

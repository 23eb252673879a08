"""What a preset is, and the settings the preset families share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from .. import stats
from ..outcome import Check, Outcome, seed_spreads
from ..spec import ExperimentSpec, RunSpec

PAPER = "Byrd & Lipton, ICML 2019 (arXiv 1812.03372)"
WANG = "Wang, Chatterji, Haque & Hashimoto, ICLR 2022"
POWERS_OF_4 = [4.0**k for k in range(-4, 5)]  # 1/256 .. 256
TENFOLD = [0.1, 1.0, 10.0]
SIXTEENFOLD = [1 / 16, 1.0, 16.0]
# The papers' normalisation of the weighted loss (PAPER.md, "Corrections and additions": "The sum
# normalisation changes the weight"): Byrd & Lipton's (and Soudry et al.'s) objective is
# (1/n) sum_i w_i l_i, and Wang et al.'s code multiplies each loss by its weight and takes the batch
# mean. Under `mean` a positive example weighs exactly w times a negative one; under the engine's
# default `sum` (CrossEntropyLoss(weight=), the reproductions') w = 10 acts like ~7.8 at batch 8.
# Full-batch presets keep `sum`: with one batch both forms weigh a positive exactly w times a
# negative and differ only by a constant factor on the step (sum w / n), so their GD paths are the
# papers' with a rescaled learning rate.
PAPERS_NORM = "mean"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    claim: str  # what the source reports, in one or two sentences
    source: str
    full: ExperimentSpec
    quick: ExperimentSpec
    expected: tuple[Check, ...] = ()
    needs: str | None = None  # a data set that must be downloaded first
    tags: tuple[str, ...] = field(default=())
    # None: the quick variant checks `expected` (the claim). Else the claim cannot be tested at CPU
    # size: the quick variant is an illustration, checks only what it shows, and the full variant
    # carries the claim's checks.
    quick_expected: tuple[Check, ...] | None = None

    def spec(self, quick: bool) -> ExperimentSpec:
        return self.quick if quick else self.full

    def checks(self, quick: bool) -> tuple[Check, ...]:
        return self.quick_expected if quick and self.quick_expected is not None else self.expected

    @property
    def quick_is_illustration(self) -> bool:
        return self.quick_expected is not None


def experiment(name: str, sweep: dict[str, list[Any]], **base: Any) -> ExperimentSpec:
    return ExperimentSpec(name=name, base=RunSpec(**base), sweep=sweep)


def seed_mean(o: Outcome, epoch: int | str, split: str, metric: str, **where: Any) -> float:
    """Mean over the runs matching `where` (typically the seeds of one arm) of a metric at an epoch."""
    runs = o.where(**where).runs
    if not runs:
        raise ValueError(f"no run with {where}")
    return mean(o.value(h, epoch, split, metric) for _, h in runs)


def offset(o: Outcome, epoch: int | str = "end", **where: Any) -> float:
    """Seed-mean boundary offset (2-D runs; see geometry.boundary_offset)."""
    return seed_mean(o, epoch, "geometry", "offset", **where)


def at_least(claim: str, measure, limit: float) -> Check:
    """A check that one measured number reaches a limit."""

    def run(o: Outcome) -> tuple[bool, str]:
        value = measure(o)
        return value >= limit, f"{value:.3f}"

    return Check(f"{claim} >= {limit}", run)


def at_most(claim: str, measure, limit: float) -> Check:
    """A check that one measured number stays at or under a limit."""

    def run(o: Outcome) -> tuple[bool, str]:
        value = measure(o)
        return value <= limit, f"{value:.3f}"

    return Check(f"{claim} <= {limit}", run)


def _fit_note(o: Outcome, arms: list[dict[str, Any]], fit: float) -> str:
    """Each arm's lowest final train accuracy, and a warning where it is under `fit`: a spread read
    before every model fits is not yet the effect "once fit"."""
    lows = {_name(a): min(o.value(h, "end", "train", "acc") for _, h in o.where(**a).runs) for a in arms}
    text = ", ".join(f"{name} min train acc {acc:.3f}" for name, acc in lows.items())
    unfit = [name for name, acc in lows.items() if acc < fit]
    return text + (
        f"; not every run fit ({', '.join(unfit)}: train acc < {fit}), so not yet the effect once fit" if unfit else ""
    )


def arm_difference(
    question: str, arm: dict[str, Any], control: dict[str, Any], min_seeds: int = 3, fit: float = 0.99
) -> Check:
    """An open question measured, not a side asserted: per seed, the final spread across weights of
    test frac_pred_pos in `arm` minus that in `control`, paired by seed (the two arms' runs of one
    seed see the same minibatch order), with its 95% t-interval. The answer (more, less, or no
    difference detected) is in the measured text, with each arm's lowest train accuracy. Met when at
    least `min_seeds` seeds give a finite interval; fails with fewer seeds or a readout missing."""

    def measure(o: Outcome) -> tuple[bool, str]:
        a, b = seed_spreads(o.where(**control)), seed_spreads(o.where(**arm))
        seeds = sorted(set(a) & set(b))
        p = stats.paired([a[s] for s in seeds], [b[s] for s in seeds])
        finite = p.n >= min_seeds and math.isfinite(p.low) and math.isfinite(p.high)
        answer = "more" if p.low > 0 else "less" if p.high < 0 else "no difference detected (the interval contains 0)"
        return finite, stats.shown(p, f"{answer}; {_fit_note(o, [arm, control], fit)}")

    return Check(
        f"{question} measured: final spread across weights ({_name(arm)}) minus ({_name(control)}), "
        f"paired by seed, 95% interval on >= {min_seeds} seeds (either sign)",
        measure,
    )


def arm_spread(question: str, arm: dict[str, Any], bound: float, min_seeds: int = 3, fit: float = 0.99) -> Check:
    """The same question asked of one arm: its per-seed final spread across weights, 95% t-interval,
    against `bound` (the spread that counts as faded): kept (interval above), faded (below) or
    undecided. Met on any answer from at least `min_seeds` seeds with a finite interval."""

    def measure(o: Outcome) -> tuple[bool, str]:
        ci = stats.mean_interval(seed_spreads(o.where(**arm)).values(), (0.0, 1.0))
        finite = ci.n >= min_seeds and math.isfinite(ci.low) and math.isfinite(ci.high)
        answer = (
            "kept" if ci.low > bound else "faded" if ci.high < bound else "undecided (the interval contains the bound)"
        )
        return finite, stats.shown_mean(ci, "", f"{answer}; {_fit_note(o, [arm], fit)}")

    return Check(
        f"{question} measured: final spread across weights ({_name(arm)}), 95% interval over >= {min_seeds} seeds, "
        f"above {bound} (kept) or below (faded), either answer",
        measure,
    )


def _name(where: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in where.items())

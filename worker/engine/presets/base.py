"""What a preset is, and the settings the preset families share."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from ..outcome import Check, Outcome
from ..spec import ExperimentSpec, RunSpec

PAPER = "Byrd & Lipton, ICML 2019 (arXiv 1812.03372)"
WANG = "Wang, Chatterji, Haque & Hashimoto, ICLR 2022"
POWERS_OF_4 = [4.0**k for k in range(-4, 5)]  # 1/256 .. 256
TENFOLD = [0.1, 1.0, 10.0]
SIXTEENFOLD = [1 / 16, 1.0, 16.0]


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

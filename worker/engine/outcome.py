"""What an experiment showed, read off its runs' histories: spreads across weights, fit, ordering.

`Outcome` is the table of (run spec, per-epoch metrics) that `iwlab run`, the presets' checks and
the reproduction report all read. Spread = the spread across weights of the seed-mean metric.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from .spec import RunSpec

REFERENCES = ("bayes_frac_pos", "calibrated_frac_pos", "intended_frac_pos")  # best first


def spread(values: Iterable[float]) -> float:
    """max - min, ignoring NaN; NaN if there is nothing to compare."""
    finite = [float(v) for v in values if not math.isnan(float(v))]
    return max(finite) - min(finite) if finite else math.nan


History = dict[int, dict[str, dict[str, float]]]  # evaluated epoch -> split -> metric -> value (in order)


@dataclass
class Outcome:
    runs: list[tuple[RunSpec, History]] = field(default_factory=list)

    def add(self, spec: RunSpec, history: History) -> None:
        self.runs.append((spec, history))

    def where(self, **params: Any) -> Outcome:
        return Outcome([(s, h) for s, h in self.runs if all(getattr(s, k) == v for k, v in params.items())])

    def value(self, history: History, epoch: int | str, split: str, metric: str) -> float:
        """The metric at an epoch, or at the last evaluated epoch before it ("end": the last one)."""
        at = max(history) if epoch == "end" else max((e for e in history if e <= int(epoch)), default=min(history))
        return history[at].get(split, {}).get(metric, float("nan"))

    def epochs(self) -> list[int]:
        return sorted({e for _, h in self.runs for e in h})

    def by_weight(
        self, epoch: int | str = "end", split: str = "test", metric: str = "frac_pred_pos"
    ) -> dict[float, float]:
        """Seed-mean value of a metric per positive-class weight."""
        groups: dict[float, list[float]] = defaultdict(list)
        for spec, history in self.runs:
            groups[spec.pos_weight].append(self.value(history, epoch, split, metric))
        return {w: mean(v) for w, v in sorted(groups.items())}

    def spread(self, epoch: int | str = "end", split: str = "test", metric: str = "frac_pred_pos") -> float:
        return spread(self.by_weight(epoch, split, metric).values())

    def intended_by_weight(self, epoch: int | str = "end", split: str = "test") -> dict[float, float]:
        """What each weight was meant to do: log w added to the unweighted runs' positive logit."""
        unweighted = self.where(pos_weight=1.0)
        weights = sorted({s.pos_weight for s, _ in self.runs})
        return {
            w: mean(unweighted.value(h, epoch, split, f"intended_frac_pos@{w:g}") for _, h in unweighted.runs)
            for w in weights
        }

    def reference_by_weight(self, epoch: int | str = "end", split: str = "test") -> tuple[str, dict[float, float]]:
        """The intended effect of each weight by the best reference the unweighted runs recorded
        (intended.py): the weighted Bayes decision where the densities are known, else the shifted
        calibrated model, else the shifted raw one (which collapses once the model interpolates).
        Returns (the reference's metric prefix, weight -> seed mean); seeds without it are skipped."""
        unweighted = self.where(pos_weight=1.0)
        weights = sorted({s.pos_weight for s, _ in self.runs})
        for prefix in REFERENCES:
            means = {}
            for w in weights:
                values = [
                    v
                    for _, h in unweighted.runs
                    if not math.isnan(v := unweighted.value(h, epoch, split, f"{prefix}@{w:g}"))
                ]
                if values:
                    means[w] = mean(values)
            if means:
                return prefix, means
        return REFERENCES[-1], {}

    def curve(self, split: str = "test", metric: str = "frac_pred_pos") -> dict[int, float]:
        """Spread at every evaluated epoch (runs that stopped early hold their last value)."""
        return {e: self.spread(e, split, metric) for e in self.epochs()}


@dataclass(frozen=True)
class Check:
    """A machine-checkable statement about an outcome, and what was measured."""

    claim: str
    measure: Callable[[Outcome], tuple[bool, str]]

    def run(self, outcome: Outcome) -> tuple[bool, str]:
        return self.measure(outcome)


def _subset(outcome: Outcome, where: Mapping[str, Any] | None) -> Outcome:
    return outcome.where(**where) if where else outcome


def _label(where: Mapping[str, Any] | None) -> str:
    return f" ({', '.join(f'{k}={v}' for k, v in where.items())})" if where else ""


def spread_at_least(limit: float, epoch: int | str = "end", where=None, split="test", metric="frac_pred_pos") -> Check:
    def measure(o: Outcome) -> tuple[bool, str]:
        s = _subset(o, where).spread(epoch, split, metric)
        return s >= limit, f"{s:.3f}"

    return Check(f"spread of {split} {metric} at epoch {epoch} >= {limit}{_label(where)}", measure)


def spread_at_most(limit: float, epoch: int | str = "end", where=None, split="test", metric="frac_pred_pos") -> Check:
    def measure(o: Outcome) -> tuple[bool, str]:
        s = _subset(o, where).spread(epoch, split, metric)
        return s <= limit, f"{s:.3f}"

    return Check(f"spread of {split} {metric} at epoch {epoch} <= {limit}{_label(where)}", measure)


def spread_shrinks(ratio: float, where=None, start: int = 1) -> Check:
    def measure(o: Outcome) -> tuple[bool, str]:
        sub = _subset(o, where)
        first, end = sub.spread(start), sub.spread("end")
        return end <= ratio * first, f"{first:.3f} -> {end:.3f}"

    return Check(f"final spread <= {ratio} x the spread at epoch {start}{_label(where)}", measure)


def all_fit(min_acc: float, where=None) -> Check:
    def measure(o: Outcome) -> tuple[bool, str]:
        accs = [o.value(h, "end", "train", "acc") for _, h in _subset(o, where).runs]
        return min(accs) >= min_acc, f"min train acc {min(accs):.3f}"

    return Check(f"every model fits its training set (train acc >= {min_acc}){_label(where)}", measure)


def not_degenerate(min_acc: float = 0.75, where=None) -> Check:
    """Strong L2 can collapse a model into a constant classifier, which *looks* like a big spread."""

    def measure(o: Outcome) -> tuple[bool, str]:
        rows = [
            (o.value(h, "end", "train", "acc"), o.value(h, "end", "test", "frac_pred_pos"))
            for _, h in _subset(o, where).runs
        ]
        ok = all(acc >= min_acc and 0 < frac < 1 for acc, frac in rows)
        return (
            ok,
            f"min train acc {min(a for a, _ in rows):.3f}, frac_pred_pos in [{min(f for _, f in rows):.3f}, {max(f for _, f in rows):.3f}]",
        )

    return Check(f"no degenerate model (train acc >= {min_acc}, predicts both classes){_label(where)}", measure)


def ordered_by_weight(where=None, split="test", metric="frac_pred_pos") -> Check:
    """In every seed, a larger positive weight gives at least as many positive predictions at the end."""

    def measure(o: Outcome) -> tuple[bool, str]:
        per_seed: dict[int, list[tuple[float, float]]] = defaultdict(list)
        for spec, history in _subset(o, where).runs:
            per_seed[spec.seed].append((spec.pos_weight, o.value(history, "end", split, metric)))
        ordered = [all(a[1] <= b[1] for a, b in zip(rows, rows[1:])) for rows in (sorted(r) for r in per_seed.values())]
        return all(ordered), f"{sum(ordered)}/{len(ordered)} seeds ordered"

    return Check(f"final {split} {metric} increases with the weight in every seed{_label(where)}", measure)


def seed_spreads(
    o: Outcome, epoch: int | str = "end", split: str = "test", metric: str = "frac_pred_pos"
) -> dict[int, float]:
    """Per seed, the spread across weights of the metric: runs of one seed share initialisation and
    batch order, so each seed's spread is one paired measurement of the weights' effect."""
    per_seed: dict[int, list[float]] = defaultdict(list)
    for spec, history in o.runs:
        per_seed[spec.seed].append(o.value(history, epoch, split, metric))
    return {seed: spread(values) for seed, values in sorted(per_seed.items())}


def paired_shift(
    weight: float,
    direction: int,
    where=None,
    reference: float = 1.0,
    min_seeds: int = 3,
    split: str = "test",
    metric: str = "frac_pred_pos",
) -> Check:
    """A claim that compares arms, as a test: at the end, `weight` moves the metric away from the
    `reference` weight's in `direction` (+1 up, -1 down), paired within seeds. Met when the 95%
    t-interval of the paired differences, over at least `min_seeds` seeds, excludes 0 on that side."""
    from .stats import paired_by_weight, shown

    def measure(o: Outcome) -> tuple[bool, str]:
        p = paired_by_weight(_subset(o, where), "end", split, metric, reference).get(weight)
        if p is None or p.n < min_seeds:
            return False, f"{0 if p is None else p.n} paired seeds, fewer than {min_seeds}"
        ok = p.low > 0 if direction > 0 else p.high < 0
        return ok, shown(p)

    side = "above" if direction > 0 else "below"
    return Check(
        f"final {split} {metric} of w = {weight:g} minus w = {reference:g}, paired within seeds: 95% interval {side} 0{_label(where)}",
        measure,
    )


def compare(claim: str, left: Callable[[Outcome], float], op: str, right: Callable[[Outcome], float]) -> Check:
    """A free-form comparison of two measured numbers (e.g. poly keeps more effect than CE)."""

    def measure(o: Outcome) -> tuple[bool, str]:
        a, b = left(o), right(o)
        return (a > b if op == ">" else a < b), f"{a:.3f} {op} {b:.3f}"

    return Check(claim, measure)


def evaluate(checks: Sequence[Check], outcome: Outcome) -> list[tuple[str, bool, str]]:
    return [(c.claim, *c.run(outcome)) for c in checks]

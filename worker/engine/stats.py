"""Uncertainty of what a sweep measured: seed means with 95% t-intervals, and paired comparisons
between weights (pure functions over numbers and `Outcome`s; scipy.stats does the distributions).

Runs that share a seed share their initialisation and minibatch order whatever their weight
(train.py seeds both from `seed`), so two weights are compared within each seed: the paired
differences remove the seed-to-seed variation that an unpaired comparison would count as noise.
An interval needs n >= 2; with one seed it is missing (NaN here, an empty cell in summary.csv).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from scipy import stats

LEVEL = 0.95
REPEATS = ("seed", "data_seed")  # axes whose values are repeats of one setting, not settings


@dataclass(frozen=True)
class Interval:
    n: int
    mean: float
    low: float  # NaN when n < 2
    high: float


@dataclass(frozen=True)
class Paired:
    """Mean of b - a over n pairs, its 95% t-interval and the two-sided paired t-test's p-value."""

    n: int
    mean_diff: float
    low: float
    high: float
    p_value: float  # NaN when n < 2


class Measured(str):
    """A check's answer as text that also carries the numbers behind it where it rests on repeats:
    their count `n` and the 95% `interval` (the verdict the API serves shows them in their own
    columns). A plain str elsewhere: printed, joined, compared as the text."""

    n: int | None
    interval: tuple[float, float] | None

    def __new__(cls, text: str, n: int | None = None, interval: tuple[float, float] | None = None) -> Measured:
        out = super().__new__(cls, text)
        out.n, out.interval = n, interval
        return out


def shown(p: Paired, note: str = "") -> Measured:
    """A paired comparison, written one way everywhere: mean difference [95% interval], n, p-value."""
    text = f"{p.mean_diff:+.3f} [{p.low:+.3f}, {p.high:+.3f}], n = {p.n}, paired t-test p = {p.p_value:.2g}"
    return Measured(text + (f": {note}" if note else ""), p.n, (p.low, p.high))


def shown_mean(ci: Interval, what: str = "", note: str = "", of: str = "seeds") -> Measured:
    """A mean over repeats: [what ]mean [95% interval] (n = N seeds)[: note]."""
    text = f"{what + ' ' if what else ''}{ci.mean:.3f} [{ci.low:.3f}, {ci.high:.3f}] (n = {ci.n} {of})"
    return Measured(text + (f": {note}" if note else ""), ci.n, (ci.low, ci.high))


def metric_range(name: str) -> tuple[float, float]:
    """The values a metric can take, so that an interval never leaves them (a fraction stays in
    [0, 1]); unbounded metrics get (-inf, inf)."""
    if name.startswith(("frac_pred_", "acc", "balanced_acc", "intended_frac_pos", "worst_group_acc")):
        return 0.0, 1.0
    return {
        "offset": (-0.5, 0.5), "svm_cosine": (-1.0, 1.0), "svm_angle": (0.0, 90.0),
        "loss": (0.0, math.inf), "param_norm": (0.0, math.inf),
    }.get(name, (-math.inf, math.inf))  # fmt: skip


@lru_cache(maxsize=1024)
def _t(n: int) -> float:
    """The t quantile of a two-sided 95% interval with n - 1 degrees of freedom."""
    return float(stats.t.ppf(0.5 + LEVEL / 2, n - 1))


def _finite(values: Iterable[float]) -> list[float]:
    return [float(v) for v in values if not math.isnan(float(v))]


def mean_interval(values: Iterable[float], bounds: tuple[float, float] = (-math.inf, math.inf)) -> Interval:
    """Mean of the non-NaN values with its 95% t-interval, clipped to `bounds` (the mean itself is
    never clipped: it lies within the values' range already)."""
    xs = _finite(values)
    n = len(xs)
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan)
    m = math.fsum(xs) / n
    if n < 2:
        return Interval(1, m, math.nan, math.nan)
    sd = math.sqrt(math.fsum((x - m) ** 2 for x in xs) / (n - 1))
    half = _t(n) * sd / math.sqrt(n)
    lo, hi = bounds
    return Interval(n, m, max(lo, m - half), min(hi, m + half))


def paired(a: Sequence[float], b: Sequence[float]) -> Paired:
    """Paired comparison of two arms measured on the same n seeds (a[i] and b[i] share seed i):
    the mean difference b - a, its 95% t-interval and scipy's two-sided paired t-test. Pairs with a
    NaN on either side are dropped. All differences equal: the interval has width 0 and p is 1 if
    they are 0, else 0 (the t statistic is infinite; scipy would give NaN)."""
    if len(a) != len(b):
        raise ValueError(f"paired arms need the same seeds: {len(a)} vs {len(b)} values")
    pairs = [(x, y) for x, y in zip(a, b) if not (math.isnan(x) or math.isnan(y))]
    diffs = [y - x for x, y in pairs]
    ci = mean_interval(diffs)
    if ci.n < 2:
        return Paired(ci.n, ci.mean, math.nan, math.nan, math.nan)
    if ci.low == ci.high:
        return Paired(ci.n, ci.mean, ci.low, ci.high, 1.0 if ci.mean == 0 else 0.0)
    p = float(stats.ttest_rel([y for _, y in pairs], [x for x, _ in pairs]).pvalue)
    return Paired(ci.n, ci.mean, ci.low, ci.high, p)


def settings(spec, swept: Iterable[str]) -> tuple:
    """The values of the swept parameters other than the repeats: runs with equal settings are
    seeds of one arm."""
    return tuple(getattr(spec, name) for name in swept if name not in REPEATS)


def paired_by_weight(
    outcome, epoch: int | str = "end", split: str = "test", metric: str = "frac_pred_pos", reference: float = 1.0
) -> dict[float, Paired]:
    """Each weight against the `reference` weight (default: unweighted), paired within each
    (seed, data_seed) and every other setting the runs share: weight -> Paired(b = that weight,
    a = the reference). Weights without a partner at the reference weight are left out."""
    arms: dict[float, dict[str, float]] = {}
    for spec, history in outcome.runs:
        partner = json.dumps(
            {k: v for k, v in spec.model_dump(mode="json").items() if k != "pos_weight"}, sort_keys=True
        )
        arms.setdefault(spec.pos_weight, {})[partner] = outcome.value(history, epoch, split, metric)
    base = arms.get(reference, {})
    out = {}
    for w, values in sorted(arms.items()):
        keys = [k for k in values if k in base]
        if w != reference and keys:
            out[w] = paired([base[k] for k in keys], [values[k] for k in keys])
    return out


SUMMARY_COLUMNS = ("epoch", "split", "metric", "n", "mean", "ci_low", "ci_high")


def summary_rows(outcome, swept: Sequence[str]) -> list[dict]:
    """One row per arm (the swept parameters other than the repeats), evaluated epoch, split and
    metric: seed mean and its 95% interval, clipped to the metric's range. A run that stopped early
    holds its last value (as `Outcome.value` reads it); a metric a run did not record at an epoch
    (e.g. `normalised_margin` of an all-zero model) is not counted in that row's n."""
    names = [n for n in swept if n not in REPEATS]
    arms: dict[str, tuple[tuple, list]] = {}
    for spec, history in outcome.runs:
        arm = settings(spec, names)  # keyed by its JSON: a list (hidden) or dict (class_weights) is no dict key
        arms.setdefault(json.dumps(arm, sort_keys=True, default=str), (arm, []))[1].append(history)
    epochs = outcome.epochs()
    rows = []
    for arm, histories in arms.values():
        filled = [_carry_forward(h, epochs) for h in histories]
        for e in epochs:
            keys = sorted({(split, metric) for h in filled for split, values in h[e].items() for metric in values})
            for split, metric in keys:
                ci = mean_interval((h[e].get(split, {}).get(metric, math.nan) for h in filled), metric_range(metric))
                rows.append(dict(zip(names, arm)) | {
                    "epoch": e, "split": split, "metric": metric, "n": ci.n, "mean": ci.mean, "ci_low": ci.low, "ci_high": ci.high,
                })  # fmt: skip
    return rows


def _carry_forward(history: dict, epochs: Sequence[int]) -> dict:
    """history at every epoch of `epochs`: an epoch the run did not evaluate gets its last earlier
    evaluation (the first one before it started)."""
    out, last = {}, history[min(history)]
    for e in epochs:
        last = history.get(e, last)
        out[e] = last
    return out

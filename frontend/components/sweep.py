"""How an experiment's runs group: one group per combination of swept parameters other than the seed.

With the usual sweep (`pos_weight` x `seed`) a group is one importance weight, and its runs are
the seeds that get averaged.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from scipy import stats

SEED = "seed"
SHORT = {
    "pos_weight": "w",
    "weight_decay": "wd",
    "batch_size": "batch",
    "loss_norm": "norm",
    "class_weights": "weights",
}


def varying_params(runs: Iterable[dict]) -> list[str]:
    """Run parameters whose value differs between runs, `pos_weight` first, `seed` excluded."""
    runs = list(runs)
    if not runs:
        return []
    names = []
    for name in runs[0]["params"]:
        values = {repr(r["params"].get(name)) for r in runs}
        if len(values) > 1 and name != SEED:
            names.append(name)
    return sorted(names, key=lambda n: (n != "pos_weight", n))


def hashable(value: Any) -> Any:
    """A parameter value as a group key: a swept `class_weights` dict or a `hidden` list is not
    hashable as it comes from the API."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, hashable(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("list", tuple(hashable(v) for v in value))
    return value


def group_key(run: dict, varying: list[str]) -> tuple:
    return tuple(hashable(run["params"].get(n)) for n in varying)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    if isinstance(value, dict):  # class_weights: the classes it names; the others keep weight 1
        return " ".join(f"{k}:{_fmt(float(v))}" for k, v in value.items()) if value else "all 1"
    return str(value)


def group_label(values: tuple, varying: list[str]) -> str:
    """`values`: the parameters as a run holds them (not their `group_key`)."""
    if not varying:
        return "all runs"
    return ", ".join(f"{SHORT.get(n, n)} = {_fmt(v)}" for n, v in zip(varying, values))


def params_of(run: dict, names: list[str]) -> tuple:
    return tuple(run["params"].get(n) for n in names)


def _sorter(runs: list[dict], names: list[str]):
    """Sort keys for `group_key` tuples: numbers ascending, any other value (a loss, a class_weights
    dict, a scheme) in the order the sweep lists it (its first run's index)."""
    first: dict[tuple, int] = {}
    for run in sorted(runs, key=lambda r: r["index"]):
        for n in names:
            first.setdefault((n, hashable(run["params"].get(n))), len(first))

    def key(values: tuple) -> tuple:
        return tuple(
            (0, v, 0) if isinstance(v, (int, float)) else (1, 0, first.get((n, v), len(first)))
            for n, v in zip(names, values)
        )

    return key


def groups(runs: list[dict]) -> list[dict]:
    """[{key, label, runs: [...]}] in sweep order (numeric values ascending), runs sorted by seed."""
    varying = varying_params(runs)
    by_key: dict[tuple, list[dict]] = defaultdict(list)
    for run in runs:
        by_key[group_key(run, varying)].append(run)
    out = []
    for key in sorted(by_key, key=_sorter(runs, varying)):
        members = sorted(by_key[key], key=lambda r: (r["params"].get(SEED, 0), r["index"]))
        out.append({"key": key, "label": group_label(params_of(members[0], varying), varying), "runs": members})
    return out


def seeds(runs: list[dict]) -> list[int]:
    return sorted({r["params"].get(SEED, 0) for r in runs})


def aggregate(
    rows: Iterable[dict], run_group: dict[int, int], bounds: tuple[float, float] | None = (0.0, 1.0)
) -> dict[int, dict[str, list]]:
    """Seed mean, sample sd and the mean's 95% t-interval over the runs of each group, per epoch.

    `rows` are metric rows ({run_id, epoch, value}); `run_group` maps a run id to its group index.
    Returns {group: {"epoch", "mean", "sd", "n", "lo", "hi"}}, epochs ascending; sd is 0 where
    n == 1, and the interval missing (None): one seed gives no interval. The interval is clipped to
    `bounds`, the metric's range ([0, 1] for fractions and accuracies; None: unbounded).
    """
    values: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        g = run_group.get(row["run_id"])
        value = row["value"]
        if g is None or value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        values[g][row["epoch"]].append(float(value))
    out: dict[int, dict[str, list[Any]]] = {}
    for g, per_epoch in values.items():
        epochs = sorted(per_epoch)
        means = [statistics.fmean(per_epoch[e]) for e in epochs]
        sds = [statistics.stdev(per_epoch[e]) if len(per_epoch[e]) > 1 else 0.0 for e in epochs]
        ns = [len(per_epoch[e]) for e in epochs]
        intervals = [t_interval(m, sd, n, bounds) for m, sd, n in zip(means, sds, ns)]
        out[g] = {
            "epoch": epochs,
            "mean": means,
            "sd": sds,
            "n": ns,
            "lo": [i[0] for i in intervals],
            "hi": [i[1] for i in intervals],
        }
    return out


def t_interval(mean: float, sd: float, n: int, bounds: tuple[float, float] | None) -> tuple[float | None, float | None]:
    """The 95% t-interval of a mean of n seeds, clipped to the metric's range; (None, None) for n < 2."""
    if n < 2:
        return None, None
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    lo, hi = mean - half, mean + half
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return lo, hi


def slices(runs: list[dict]) -> list[dict]:
    """With a second swept axis beside the weight (weight decay, a loss, ...): its values, each a
    slice of the experiment that the page shows across the weights, one at a time ([] otherwise).
    Each is {"label", "params"}: the other swept parameters' values, in sweep order."""
    varying = varying_params(runs)
    others = [n for n in varying if n != "pos_weight"]
    if "pos_weight" not in varying or not others:
        return []
    first = {group_key(r, others): r for r in reversed(runs)}  # a run of each slice, the first in order
    return [
        {
            "label": group_label(params_of(first[k], others), others),
            "params": dict(zip(others, params_of(first[k], others))),
        }
        for k in sorted(first, key=_sorter(runs, others))
    ]


def in_slice(runs: list[dict], params: dict | None) -> list[dict]:
    if not params:
        return runs
    return [r for r in runs if all(hashable(r["params"].get(k)) == hashable(v) for k, v in params.items())]

"""What the experiment view reads off API metric rows besides the mean curves: when the runs fit
their training set, how far apart the weights are (spread) and what each weight was meant to do.
Pure: rows in, plain dicts out."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable

from . import sweep

WEIGHT = "pos_weight"
INTENDED = "intended_frac_pos@"


def median_fit_epoch(fits: dict[int, int | None]) -> int | None:
    """The epoch by which half the runs fit their training set (`fits`: run id -> the API's
    `fit_epoch`, None while a run has not); None until half of them have."""
    epochs = sorted(e for e in fits.values() if e is not None)
    if not fits or len(epochs) * 2 < len(fits):
        return None
    return epochs[(len(fits) - 1) // 2]  # the lower median over all runs, the unfit ones counted as last


def spread(values: Iterable[float]) -> float:
    """max - min, ignoring NaN (as the engine's `outcome.spread`, which the frontend cannot import)."""
    finite = [v for v in values if not math.isnan(v)]
    return max(finite) - min(finite) if finite else math.nan


def spread_curves(runs: list[dict], stats: dict[int, dict]) -> list[dict]:
    """Spread across weights of the seed-mean curve, per epoch, for each setting of the other swept
    parameters. `stats` is `sweep.aggregate` output keyed by the index of `sweep.groups(runs)`."""
    groups = sweep.groups(runs)
    varying = sweep.varying_params(runs)
    others = [n for n in varying if n != WEIGHT]
    by_setting: dict[tuple, list[int]] = defaultdict(list)
    for gi, group in enumerate(groups):
        by_setting[tuple(group["runs"][0]["params"].get(n) for n in others)].append(gi)
    out = []
    for key, members in by_setting.items():
        if len(members) < 2:
            continue  # one weight: nothing to spread
        values: dict[int, list[float]] = defaultdict(list)
        for gi in members:
            s = stats.get(gi, {"epoch": [], "mean": []})
            for e, m in zip(s["epoch"], s["mean"]):
                values[e].append(m)
        epochs = sorted(e for e, v in values.items() if len(v) == len(members))  # every weight reported
        out.append({"label": sweep.group_label(key, others) if others else "across weights", "epoch": epochs, "value": [spread(values[e]) for e in epochs]})
    return out


def realised_vs_intended(runs: list[dict], final: Iterable[dict], intended: Iterable[dict]) -> list[dict]:
    """Per weight: the realised seed-mean fraction predicted positive (`final`: test frac_pred_pos
    rows at one epoch) and the intended one, log w added to the unweighted runs' positive logit
    (`intended`: their `intended_frac_pos@w` rows at that epoch). Weights without either are left out."""
    weight_of = {r["id"]: r["params"].get(WEIGHT) for r in runs}
    realised: dict[float, list[float]] = defaultdict(list)
    for row in final:
        if weight_of.get(row["run_id"]) is not None and not math.isnan(row["value"]):
            realised[float(weight_of[row["run_id"]])].append(row["value"])
    meant: dict[float, list[float]] = defaultdict(list)
    for row in intended:
        if row["metric"].startswith(INTENDED) and not math.isnan(row["value"]):
            meant[float(row["metric"][len(INTENDED):])].append(row["value"])
    return [
        {"weight": w, "realised": statistics.fmean(realised[w]), "intended": statistics.fmean(meant[w])}
        for w in sorted(realised)
        if meant.get(w)
    ]

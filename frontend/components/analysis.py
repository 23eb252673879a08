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
# the axes a spread is taken across: the positive-class weight, or per-class weights (K > 2)
WEIGHT_AXES = (WEIGHT, "class_weights")
INTENDED = "intended_frac_pos@"
# what a weight is meant to do, best first (worker/engine/outcome.REFERENCES, which the dashboard
# cannot import; tests/frontend/test_analysis.py holds the two equal): metric prefix -> what it is
REFERENCE_NAMES = {
    "bayes_frac_pos": "the weighted Bayes decision (exact: the data's densities are known)",
    "calibrated_frac_pos": "log w added to the temperature-calibrated unweighted model (T fitted on the test labels)",
    "intended_frac_pos": "log w added to the raw unweighted model (collapses once it interpolates)",
}
# why the chosen reference may lack a value at an epoch (docs/readouts.md)
REFERENCE_GAPS = {
    "calibrated_frac_pos": "the unweighted model classifies every test point correctly, so no finite temperature fits",
}


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
    others = [n for n in varying if n not in WEIGHT_AXES]
    by_setting: dict[tuple, list[int]] = defaultdict(list)
    for gi, group in enumerate(groups):
        by_setting[sweep.group_key(group["runs"][0], others)].append(gi)
    out = []
    for members in by_setting.values():
        if len(members) < 2:
            continue  # one weight: nothing to spread
        values: dict[int, list[float]] = defaultdict(list)
        for gi in members:
            s = stats.get(gi, {"epoch": [], "mean": []})
            for e, m in zip(s["epoch"], s["mean"]):
                values[e].append(m)
        epochs = sorted(e for e, v in values.items() if len(v) == len(members))  # every weight reported
        out.append(
            {
                "label": sweep.group_label(sweep.params_of(groups[members[0]]["runs"][0], others), others)
                if others
                else "across weights",
                "epoch": epochs,
                "value": [spread(values[e]) for e in epochs],
            }
        )
    return out


def pick_reference(metric_names: Iterable[str]) -> str | None:
    """The best reference the unweighted runs recorded at any epoch (None: none did). Chosen once
    per experiment, so an epoch where it is missing shows a gap, not a reference that collapses."""
    names = set(metric_names)
    return next((p for p in REFERENCE_NAMES if any(n.startswith(p + "@") for n in names)), None)


def realised_vs_intended(
    runs: list[dict], final: Iterable[dict], intended: Iterable[dict], reference: str = "intended_frac_pos"
) -> list[dict]:
    """Per weight: the realised seed-mean fraction predicted positive (`final`: test frac_pred_pos
    rows at one epoch) and the intended one by `reference` (`intended`: the unweighted runs'
    `<reference>@w` rows at that epoch; None where no seed recorded it), each with its n and 95%
    interval (`<name>_n`, `<name>_lo`, `<name>_hi`).
    Weights not yet realised are left out."""
    weight_of = {r["id"]: r["params"].get(WEIGHT) for r in runs}
    realised: dict[float, list[float]] = defaultdict(list)
    for row in final:
        if weight_of.get(row["run_id"]) is not None and not math.isnan(row["value"]):
            realised[float(weight_of[row["run_id"]])].append(row["value"])
    prefix = reference + "@"
    meant: dict[float, list[float]] = defaultdict(list)
    for row in intended:
        if row["metric"].startswith(prefix) and not math.isnan(row["value"]):
            meant[float(row["metric"][len(prefix) :])].append(row["value"])
    out = []
    for w in sorted(realised):
        point = {"weight": w, **_seed_mean("realised", realised[w])}
        point |= (
            _seed_mean("intended", meant[w])
            if meant.get(w)
            else {"intended": None, "intended_n": 0, "intended_lo": None, "intended_hi": None}
        )
        out.append(point)
    return out


def _seed_mean(name: str, values: list[float]) -> dict:
    """The seed mean, n and 95% t-interval (clipped to [0, 1]: fractions), keyed by `name`."""
    mean, n = statistics.fmean(values), len(values)
    lo, hi = sweep.t_interval(mean, statistics.stdev(values) if n > 1 else 0.0, n, (0.0, 1.0))
    return {name: mean, f"{name}_n": n, f"{name}_lo": lo, f"{name}_hi": hi}


def effect_by_epoch(runs: list[dict], realised_rows: Iterable[dict], reference_rows: Iterable[dict]) -> dict:
    """Realised vs intended at every epoch with a realised value, for the panel to follow the epoch
    slider (and training: each epoch holds the runs that have reached it). `realised_rows`: test
    frac_pred_pos rows; `reference_rows`: the unweighted runs' reference rows at every epoch (not
    thinned), so an epoch where an unweighted run has a realised row but no reference is a gap in
    the reference, not one the run has not reached.
    Returns {"reference": the prefix shown or None, "epochs": [...], "points": [per epoch]}."""
    reference_rows = list(reference_rows)
    reference = pick_reference(r["metric"] for r in reference_rows)
    unweighted = {r["id"] for r in runs if r["params"].get(WEIGHT) == 1.0}
    realised: dict[int, list[dict]] = defaultdict(list)
    recorded = set()  # epochs an unweighted run has reached (and the thinned curves kept)
    for row in realised_rows:
        realised[row["epoch"]].append(row)
        if row["run_id"] in unweighted:
            recorded.add(row["epoch"])
    meant: dict[int, list[dict]] = defaultdict(list)
    for row in reference_rows:
        if reference is not None and row["metric"].startswith(reference + "@"):
            meant[row["epoch"]].append(row)
    epochs = sorted(e for e in realised if not recorded or e in recorded)
    points = [
        realised_vs_intended(runs, realised[e], meant.get(e, []), reference or "intended_frac_pos") for e in epochs
    ]
    keep = [i for i, p in enumerate(points) if p]
    return {"reference": reference, "epochs": [epochs[i] for i in keep], "points": [points[i] for i in keep]}


def effect_at(effect: dict | None, epoch: int | None) -> tuple[int | None, list[dict]]:
    """(the epoch shown, its points): the latest epoch with a realised value at or before `epoch`
    (the last one when `epoch` is None)."""
    effect = effect or {}
    epochs = effect.get("epochs") or []
    if not epochs:
        return None, []
    at = [i for i, e in enumerate(epochs) if epoch is None or e <= epoch]
    i = at[-1] if at else 0
    return epochs[i], effect["points"][i]

"""Spread across weights, the fit epoch and realised vs intended effect, from hand-made API rows."""

import math

import pytest

from frontend.components import sweep
from frontend.components.analysis import median_fit_epoch, realised_vs_intended, spread_curves

from .conftest import make_run


def rows_for(values: dict[int, list[float]]) -> list[dict]:
    """{run_id: value per epoch} -> tidy rows."""
    return [{"run_id": rid, "epoch": e, "split": "test", "metric": "frac_pred_pos", "value": v} for rid, vs in values.items() for e, v in enumerate(vs)]


def test_spread_is_max_minus_min_of_the_seed_means_per_epoch(runs):
    # runs 1..6: w=10 (seeds 0, 1), w=0.1, w=1; groups are sorted by weight: 0.1, 1, 10
    values = {1: [0.9, 0.8], 2: [0.7, 0.6], 3: [0.1, 0.5], 4: [0.3, 0.5], 5: [0.5, 0.5], 6: [0.5, 0.5]}
    groups = sweep.groups(runs)
    stats = sweep.aggregate(rows_for(values), {r["id"]: gi for gi, g in enumerate(groups) for r in g["runs"]})
    (curve,) = spread_curves(runs, stats)
    assert curve["epoch"] == [0, 1]
    assert curve["value"] == pytest.approx([0.8 - 0.2, 0.7 - 0.5])


def test_spread_is_per_setting_of_the_other_swept_parameters():
    runs = [make_run(i + 1, i, w, 0, weight_decay=wd) for i, (w, wd) in enumerate([(0.1, 0.0), (10.0, 0.0), (0.1, 0.2), (10.0, 0.2)])]
    groups = sweep.groups(runs)
    stats = sweep.aggregate(rows_for({1: [0.1], 2: [0.9], 3: [0.4], 4: [0.6]}), {r["id"]: gi for gi, g in enumerate(groups) for r in g["runs"]})
    curves = {c["label"]: c["value"] for c in spread_curves(runs, stats)}
    assert curves == {"wd = 0": pytest.approx([0.8]), "wd = 0.2": pytest.approx([0.2])}


def test_spread_waits_for_every_weight_and_needs_two():
    runs = [make_run(1, 0, 0.1, 0), make_run(2, 1, 10.0, 0)]
    groups = sweep.groups(runs)
    stats = sweep.aggregate(rows_for({1: [0.1, 0.2], 2: [0.9]}), {r["id"]: gi for gi, g in enumerate(groups) for r in g["runs"]})
    assert spread_curves(runs, stats)[0]["epoch"] == [0]
    assert spread_curves(runs[:1], {}) == []


def test_median_fit_epoch_counts_unfit_runs_as_late():
    assert median_fit_epoch({1: 5, 2: 9, 3: 7}) == 7
    assert median_fit_epoch({1: 5, 2: 9, 3: None, 4: 7}) == 7
    assert median_fit_epoch({1: 5, 2: None, 3: None}) is None
    assert median_fit_epoch({}) is None


def test_realised_vs_intended_pairs_each_weight_with_the_unweighted_runs_shift(runs):
    final = [{"run_id": rid, "epoch": 9, "value": v} for rid, v in {1: 0.6, 2: 0.4, 3: 0.5, 4: 0.5, 5: 0.45, 6: 0.55}.items()]
    intended = [{"run_id": rid, "epoch": 9, "metric": f"intended_frac_pos@{w:g}", "value": v}
                for rid, shift in ((5, 0.0), (6, 0.1)) for w, v in ((0.1, 0.1 + shift), (1.0, 0.5), (10.0, 0.9 - shift))]  # fmt: skip
    intended.append({"run_id": 5, "epoch": 9, "metric": "acc", "value": 0.99})
    points = realised_vs_intended(runs, final, intended)
    assert [p["weight"] for p in points] == [0.1, 1.0, 10.0]
    assert [p["realised"] for p in points] == pytest.approx([0.5, 0.5, 0.5])
    assert [p["intended"] for p in points] == pytest.approx([0.15, 0.5, 0.85])
    assert realised_vs_intended(runs, final, []) == []
    nan = [r | {"value": math.nan} for r in final]
    assert realised_vs_intended(runs, nan, intended) == []

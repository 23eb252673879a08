"""Spread across weights, the fit epoch and realised vs intended effect, from hand-made API rows."""

import math

import pytest

from frontend.components import sweep
from frontend.components.analysis import (
    REFERENCE_NAMES,
    effect_at,
    effect_by_epoch,
    median_fit_epoch,
    pick_reference,
    realised_vs_intended,
    spread_curves,
)

from .conftest import make_run


def rows_for(values: dict[int, list[float]]) -> list[dict]:
    """{run_id: value per epoch} -> tidy rows."""
    return [
        {"run_id": rid, "epoch": e, "split": "test", "metric": "frac_pred_pos", "value": v}
        for rid, vs in values.items()
        for e, v in enumerate(vs)
    ]


def test_spread_is_max_minus_min_of_the_seed_means_per_epoch(runs):
    # runs 1..6: w=10 (seeds 0, 1), w=0.1, w=1; groups are sorted by weight: 0.1, 1, 10
    values = {1: [0.9, 0.8], 2: [0.7, 0.6], 3: [0.1, 0.5], 4: [0.3, 0.5], 5: [0.5, 0.5], 6: [0.5, 0.5]}
    groups = sweep.groups(runs)
    stats = sweep.aggregate(rows_for(values), {r["id"]: gi for gi, g in enumerate(groups) for r in g["runs"]})
    (curve,) = spread_curves(runs, stats)
    assert curve["epoch"] == [0, 1]
    assert curve["value"] == pytest.approx([0.8 - 0.2, 0.7 - 0.5])


def test_spread_is_per_setting_of_the_other_swept_parameters():
    runs = [
        make_run(i + 1, i, w, 0, weight_decay=wd)
        for i, (w, wd) in enumerate([(0.1, 0.0), (10.0, 0.0), (0.1, 0.2), (10.0, 0.2)])
    ]
    groups = sweep.groups(runs)
    stats = sweep.aggregate(
        rows_for({1: [0.1], 2: [0.9], 3: [0.4], 4: [0.6]}),
        {r["id"]: gi for gi, g in enumerate(groups) for r in g["runs"]},
    )
    curves = {c["label"]: c["value"] for c in spread_curves(runs, stats)}
    assert curves == {"wd = 0": pytest.approx([0.8]), "wd = 0.2": pytest.approx([0.2])}


def test_spread_waits_for_every_weight_and_needs_two():
    runs = [make_run(1, 0, 0.1, 0), make_run(2, 1, 10.0, 0)]
    groups = sweep.groups(runs)
    stats = sweep.aggregate(
        rows_for({1: [0.1, 0.2], 2: [0.9]}), {r["id"]: gi for gi, g in enumerate(groups) for r in g["runs"]}
    )
    assert spread_curves(runs, stats)[0]["epoch"] == [0]
    assert spread_curves(runs[:1], {}) == []


def test_median_fit_epoch_counts_unfit_runs_as_late():
    assert median_fit_epoch({1: 5, 2: 9, 3: 7}) == 7
    assert median_fit_epoch({1: 5, 2: 9, 3: None, 4: 7}) == 7
    assert median_fit_epoch({1: 5, 2: None, 3: None}) is None
    assert median_fit_epoch({}) is None


def test_realised_vs_intended_pairs_each_weight_with_the_unweighted_runs_shift(runs):
    final = [
        {"run_id": rid, "epoch": 9, "value": v} for rid, v in {1: 0.6, 2: 0.4, 3: 0.5, 4: 0.5, 5: 0.45, 6: 0.55}.items()
    ]
    intended = [{"run_id": rid, "epoch": 9, "metric": f"intended_frac_pos@{w:g}", "value": v}
                for rid, shift in ((5, 0.0), (6, 0.1)) for w, v in ((0.1, 0.1 + shift), (1.0, 0.5), (10.0, 0.9 - shift))]  # fmt: skip
    intended.append({"run_id": 5, "epoch": 9, "metric": "acc", "value": 0.99})
    points = realised_vs_intended(runs, final, intended)
    assert [p["weight"] for p in points] == [0.1, 1.0, 10.0]
    assert [p["realised"] for p in points] == pytest.approx([0.5, 0.5, 0.5])
    assert [p["intended"] for p in points] == pytest.approx([0.15, 0.5, 0.85])
    assert [p["intended_n"] for p in points] == [2, 2, 2] and [p["realised_n"] for p in points] == [2, 2, 2]
    # w = 0.1: intended 0.1 and 0.2 -> mean 0.15 +- t(0.975, 1) * sd / sqrt(2) = 12.706 * 0.0707 / 1.414
    assert points[0]["intended_lo"] == pytest.approx(0.0) and points[0]["intended_hi"] == pytest.approx(
        0.15 + 12.7062 * 0.05, abs=1e-3
    )
    no_reference = realised_vs_intended(runs, final, [])
    assert [p["intended"] for p in no_reference] == [None] * 3, (
        "realised weights stay; the missing reference is None, not dropped"
    )
    nan = [r | {"value": math.nan} for r in final]
    assert realised_vs_intended(runs, nan, intended) == []


def test_the_reference_that_does_not_collapse_is_picked_bayes_then_calibrated_then_raw():
    from worker.engine.outcome import REFERENCES

    assert tuple(REFERENCE_NAMES) == REFERENCES, "the dashboard ranks the references as the engine does"
    assert (
        pick_reference(["acc", "intended_frac_pos@10", "calibrated_frac_pos@10", "bayes_frac_pos@0.1"])
        == "bayes_frac_pos"
    )
    assert pick_reference(["intended_frac_pos@10", "calibrated_frac_pos@0.25"]) == "calibrated_frac_pos"
    assert pick_reference(["intended_frac_pos@10", "frac_pred_pos"]) == "intended_frac_pos"
    assert pick_reference(["frac_pred_pos", "bayes_frac_posterior"]) is None


def reference_rows(run_id: int, epoch: int, metrics: dict[str, float]) -> list[dict]:
    return [{"run_id": run_id, "epoch": epoch, "split": "test", "metric": m, "value": v} for m, v in metrics.items()]


def test_effect_follows_the_epoch_and_keeps_one_reference_with_its_gaps(runs):
    # runs 1..6: w=10 (ids 1, 2), w=0.1 (3, 4), w=1 (5, 6). Epoch 3: the weighted runs are still training
    realised = rows_for(
        {
            1: [0.5, 0.9, 0.8],
            2: [0.5, 0.7, 0.6],
            3: [0.5, 0.1],
            4: [0.5, 0.3],
            5: [0.5, 0.5, 0.5, 0.5],
            6: [0.5, 0.5, 0.5, 0.5],
        }
    )
    ref = []
    for rid in (5, 6):
        ref += reference_rows(
            rid,
            0,
            {
                "frac_pred_pos": 0.5,
                "calibrated_frac_pos@10": 0.7,
                "intended_frac_pos@10": 0.9,
                "intended_frac_pos@0.1": 0.1,
            },
        )
        ref += reference_rows(
            rid,
            1,
            {"frac_pred_pos": 0.5, "calibrated_frac_pos@10": 0.6 if rid == 5 else 0.8, "intended_frac_pos@10": 0.9},
        )
        ref += reference_rows(
            rid, 2, {"frac_pred_pos": 0.5, "intended_frac_pos@10": 0.5}
        )  # calibrated left out: the model interpolates
        ref += reference_rows(rid, 3, {"frac_pred_pos": 0.5})
    effect = effect_by_epoch(runs, realised, ref)
    assert effect["reference"] == "calibrated_frac_pos" and effect["epochs"] == [0, 1, 2, 3]
    at, points = effect_at(effect, 1)
    assert at == 1 and [p["weight"] for p in points] == [0.1, 1.0, 10.0]
    assert [p["realised"] for p in points] == pytest.approx([0.2, 0.5, 0.8])
    assert [p["intended"] for p in points] == [None, None, pytest.approx(0.7)] and points[2]["intended_n"] == 2
    at, points = effect_at(effect, 2)
    assert at == 2 and [p["intended"] for p in points] == [None] * 2, "no fallback to the raw shift, which collapsed"
    at, points = effect_at(effect, 3)
    assert at == 3 and [p["weight"] for p in points] == [1.0], "a weight that has not reached the epoch is left out"
    assert effect_at(effect, None)[0] == 3 and effect_at(effect, 99)[0] == 3 and effect_at({}, 5) == (None, [])
    # an epoch the unweighted runs have no realised row at (not reached, or thinned away) is not shown as a gap
    behind = [r for r in realised if not (r["run_id"] in (5, 6) and r["epoch"] == 1)]
    assert effect_by_epoch(runs, behind, ref)["epochs"] == [0, 2, 3]
    assert effect_by_epoch(runs, [r for r in realised if r["run_id"] not in (5, 6)], [])["epochs"] == [0, 1, 2], (
        "no unweighted run: realised only"
    )
    assert effect_by_epoch(runs, realised, [])["reference"] is None


def test_effect_figure_names_its_reference_states_n_and_says_why_a_value_is_missing():
    from frontend.components.figures import effect_figure

    points = [
        {
            "weight": 0.1,
            "realised": 0.3,
            "realised_n": 3,
            "realised_lo": 0.2,
            "realised_hi": 0.4,
            "intended": None,
            "intended_n": 0,
        },
        {
            "weight": 10.0,
            "realised": 0.8,
            "realised_n": 3,
            "realised_lo": 0.75,
            "realised_hi": 0.85,
            "intended": None,
            "intended_n": 0,
        },
    ]
    name = REFERENCE_NAMES["calibrated_frac_pos"]
    fig = effect_figure(points, 40, name, "no finite temperature fits")
    assert fig.layout.title.subtitle.text == "intended: " + name.replace(" (", "<br>(", 1)
    realised = next(t for t in fig.data if t.meta["role"] == "realised")
    assert realised.name == "realised (trained with the weight, n = 3)"
    assert list(realised.error_y.array) == pytest.approx([0.1, 0.05]) and list(
        realised.error_y.arrayminus
    ) == pytest.approx([0.1, 0.05])
    assert "intended not recorded at epoch 40" in fig.layout.annotations[0].text
    shown = effect_figure(
        [p | {"intended": 0.5, "intended_n": 1} for p in points], 40, name, "no finite temperature fits"
    )
    assert (
        not shown.layout.annotations
        and next(t for t in shown.data if t.meta["role"] == "intended").name == "intended, n = 1"
    )

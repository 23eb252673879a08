"""Grouping runs by sweep value and averaging over seeds."""

import math

import pytest

from frontend.components import sweep

from .conftest import make_run


def test_groups_one_per_weight_in_numeric_order_seeds_inside(runs):
    groups = sweep.groups(runs)
    assert [g["label"] for g in groups] == ["w = 0.1", "w = 1", "w = 10"]
    assert [[r["params"]["seed"] for r in g["runs"]] for g in groups] == [[0, 1]] * 3
    assert sweep.seeds(runs) == [0, 1]


def test_other_swept_parameters_join_the_group_label():
    runs = [make_run(i + 1, i, w, 0, lr=lr) for i, (w, lr) in enumerate([(1.0, 0.1), (1.0, 0.01), (10.0, 0.1)])]
    assert sweep.varying_params(runs) == ["pos_weight", "lr"]
    assert [g["label"] for g in sweep.groups(runs)] == ["w = 1, lr = 0.01", "w = 1, lr = 0.1", "w = 10, lr = 0.1"]


def test_single_run_is_one_group():
    assert [g["label"] for g in sweep.groups([make_run(1, 0, 1.0, 0)])] == ["all runs"]


def test_aggregate_mean_and_sample_sd_over_seeds():
    rows = [
        {"run_id": 1, "epoch": 0, "value": 0.2},
        {"run_id": 2, "epoch": 0, "value": 0.4},
        {"run_id": 1, "epoch": 1, "value": 0.5},
        {"run_id": 2, "epoch": 1, "value": 0.9},
        {"run_id": 3, "epoch": 0, "value": 0.7},  # a group with one seed
        {"run_id": 99, "epoch": 0, "value": 1.0},  # not in this experiment: ignored
    ]
    stats = sweep.aggregate(rows, {1: 0, 2: 0, 3: 1})
    assert stats[0]["epoch"] == [0, 1]
    assert stats[0]["mean"] == pytest.approx([0.3, 0.7])
    assert stats[0]["sd"] == pytest.approx([math.sqrt(0.02), math.sqrt(0.08)])  # ddof=1
    assert stats[0]["n"] == [2, 2]
    assert stats[1] == {"epoch": [0], "mean": [0.7], "sd": [0.0], "n": [1], "lo": [None], "hi": [None]}
    assert set(stats) == {0, 1}


def test_aggregate_uses_the_seeds_that_reached_an_epoch():
    rows = [
        {"run_id": 1, "epoch": 0, "value": 0.0},
        {"run_id": 2, "epoch": 0, "value": 1.0},
        {"run_id": 1, "epoch": 1, "value": 0.25},
    ]
    stats = sweep.aggregate(rows, {1: 0, 2: 0})[0]
    assert stats["mean"] == pytest.approx([0.5, 0.25]) and stats["n"] == [2, 1] and stats["sd"][1] == 0.0


def test_the_report_averages_seeds_with_the_same_helper_as_the_live_view():
    import pytest

    from backend.cli.report import weight_curves
    from worker.engine.outcome import Outcome
    from worker.engine.spec import RunSpec

    outcome = Outcome()
    for w, seed, values in ((10.0, 0, [0.2, 0.4]), (10.0, 1, [0.4, 0.8]), (0.1, 0, [0.6, float("nan")])):
        outcome.add(RunSpec(pos_weight=w, seed=seed), {e: {"test": {"frac_pred_pos": v}} for e, v in enumerate(values)})
    low, high = weight_curves(outcome, "test")
    assert (low["label"], high["label"]) == ("w = 0.1", "w = 10")
    assert high["epoch"] == [0, 1] and high["mean"] == pytest.approx([0.3, 0.6]) and high["n"] == [2, 2]
    assert high["sd"] == pytest.approx([2**0.5 * 0.1, 2**0.5 * 0.2])
    assert low["epoch"] == [0] and low["sd"] == [0.0], "a NaN epoch is left out, not averaged in"


def test_the_band_is_the_seed_means_95_percent_t_interval_clipped_to_the_metrics_range():
    rows = [{"run_id": r, "epoch": 5, "value": v} for r, v in ((1, 0.2), (2, 0.4), (3, 0.6), (4, 0.9))]
    three = sweep.aggregate(rows, {1: 0, 2: 0, 3: 0, 4: 1})
    half = 4.302652729911275 * 0.2 / math.sqrt(3)  # t(0.975, 2 df) x sd / sqrt(n)
    assert three[0]["lo"] == [0.0] and three[0]["hi"] == pytest.approx([0.4 + half])  # 0.4 - half < 0: clipped
    assert three[1]["lo"] == [None] and three[1]["hi"] == [None]  # one seed: no interval
    free = sweep.aggregate(rows, {1: 0, 2: 0, 3: 0}, bounds=None)[0]
    assert free["lo"] == pytest.approx([0.4 - half])


def run_with(i: int, **params) -> dict:
    return {"id": i, "index": i, "status": "succeeded", "params": {"seed": 0, **params}}


def test_a_second_axis_makes_slices_across_the_weights():
    runs = [
        run_with(i, pos_weight=w, weight_decay=wd)
        for i, (wd, w) in enumerate((wd, w) for wd in (1e-3, 0.0) for w in (16.0, 1.0))
    ]
    slices = sweep.slices(runs)
    assert [s["label"] for s in slices] == ["wd = 0", "wd = 0.001"]
    light = sweep.in_slice(runs, slices[0]["params"])
    assert sorted(r["params"]["pos_weight"] for r in light) == [1.0, 16.0] and {
        r["params"]["weight_decay"] for r in light
    } == {0.0}
    assert sweep.slices([run_with(0, pos_weight=1.0), run_with(1, pos_weight=2.0)]) == []  # the weight alone: no slices
    assert (
        sweep.slices([run_with(0, pos_weight=1.0, loss="ce"), run_with(1, pos_weight=1.0, loss="poly")]) == []
    )  # no weight axis


def test_weight_colours_follow_log_w():
    from frontend.components.style import weight_colors

    colours = weight_colors([1 / 16, 1.0, 4.0, 16.0])
    assert len(set(colours)) == 4 and all(c.startswith("#") and len(c) == 7 for c in colours)
    # Viridis darkens towards its start: the luminance rises with log w
    lum = [0.2126 * int(c[1:3], 16) + 0.7152 * int(c[3:5], 16) + 0.0722 * int(c[5:7], 16) for c in colours]
    assert lum == sorted(lum)
    assert weight_colors([4.0, 1.0, 16.0])[1] == weight_colors([1.0, 4.0, 16.0])[0]  # by value, not by position

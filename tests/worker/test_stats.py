"""Seed means, t-intervals and paired comparisons against hand computations, and summary.csv."""

from __future__ import annotations

import csv
import math
from statistics import mean

import pytest

from worker.engine.export import write_results
from worker.engine.outcome import Outcome
from worker.engine.spec import ExperimentSpec, RunSpec
from worker.engine.stats import (
    mean_interval,
    metric_range,
    paired,
    paired_by_weight,
    summary_rows,
)

T_975_DF2 = 4.302652729911275  # two-sided 95% t quantile, 2 degrees of freedom (any t table: 4.303)


def test_interval_by_hand():
    ci = mean_interval([1.0, 2.0, 3.0])  # mean 2, sd 1
    assert (ci.n, ci.mean) == (3, 2.0)
    assert (ci.low, ci.high) == pytest.approx((2 - T_975_DF2 / math.sqrt(3), 2 + T_975_DF2 / math.sqrt(3)), rel=1e-9)


def test_interval_is_clipped_to_the_metric_range():
    ci = mean_interval([0.2, 0.4, 0.6], metric_range("frac_pred_pos"))  # half-width 0.497 around 0.4
    assert ci.low == 0.0 and ci.high == pytest.approx(0.4 + T_975_DF2 * 0.2 / math.sqrt(3), rel=1e-9)
    assert metric_range("offset") == (-0.5, 0.5) and metric_range("normalised_margin") == (-math.inf, math.inf)


def test_one_seed_has_no_interval_and_nan_is_not_a_seed():
    ci = mean_interval([0.3, math.nan])
    assert (ci.n, ci.mean) == (1, 0.3) and math.isnan(ci.low) and math.isnan(ci.high)
    assert mean_interval([]).n == 0


def t3_cdf(t: float) -> float:
    """Student's t CDF with 3 degrees of freedom, in closed form."""
    u = t / math.sqrt(3)
    return 0.5 + (u / (1 + u * u) + math.atan(u)) / math.pi


def test_paired_t_test_by_hand():
    a, b = [1.0, 2.0, 3.0, 4.0], [1.5, 2.4, 3.6, 4.5]  # differences 0.5, 0.4, 0.6, 0.5
    sd = math.sqrt(0.02 / 3)
    t = 0.5 / (sd / 2)
    result = paired(a, b)
    assert result.n == 4 and result.mean_diff == pytest.approx(0.5)
    assert result.p_value == pytest.approx(2 * (1 - t3_cdf(t)), rel=1e-6)
    assert result.low < 0.5 < result.high
    same = paired([1.0, 2.0], [1.0, 2.0])
    assert same.mean_diff == 0 and same.p_value == 1.0
    with pytest.raises(ValueError, match="same seeds"):
        paired([1.0], [1.0, 2.0])


def outcome_of(values: dict[tuple[float, int], float]) -> Outcome:
    """(weight, seed) -> final test frac_pred_pos, as a two-epoch history."""
    o = Outcome()
    for (w, seed), v in values.items():
        o.add(
            RunSpec(pos_weight=w, seed=seed), {0: {"test": {"frac_pred_pos": 0.5}}, 5: {"test": {"frac_pred_pos": v}}}
        )
    return o


def test_weights_are_paired_within_seeds():
    o = outcome_of({(1.0, 0): 0.50, (1.0, 1): 0.60, (1.0, 2): 0.40, (10.0, 0): 0.55, (10.0, 1): 0.66, (10.0, 2): 0.44})
    result = paired_by_weight(o)
    assert list(result) == [10.0]
    assert result[10.0].n == 3 and result[10.0].mean_diff == pytest.approx(0.05)
    # differences 0.05, 0.06, 0.04: t = 0.05 / (0.01 / sqrt 3); with 2 degrees of freedom the
    # two-sided p is 1 - t / sqrt(2 + t^2) (closed form). The seeds vary by 0.1, the differences by
    # 0.01: paired, the effect is clear where an unpaired test would see noise.
    t = 0.05 / (0.01 / math.sqrt(3))
    assert result[10.0].p_value == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-6)
    assert result[10.0].p_value < 0.02


def test_summary_rows_by_hand():
    o = outcome_of({(1.0, 0): 0.50, (1.0, 1): 0.70, (10.0, 0): 0.9, (10.0, 1): 1.0})
    rows = {(r["pos_weight"], r["epoch"]): r for r in summary_rows(o, ["pos_weight", "seed"])}
    assert set(rows) == {(1.0, 0), (1.0, 5), (10.0, 0), (10.0, 5)}
    r = rows[(1.0, 5)]
    assert (r["n"], r["mean"], r["split"], r["metric"]) == (2, pytest.approx(0.6), "test", "frac_pred_pos")
    half = 12.706204736174707 * math.sqrt(0.02) / math.sqrt(2)  # t(0.975, 1) * sd / sqrt(n)
    assert r["ci_low"] == 0.0 and r["ci_high"] == 1.0  # 0.6 +- 1.27, clipped
    assert half > 0.6
    assert rows[(10.0, 0)]["ci_low"] == rows[(10.0, 0)]["ci_high"] == 0.5  # equal values: width 0


def test_iwlab_run_writes_summary_and_effective_weight(tmp_path):
    base = RunSpec(epochs=4, n_train=20, n_test=20, frames=2, grid=8)
    exp = ExperimentSpec(base=base, sweep={"pos_weight": [1.0, 10.0], "seed": [0, 1, 2]})
    paths, _ = write_results(exp, tmp_path, "cpu")
    assert [p.name for p in paths] == ["runs.csv", "metrics.csv", "summary.csv"]
    runs = list(csv.DictReader((tmp_path / "runs.csv").open()))
    # 20 + 20 points, batch 8, sum normalisation: w = 10 acts like less than 10
    assert {float(r["effective_pos_weight"]) for r in runs if r["pos_weight"] == "1.0"} == {1.0}
    assert all(5 < float(r["effective_pos_weight"]) < 9 for r in runs if r["pos_weight"] == "10.0")
    assert all(r["missing_readouts"] == "" for r in runs)  # separable blobs: the reference exists
    summary = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert list(summary[0]) == ["pos_weight", "epoch", "split", "metric", "n", "mean", "ci_low", "ci_high"]
    metrics = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    weight_of = {r["run_id"]: r["pos_weight"] for r in runs}
    for row in (r for r in summary if r["metric"] == "frac_pred_pos" and r["split"] == "test"):
        values = [float(m["value"]) for m in metrics if m["epoch"] == row["epoch"] and m["split"] == "test"
                  and m["metric"] == "frac_pred_pos" and weight_of[m["run_id"]] == row["pos_weight"]]  # fmt: skip
        assert int(row["n"]) == len(values) == 3
        assert float(row["mean"]) == pytest.approx(mean(values))
        assert 0.0 <= float(row["ci_low"]) <= float(row["mean"]) <= float(row["ci_high"]) <= 1.0


def test_overlapping_data_say_which_readouts_are_missing(tmp_path):
    exp = ExperimentSpec(
        base=RunSpec(dataset="moons", epochs=2, n_train=20, n_test=20, frames=2, grid=8), sweep={"pos_weight": [1.0]}
    )
    write_results(exp, tmp_path, "cpu")
    (run,) = csv.DictReader((tmp_path / "runs.csv").open())
    assert "not linearly separable" in run["missing_readouts"] and "svm_angle" in run["missing_readouts"]
    metrics = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert not [m for m in metrics if m["metric"].startswith("svm")]
    summary = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert all(r["ci_low"] == "" for r in summary)  # one seed: no interval


def spreads_outcome(per_seed: dict[int, tuple[float, float]]) -> Outcome:
    """seed -> final frac_pred_pos of the w = 0.1 and w = 10 runs."""
    o = Outcome()
    for seed, (low, high) in per_seed.items():
        for w, v in ((0.1, low), (10.0, high)):
            o.add(RunSpec(pos_weight=w, seed=seed), {9: {"test": {"frac_pred_pos": v}}})
    return o


def test_a_claim_that_compares_arms_is_a_paired_test():
    from worker.engine.outcome import paired_shift

    up = paired_shift(10.0, +1)
    o = outcome_of({(1.0, 0): 0.50, (1.0, 1): 0.60, (1.0, 2): 0.40, (10.0, 0): 0.55, (10.0, 1): 0.66, (10.0, 2): 0.44})
    ok, text = up.run(o)  # differences 0.05, 0.06, 0.04: 0.05 [0.025, 0.075]
    assert ok and text.startswith("+0.050 [+0.025, +0.075], n = 3")
    assert not paired_shift(10.0, -1).run(o)[0]
    noisy = outcome_of({(1.0, 0): 0.5, (1.0, 1): 0.5, (1.0, 2): 0.5, (10.0, 0): 0.6, (10.0, 1): 0.45, (10.0, 2): 0.5})
    assert not up.run(noisy)[0]  # mean +0.017, but the interval contains 0
    two = outcome_of({(1.0, 0): 0.5, (1.0, 1): 0.5, (10.0, 0): 0.9, (10.0, 1): 0.9})
    assert up.run(two) == (False, "2 paired seeds, fewer than 3")


def test_an_arm_may_be_a_list_or_a_dict_of_settings():
    """Sweeping `hidden` (a list) or `class_weights` (a dict) made summary_rows fail: unhashable."""
    outcome = Outcome()
    for hidden, weights, seed, acc in (
        ([4], {}, 0, 0.5),
        ([4], {}, 1, 0.7),
        ([8], {"pos": 2.0}, 0, 0.9),
        ([8], {"pos": 2.0}, 1, 0.8),
    ):
        outcome.add(RunSpec(model="mlp", hidden=hidden, class_weights=weights, seed=seed), {0: {"test": {"acc": acc}}})
    rows = summary_rows(outcome, ["hidden", "class_weights", "seed"])
    assert [(r["hidden"], r["class_weights"], r["n"], round(r["mean"], 9)) for r in rows] == [
        ([4], {}, 2, 0.6),
        ([8], {"pos": 2.0}, 2, 0.85),
    ]

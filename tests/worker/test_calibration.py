"""The l2-calibration readout: the Bayes-optimal shift of a weight, and realised vs intended per L2."""

import math

import numpy as np
import pytest

from worker.engine import calibration
from worker.engine.outcome import Outcome
from worker.engine.spec import RunSpec
from worker.engine.synthetic import CENTRES

GAUSSIANS = dict(dataset="wang_gaussians", noise=1.5)


def bayes_crossing(sd: float, weight: float) -> float:
    """Where log w + the Gaussian log-likelihood ratio changes sign along the segment between the
    centres, found numerically (s - 0.5, as geometry.boundary_offset reports it)."""
    neg, pos = (np.array(c) for c in CENTRES["wang_gaussians"])
    s = np.linspace(0, 1, 200_001)
    points = neg + s[:, None] * (pos - neg)
    log_ratio = (((points - neg) ** 2).sum(1) - ((points - pos) ** 2).sum(1)) / (2 * sd**2) + math.log(weight)
    return float(s[np.argmin(np.abs(log_ratio))] - 0.5)


@pytest.mark.parametrize("weight", [1 / 16, 0.25, 4.0, 16.0])
def test_intended_shift_is_where_the_weighted_bayes_boundary_crosses(weight):
    spec = RunSpec(**GAUSSIANS)
    assert calibration.intended_shift(spec, weight) == pytest.approx(bayes_crossing(1.5, weight), abs=1e-4)


def test_up_weighting_the_positive_class_moves_the_intended_boundary_towards_the_negative_centre():
    spec = RunSpec(**GAUSSIANS)
    assert calibration.intended_shift(spec, 16.0) < 0 < calibration.intended_shift(spec, 1 / 16)
    assert calibration.intended_shift(spec, 1.0) == 0


def test_disjoint_blobs_have_no_intended_shift():
    with pytest.raises(ValueError, match="wang_gaussians"):
        calibration.intended_shift(RunSpec(dataset="blobs"), 4.0)


def outcome_with_offsets(offsets: dict[tuple[float, float], float]) -> Outcome:
    o = Outcome()
    for (wd, w), off in offsets.items():
        o.add(RunSpec(**GAUSSIANS, weight_decay=wd, pos_weight=w), {0: {"geometry": {"offset": off}}})
    return o


def test_gaps_compare_each_weights_shift_from_the_unweighted_run_with_the_intended_one():
    target = calibration.intended_shift(RunSpec(**GAUSSIANS), 4.0)  # about -0.0624
    o = outcome_with_offsets({
        (0.0, 1.0): 0.10, (0.0, 4.0): 0.09,  # moved 0.01 of the intended 0.062
        (0.1, 1.0): 0.20, (0.1, 4.0): 0.20 + target,  # exactly as intended
        (1.0, 1.0): 0.30, (1.0, 4.0): 0.30 + 3 * target,  # three times too far
    })  # fmt: skip
    gaps = calibration.gaps(o)
    assert gaps[0.1] == pytest.approx(0.0, abs=1e-12)
    assert gaps[0.0] == pytest.approx(abs(-0.01 - target))
    assert gaps[1.0] == pytest.approx(2 * abs(target))
    assert calibration.closest_l2(o) == 0.1
    assert calibration.shift_table(o)[0.0][4.0] == pytest.approx((-0.01, target))


def test_the_report_heatmap_shows_realised_minus_intended_per_l2_and_weight():
    from backend.cli.report import calibration_figure

    target = calibration.intended_shift(RunSpec(**GAUSSIANS), 4.0)
    o = outcome_with_offsets({(0.0, 1.0): 0.1, (0.0, 4.0): 0.1, (0.1, 1.0): 0.2, (0.1, 4.0): 0.2 + target})
    heatmap = calibration_figure(o).data[0]
    assert list(heatmap.y) == ["L2 0", "L2 0.1"] and list(heatmap.x) == ["w = 4"]
    assert heatmap.z[0][0] == pytest.approx(-target) and heatmap.z[1][0] == pytest.approx(0.0, abs=1e-12)
    assert "closest L2: 0.1" in calibration_figure(o).layout.title.text


def test_only_an_l2_by_weight_sweep_on_the_gaussians_gets_the_heatmap():
    from worker.engine.spec import ExperimentSpec

    sweep = {"weight_decay": [0.0, 0.1], "pos_weight": [1.0, 4.0]}
    assert calibration.applies(ExperimentSpec(base=RunSpec(**GAUSSIANS), sweep=sweep))
    assert not calibration.applies(ExperimentSpec(base=RunSpec(dataset="blobs"), sweep=sweep))
    assert not calibration.applies(ExperimentSpec(base=RunSpec(**GAUSSIANS), sweep={"pos_weight": [1.0, 4.0]}))

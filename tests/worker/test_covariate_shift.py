"""The covariate_shift data set (issue 12): labels by one rule in both domains, the given weights
are the true density ratio, and the target is read out as its own split."""

from __future__ import annotations

import numpy as np
import pytest

from worker.engine import shift
from worker.engine.data import make_data
from worker.engine.spec import RunSpec


def test_only_the_inputs_shift_and_the_given_weights_are_the_density_ratio():
    d = shift.shifted_2d(400, 300, seed=0)
    assert np.array_equal(d["y_target"], shift.parabola_labels(d["x_target"]))  # p(y | x) is the same rule
    assert abs(d["x_train"].mean(0)).max() < 0.15 and abs(d["x_target"].mean(0) - shift.TARGET_MEAN).max() < 0.15
    # the ratio of the two Gaussian densities, written out independently
    x = np.array([[0.0, 0.0], [1.5, 0.0], [1.0, -1.0]])
    p_s = np.exp(-(x**2).sum(1) / 2) / (2 * np.pi)
    p_t = np.exp(-((x - shift.TARGET_MEAN) ** 2).sum(1) / (2 * shift.TARGET_SD**2)) / (2 * np.pi * shift.TARGET_SD**2)
    assert np.allclose(shift.true_ratio(x), p_t / p_s)
    data = make_data(RunSpec(dataset="covariate_shift", example_weights="given", n_train=400, n_test=300))
    assert np.allclose(data.w_train.numpy(), shift.true_ratio(d["x_train"]), rtol=1e-5)
    assert set(data.evals) == {"test", "target"} and data.evals["target"][1] is not None


def test_estimated_weights_track_the_given_ones():
    given = make_data(
        RunSpec(dataset="covariate_shift", example_weights="given", n_train=400, weight_normalise=True)
    ).w_train.numpy()
    estimated = make_data(
        RunSpec(dataset="covariate_shift", example_weights="estimated", n_train=400, weight_normalise=True)
    ).w_train.numpy()
    assert np.corrcoef(np.log(given), np.log(estimated))[0, 1] > 0.9
    assert make_data(RunSpec(dataset="covariate_shift", n_train=50)).w_train is None


def test_covariate_shift_refuses_what_it_does_not_have():
    with pytest.raises(ValueError, match="no weight column"):
        RunSpec(dataset="covariate_shift", example_weights="column")
    with pytest.raises(ValueError, match="given is the known density ratio"):
        RunSpec(dataset="table", data_path="t.csv", example_weights="given")
    with pytest.raises(ValueError, match="applies to the built-in data sets"):
        RunSpec(dataset="covariate_shift", imbalance=4)


def test_covariate_shift_and_tables_check_their_classes_and_sources():
    with pytest.raises(ValueError, match="two different class names"):
        RunSpec(dataset="covariate_shift", classes=["a", "b", "c"])
    with pytest.raises(ValueError, match="not among the classes"):
        RunSpec(dataset="covariate_shift", class_weights={"cat": 2.0})
    with pytest.raises(ValueError, match="not both"):
        RunSpec(dataset="table", data_path="t.csv", dataset_id=3)

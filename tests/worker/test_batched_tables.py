"""The batched engine on tables, many classes, class_weights and per-example weights (issue 12,
item 7) against the per-run engine, the oracle: same metric names, values within 1e-5."""

import numpy as np
import pytest

from tests.worker.test_batched import assert_equivalent
from tests.worker.test_table import three_classes, write_csv
from worker.engine.batched import can_batch, groups, why_not_batchable
from worker.engine.export import plan_batches
from worker.engine.spec import ExperimentSpec, RunSpec

TABLE = dict(dataset="table", batch_size=16, epochs=8, label_column="label")


def runs(base: RunSpec, axes: dict) -> list[RunSpec]:
    return ExperimentSpec(base=base, sweep=axes).runs()


@pytest.mark.parametrize("model", [{"model": "logreg"}, {"model": "mlp", "hidden": [8]}])
def test_three_class_table_with_a_class_weights_sweep(tmp_path, model):
    base = RunSpec(**TABLE, **model, data_path=three_classes(tmp_path / "t.csv", n=30))
    sweep = runs(base, {"class_weights": [{}, {"fox": 4.0}, "inverse_frequency"], "seed": [0, 1]})
    assert groups(sweep) == [list(range(6))] and can_batch(sweep)
    assert_equivalent(sweep)


def test_three_class_table_with_losses_and_resampling(tmp_path):
    base = RunSpec(**TABLE, model="mlp", hidden=[8], data_path=three_classes(tmp_path / "t.csv", n=30))
    variants = [
        {"loss": "la", "class_weights": {"dog": 2.0}},
        {"loss": "ldam", "head": "linear", "drw_epoch": 3, "class_weights": "inverse_frequency"},
        {"resample": True, "class_weights": {"cat": 0.5}, "momentum": 0.9},
    ]
    assert_equivalent([base.model_copy(update=v) for v in variants])


def test_two_class_table_with_a_weight_column(tmp_path):
    rng = np.random.default_rng(1)
    rows = [[f"{x:.4f}", f"{x + rng.normal():.4f}", "yes" if x > 0.3 else "no", f"{w:.3f}"]
            for x, w in zip(rng.normal(size=80), rng.uniform(0.2, 3.0, 80))]  # fmt: skip
    path = write_csv(tmp_path / "w.csv", ["a", "b", "label", "w"], rows)
    base = RunSpec(**TABLE, model="logreg", data_path=path, weight_column="w")
    sweep = runs(base, {"weight_power": [0.0, 0.5, 1.0], "pos_weight": [1.0, 3.0]})
    assert can_batch(sweep)
    assert_equivalent(sweep)  # effective_sample_size per run included


@pytest.mark.parametrize("weights", ["none", "given"])
def test_covariate_shift_with_and_without_given_weights(weights):
    base = RunSpec(dataset="covariate_shift", n_train=60, n_test=40, batch_size=16, epochs=6, grid=10, frames=2)
    sweep = runs(base.model_copy(update={"example_weights": weights, "model": "mlp", "hidden": [8]}),
                 {"weight_power": [0.5, 1.0], "seed": [0, 1]})  # fmt: skip
    assert_equivalent(sweep)  # the target split's readouts included


def test_an_example_weights_sweep_on_covariate_shift_trains_as_one_batch():
    base = RunSpec(dataset="covariate_shift", n_train=60, n_test=40, batch_size=16, epochs=6, grid=10, frames=2)
    sweep = runs(base, {"example_weights": ["none", "given", "estimated"], "weight_normalise": [False, True]})
    assert plan_batches(sweep, "auto") == [list(range(6))]
    assert_equivalent(sweep)  # each run's own weights and effective_sample_size


def test_a_table_trains_with_and_without_its_weight_column_in_one_batch(tmp_path):
    rows = [[f"{i / 10:.2f}", "yes" if i % 3 else "no", f"{1 + i % 4}"] for i in range(60)]
    path = write_csv(tmp_path / "w.csv", ["a", "label", "w"], rows)
    base = RunSpec(**TABLE, model="logreg", data_path=path, weight_column="w")
    sweep = runs(base, {"example_weights": ["none", "column"], "weight_clip": [None, 2.0]})
    assert can_batch(sweep)
    assert_equivalent(sweep)


def test_group_labels_are_still_refused(tmp_path):
    rows = [[f"{i % 7}", "yes" if i % 2 else "no", "ga" if i % 3 else "gb"] for i in range(40)]
    path = write_csv(tmp_path / "g.csv", ["a", "label", "g"], rows)
    spec = RunSpec(**TABLE, data_path=path, group_column="g")
    assert "group" in (why_not_batchable([spec, spec.model_copy(update={"seed": 1})]) or "")


def test_iwlab_run_trains_a_class_weights_sweep_on_a_table_batched(tmp_path):
    import math

    import yaml
    from typer.testing import CliRunner

    from backend.cli import app
    from tests.worker.test_batched import TOL, _metrics_csv

    base = TABLE | {"model": "logreg", "epochs": 3, "data_path": three_classes(tmp_path / "t.csv", n=20)}
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"name": "t", "base": base, "sweep": {"class_weights": [{}, {"fox": 3.0}]}}))
    for engine in ("naive", "batched"):  # batched: refused with a reason if the group could not batch
        result = CliRunner().invoke(
            app, ["run", str(spec), "--out", str(tmp_path / engine), "--engine", engine, "--device", "cpu"]
        )
        assert result.exit_code == 0, result.output
    naive, batched = _metrics_csv(tmp_path / "naive"), _metrics_csv(tmp_path / "batched")
    assert naive.keys() == batched.keys()
    assert {("1", "3", "test", f"frac_pred_{c}") for c in ("cat", "dog", "fox")} <= naive.keys()
    assert all((math.isnan(v) and math.isnan(batched[k])) or abs(v - batched[k]) <= TOL for k, v in naive.items())

"""The batched engine (issue 4) against the per-run engine: same seeds, same metrics within 1e-5,
same predictions, same boundary frames."""

import math

import pytest
import torch

from worker.engine.batched import BatchedTraining, can_batch, groups, why_not_batchable
from worker.engine.engines import train_batched
from worker.engine.metrics import predictions
from worker.engine.spec import ExperimentSpec, RunSpec
from worker.engine.train import train

TOL = 1e-5
SMALL = dict(n_train=40, n_test=40, batch_size=8, epochs=20, frames=4, grid=12)


def sweep(base: dict, axes: dict) -> list[RunSpec]:
    return ExperimentSpec(base=RunSpec(**(SMALL | base)), sweep=axes).runs()


def assert_equivalent(runs: list[RunSpec]) -> None:
    naive = [list(train(s, device="cpu")) for s in runs]
    batched = list(BatchedTraining(runs, device="cpu"))
    assert len(batched) == len(naive[0])
    for e, results in enumerate(batched):
        assert len(results) == len(runs)
        for m, got in enumerate(results):
            want = naive[m][e]
            assert (got.epoch, got.epochs, got.stopped) == (want.epoch, want.epochs, want.stopped)
            assert got.metrics.keys() == want.metrics.keys()
            for split, values in want.metrics.items():
                assert got.metrics[split].keys() == values.keys(), split
                for name, value in values.items():
                    other = got.metrics[split][name]
                    assert (math.isnan(value) and math.isnan(other)) or abs(other - value) <= TOL, (
                        e,
                        m,
                        split,
                        name,
                        value,
                        other,
                    )
            assert (got.boundary is None) == (want.boundary is None)
            if want.boundary is not None:
                assert abs(got.boundary - want.boundary).max() <= TOL


def test_logreg_sweep_matches_per_run_engine():
    assert_equivalent(
        sweep({"model": "logreg"}, {"pos_weight": [0.1, 1.0, 10.0], "seed": [0, 1], "weight_decay": [0.0, 0.1]})
    )


def test_mlp_sweep_matches_per_run_engine():
    runs = sweep(
        {"model": "mlp", "hidden": [16, 16]},
        {"pos_weight": [0.25, 1.0, 4.0], "seed": [0, 1], "weight_decay": [0.0, 0.01]},
    )
    assert_equivalent(runs)


def test_per_model_lr_momentum_losses_resampling_and_drw_match():
    base = RunSpec(**(SMALL | {"epochs": 12}), model="mlp", hidden=[8])
    variants = [
        {"lr": 0.1, "momentum": 0.9, "pos_weight": 4.0},
        {"loss": "poly", "poly_alpha": 2.0, "pos_weight": 0.25, "loss_norm": "mean"},
        {
            "loss": "ldam",
            "head": "linear",
            "drw_epoch": 5,
            "pos_weight": 4.0,
            "seed": 2,
            "lr": 0.01,
        },  # the cosine head is per-run only
        {"loss": "vs", "resample": True, "pos_weight": 4.0, "seed": 3},
        {"loss": "la", "weight_power": 2.0, "pos_weight": 2.0},
    ]
    assert_equivalent([base.model_copy(update=v) for v in variants])


@pytest.mark.parametrize("features", [{"dropout": 0.5}, {"batchnorm": True}, {"batchnorm": True, "dropout": 0.3}])
def test_mlp_with_dropout_and_batchnorm_matches_per_run_engine(features):
    # dropout: each model's masks come from its own copy of the seeded RNG, as the per-run engine
    # draws them on CPU, so the runs are equal, not just equal in distribution
    base = {"model": "mlp", "hidden": [16, 8], "epochs": 10} | features
    assert_equivalent(sweep(base, {"pos_weight": [0.25, 4.0], "seed": [0, 1], "weight_decay": [0.0, 0.01]}))


def test_dropout_masks_differ_between_models_and_steps():
    runs = sweep({"model": "mlp", "hidden": [16], "dropout": 0.5}, {"seed": [0, 1]})
    b = BatchedTraining(runs, device="cpu")
    first, second = b._dropout_masks(8)[0], b._dropout_masks(8)[0]
    assert not torch.equal(first[0], first[1]) and not torch.equal(first[0], second[0])
    assert set(first.unique().tolist()) == {0.0, 2.0}  # kept units scaled by 1 / (1 - p)


def test_test_predictions_are_identical():
    runs = sweep({"model": "mlp", "hidden": [16]}, {"pos_weight": [0.1, 10.0], "seed": [0, 1]})
    per_run = []
    for spec in runs:
        t = train(spec, device="cpu")
        list(t)
        per_run.append(predictions(t.logits(t.data.x_test)))
    b = BatchedTraining(runs, device="cpu")
    list(b)
    together = b.logits(b.data.x_test)
    for m, want in enumerate(per_run):
        assert torch.equal(predictions(together[m]), want)


def test_eval_points_and_frames_follow_the_per_run_engine():
    runs = sweep({"epochs": 30, "eval_points": 5}, {"pos_weight": [0.5, 2.0]})
    want = [r.epoch for r in train(runs[0], device="cpu")]
    assert [results[0].epoch for results in train_batched(runs, device="cpu")] == want


@pytest.mark.parametrize(
    "update, reason",
    [
        ({"data_seed": 1}, "data_seed"),
        ({"n_train": 30}, "n_train"),
        ({"hidden": [8]}, "hidden"),
        ({"batch_size": 4}, "batch_size"),
    ],
)
def test_runs_that_do_not_share_data_or_architecture_are_refused(update, reason):
    a = RunSpec(**SMALL, model="mlp", hidden=[16])
    assert not can_batch([a, a.model_copy(update=update)])
    assert reason in why_not_batchable([a, a.model_copy(update=update)])


@pytest.mark.parametrize("update", [{"patience": 3}, {"schedule": "cosine"}])
def test_unsupported_features_are_refused(update):
    a = RunSpec(**SMALL, model="mlp", hidden=[16]).model_copy(update=update)
    assert not can_batch([a, a.model_copy(update={"seed": 1})])
    with pytest.raises(ValueError):
        BatchedTraining([a])


@pytest.mark.parametrize("update", [{"model": "resnet"}, {"model": "convnet", "dropout": 0.5}])
def test_resnet_and_convnet_with_dropout_are_refused(update):
    a = RunSpec(dataset="cifar10").model_copy(update=update)
    assert not can_batch([a])


def test_groups_split_a_sweep_by_shared_data():
    runs = sweep({}, {"data_seed": [0, 1], "pos_weight": [0.5, 2.0]})
    assert groups(runs) == [[0, 1], [2, 3]]
    assert all(can_batch([runs[i] for i in g]) for g in groups(runs))
    assert not can_batch(runs)


def test_train_batched_falls_back_to_per_run_training():
    runs = sweep({"epochs": 3}, {"data_seed": [0, 1]})
    got = list(train_batched(runs, device="cpu"))
    want = [list(train(s, device="cpu")) for s in runs]
    assert [[r.metrics for r in epoch] for epoch in got] == [
        list(ms) for ms in zip(*([r.metrics for r in w] for w in want))
    ]


def _metrics_csv(path) -> dict:
    import csv

    with open(path / "metrics.csv") as f:
        return {(r["run_id"], r["epoch"], r["split"], r["metric"]): float(r["value"]) for r in csv.DictReader(f)}


def test_write_results_batched_equals_naive(tmp_path):
    from worker.engine.export import write_results

    exp = ExperimentSpec(
        base=RunSpec(**(SMALL | {"epochs": 6})), sweep={"data_seed": [0, 1], "pos_weight": [0.5, 2.0], "seed": [0, 1]}
    )
    _, naive = write_results(exp, tmp_path / "naive", "cpu", engine="naive")
    ticks = []
    _, auto = write_results(exp, tmp_path / "auto", "cpu", on_epoch=lambda: ticks.append(1), engine="auto")
    assert len(ticks) == 8 * 6
    assert [s for s, _ in auto.runs] == [s for s, _ in naive.runs]
    a, b = _metrics_csv(tmp_path / "naive"), _metrics_csv(tmp_path / "auto")
    assert a.keys() == b.keys()
    assert all((math.isnan(v) and math.isnan(b[k])) or abs(v - b[k]) <= TOL for k, v in a.items())


def test_write_results_engine_batched_refuses_what_it_cannot_batch(tmp_path):
    from worker.engine.export import plan_batches, write_results

    exp = ExperimentSpec(base=RunSpec(**SMALL, model="mlp", schedule="cosine"), sweep={"seed": [0, 1]})
    with pytest.raises(ValueError, match="schedule"):
        write_results(exp, tmp_path, "cpu", engine="batched")
    assert plan_batches(exp.runs(), "auto") == [[0], [1]]  # auto: one run at a time
    with pytest.raises(ValueError):
        plan_batches(exp.runs(), "fast")


def test_cli_run_takes_an_engine(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from backend.cli import app

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"name": "t", "base": SMALL | {"epochs": 3}, "sweep": {"pos_weight": [0.5, 2.0]}}))
    for engine in ("naive", "batched", "auto"):
        result = CliRunner().invoke(
            app, ["run", str(spec), "--out", str(tmp_path / engine), "--engine", engine, "--device", "cpu"]
        )
        assert result.exit_code == 0, result.output
    assert _metrics_csv(tmp_path / "naive").keys() == _metrics_csv(tmp_path / "batched").keys()
    result = CliRunner().invoke(app, ["run", str(spec), "--out", str(tmp_path / "x"), "--engine", "fast"])
    assert result.exit_code == 2

"""Tables (`dataset: table`): the reader's errors, splits and standardisation, many classes, and
per-example weights from a column or estimated for covariate shift (issue 12)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from worker.engine import shift, table
from worker.engine.data import make_data
from worker.engine.losses import class_balanced_weights, multiclass_margin, per_example_loss, run_class_weights
from worker.engine.spec import RunSpec
from worker.engine.train import train

CLASSES = ("cat", "dog", "fox")


def write_csv(path, header, rows) -> str:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def three_classes(path, n=90, seed=0, spread=1.5) -> str:
    """Three overlapping 2-D blobs, n rows per class."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [2, 0], [0, 2]])
    rows = [[f"{x:.5f}", f"{y:.5f}", CLASSES[c]] for c in range(3) for x, y in rng.normal(centres[c], spread, (n, 2))]
    return write_csv(path, ["a", "b", "label"], rows)


def spec(path, **kw) -> RunSpec:
    return RunSpec(dataset="table", data_path=path, **kw)


# --- the reader's errors: each names the file, the column or line, and the reason ------------------


def test_bad_tables_are_errors_naming_field_column_and_line(tmp_path):
    good = [["1", "2", "a", "1"], ["2", "3", "b", "2"], ["3", "1", "a", "0.5"], ["0", "1", "b", "1"]]
    cases = [
        (["x", "y", "label", "w"], good, {"label_column": "kind"}, "label_column", "no column 'kind'"),
        (["x", "y", "label", "w"], good, {"weight_column": "weight"}, "weight_column", "no column 'weight'"),
        (
            ["x", "y", "label", "w"],
            [*good[:2], ["3", "high", "a", "1"], good[3]],
            {"weight_column": "w"},
            "data_path",
            "column 'y', line 4: 'high' is not a number",
        ),
        (
            ["x", "y", "label", "w"],
            [*good[:1], ["", "1", "b", "1"], *good[2:]],
            {"weight_column": "w"},
            "data_path",
            "column 'x', line 3: '' is not a number",
        ),
        (
            ["x", "y", "label", "w"],
            [[r[0], r[1], "a", r[3]] for r in good],
            {"weight_column": "w"},
            "label_column",
            "a single class ('a')",
        ),
        (
            ["x", "y", "label", "w"],
            [*good[:3], ["0", "1", "b", "nan"]],
            {"weight_column": "w"},
            "weight_column",
            "column 'w', line 5: the weight is NaN",
        ),
        (
            ["x", "y", "label", "w"],
            [["1", "2", "a", "-1"], *good[1:]],
            {"weight_column": "w"},
            "weight_column",
            "column 'w', line 2: the weight is negative",
        ),
        (
            ["x", "y", "label", "w"],
            [["inf", "2", "a", "1"], *good[1:]],
            {"weight_column": "w"},
            "data_path",
            "column 'x', line 2: inf is not a finite number",
        ),
        (
            ["x", "y", "label", "w"],
            good,
            {"weight_column": "w", "class_weights": {"zebra": 2.0}},
            "class_weights",
            "zebra not among the table's classes",
        ),
    ]
    for i, (header, rows, fields, field, message) in enumerate(cases):
        path = write_csv(tmp_path / f"t{i}.csv", header, rows)
        with pytest.raises(table.TableError) as err:
            make_data(spec(path, **fields))
        assert err.value.field == field and message in str(err.value) and path in str(err.value), (i, str(err.value))


def test_more_than_two_classes_refuse_pos_weight(tmp_path):
    path = three_classes(tmp_path / "t.csv", n=5)
    with pytest.raises(table.TableError, match="use class_weights") as err:
        table.check(spec(path, pos_weight=2.0))
    assert err.value.field == "pos_weight"


def test_npz_columns_and_matrices_are_read_without_pickle(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    np.savez(tmp_path / "t.npz", x=x, label=np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]))
    parsed = table.parse(spec(str(tmp_path / "t.npz"), test_fraction=0.34))
    assert parsed.features == ("x[0]", "x[1]") and parsed.classes == ("0", "1")  # 0.0 and 1.0 are the classes 0 and 1
    np.savez(tmp_path / "bad.npz", x=x, label=np.array([{"a": 1}] * 6, dtype=object))
    with pytest.raises(table.TableError, match="not a readable NPZ of plain arrays") as err:
        table.parse(spec(str(tmp_path / "bad.npz")))
    assert err.value.field == "data_path"


def test_the_stratified_split_is_seeded_and_features_are_standardised_on_the_training_split(tmp_path):
    path = three_classes(tmp_path / "t.csv", n=40)
    data = make_data(spec(path, test_fraction=0.25))
    again = make_data(spec(path, test_fraction=0.25))
    other = make_data(spec(path, test_fraction=0.25, data_seed=1))
    assert data.classes == CLASSES
    assert data.counts.tolist() == [30, 30, 30] and torch.bincount(data.y_test).tolist() == [10, 10, 10]
    assert torch.equal(data.x_test, again.x_test) and not torch.equal(data.x_test, other.x_test)
    assert torch.allclose(data.x_train.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(data.x_train.std(0, unbiased=False), torch.ones(2), atol=1e-4)
    # the test split is scaled with the training split's statistics, so it is not exactly standard
    assert not torch.allclose(data.x_test.mean(0), torch.zeros(2), atol=1e-3)


def test_classes_pick_and_order_a_tables_labels(tmp_path):
    path = three_classes(tmp_path / "t.csv", n=20)
    data = make_data(spec(path, classes=["fox", "cat"]))
    assert data.classes == ("fox", "cat") and len(data.y_train) + len(data.y_test) == 40


# --- many classes ----------------------------------------------------------------------------------


def test_multiclass_losses_are_their_published_forms():
    torch.manual_seed(0)
    z, y = torch.randn(7, 4), torch.tensor([0, 1, 2, 3, 3, 2, 1])
    counts = torch.tensor([40.0, 20.0, 10.0, 5.0])
    log_pi = torch.log(counts / counts.sum())
    expected_la = -torch.log_softmax(z + log_pi, 1)[torch.arange(7), y]
    assert torch.allclose(
        per_example_loss("la", z, y, counts, **RunSpec(loss="la").loss_params()), expected_la, atol=1e-6
    )
    delta = counts**-0.25 * (0.5 / (counts**-0.25).max())
    shifted = z.clone()
    shifted[torch.arange(7), y] -= delta[y]
    assert torch.allclose(
        per_example_loss("ldam", z, y, counts, **RunSpec(loss="ldam").loss_params()),
        -torch.log_softmax(30 * shifted, 1)[torch.arange(7), y],
        atol=1e-5,
    )
    brute = torch.tensor([z[i, y[i]] - max(z[i, c] for c in range(4) if c != y[i]) for i in range(7)])
    assert torch.allclose(multiclass_margin(z, y), brute)
    cb = class_balanced_weights(counts, 0.99)
    assert abs(float(cb.sum()) - 4) < 1e-5 and cb.argmax() == 3  # the rarest class weighs most


def test_class_weights_name_classes_and_the_rest_keep_one():
    run = RunSpec(class_weights={"pos": 3.0}, weight_power=2.0)
    assert run_class_weights(run, torch.tensor([5.0, 5.0])).tolist() == [1.0, 9.0]
    assert run_class_weights(run, torch.tensor([5.0, 5.0, 5.0]), ("a", "pos", "c")).tolist() == [1.0, 9.0, 1.0]
    with pytest.raises(ValueError, match="not both"):
        RunSpec(class_weights={"pos": 3.0}, pos_weight=2.0)
    with pytest.raises(ValueError, match="not among the classes"):
        RunSpec(class_weights={"cat": 3.0})


def test_a_three_class_table_trains_and_a_class_weight_shifts_predictions_to_that_class(tmp_path):
    path = three_classes(tmp_path / "t.csv", n=60, spread=2.0)
    finals = {}
    for weights in ({}, {"fox": 8.0}):
        results = list(train(spec(path, class_weights=weights, epochs=15, lr=0.1, batch_size=16), device="cpu"))
        test = results[-1].metrics["test"]
        assert {f"frac_pred_{c}" for c in CLASSES} | {f"acc_{c}" for c in CLASSES} | {"balanced_acc", "loss"} <= set(
            test
        )
        assert "frac_pred_pos" not in test  # no one positive class among three
        assert abs(sum(test[f"frac_pred_{c}"] for c in CLASSES) - 1) < 1e-9
        finals[str(weights)] = test
    assert finals["{'fox': 8.0}"]["frac_pred_fox"] > finals["{}"]["frac_pred_fox"] + 0.15


# --- per-example weights ---------------------------------------------------------------------------


def test_a_weight_column_weighs_examples_and_its_effective_sample_size_is_recorded(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (200, 2))
    y = (x[:, 0] + rng.normal(0, 1.5, 200) > 0).astype(int)
    w = np.where(y == 1, 6.0, 1.0)  # the positives count six times: the weighted model predicts them more
    path = write_csv(tmp_path / "w.csv", ["a", "b", "y", "w"], [[*xi, yi, wi] for xi, yi, wi in zip(x, y, w)])
    finals = {}
    for how in ("none", "column"):
        run = spec(path, label_column="y", weight_column="w", example_weights=how, epochs=10, lr=0.1)
        training = train(run, device="cpu")
        finals[how] = list(training)[-1].metrics
    ess = finals["column"]["train"]["effective_sample_size"]
    wt = make_data(spec(path, label_column="y", weight_column="w")).w_train.double()
    assert abs(ess - float(wt.sum() ** 2 / (wt**2).sum())) < 1e-6 and ess < len(wt)
    assert "effective_sample_size" not in finals["none"]["train"]
    assert finals["column"]["test"]["frac_pred_pos"] > finals["none"]["test"]["frac_pred_pos"] + 0.1


def test_weights_are_self_normalised_then_clipped():
    w = np.array([1.0, 2.0, 3.0, 10.0])
    assert np.allclose(shift.finish(w, None, True), w / 4)
    assert np.allclose(shift.finish(w, 2.0, True), [0.25, 0.5, 0.75, 2.0])
    assert shift.effective_sample_size([1, 1, 1, 1]) == 4 and shift.effective_sample_size([5, 0, 0, 0]) == 1


def test_the_estimated_density_ratio_recovers_a_known_one():
    """Source N(0, 1), target N(1, 1): p_t / p_s = exp(x - 1/2), log-linear, so a logistic domain
    classifier can represent it exactly."""
    rng = np.random.default_rng(2)
    source, target = rng.normal(0, 1, (2000, 1)), rng.normal(1, 1, (2000, 1))
    w = shift.density_ratio(source, target)
    true = np.exp(source[:, 0] - 0.5)
    central = np.abs(source[:, 0]) < 1.5
    assert np.median(np.abs(np.log(w[central]) - np.log(true[central]))) < 0.15
    assert np.corrcoef(np.log(w), np.log(true))[0, 1] > 0.99


def test_estimated_weights_train_and_the_target_sample_is_read_out(tmp_path):
    rng = np.random.default_rng(3)

    def sample(mean, n):
        x = rng.normal(mean, 1, (n, 2))
        return x, (x[:, 0] ** 2 + 0.3 * rng.normal(size=n) > 1).astype(int)

    xs, ys = sample(0.0, 240)
    xt, yt = sample(1.0, 120)
    source = write_csv(tmp_path / "s.csv", ["a", "b", "label"], [[*a, b] for a, b in zip(xs, ys)])
    target = write_csv(tmp_path / "t.csv", ["a", "b", "label"], [[*a, b] for a, b in zip(xt, yt)])
    run = spec(
        source, target_path=target, example_weights="estimated", weight_normalise=True, weight_clip=20.0, epochs=3
    )
    data = make_data(run)
    assert data.w_train is not None and abs(float(data.w_train.mean()) - 1) < 0.2 and float(data.w_train.max()) <= 20.0
    # the training examples nearer the target's mean weigh more
    x_raw = table.parse(run).x_train
    assert np.corrcoef(x_raw[:, 0], data.w_train.numpy())[0, 1] > 0.5
    last = list(train(run, device="cpu"))[-1].metrics
    assert {"acc", "loss", "frac_pred_pos"} <= set(last["target"])
    assert 0 < last["train"]["effective_sample_size"] < len(data.y_train)
    unlabelled = write_csv(tmp_path / "u.csv", ["a", "b"], xt.tolist())
    last = list(train(spec(source, target_path=unlabelled, epochs=1), device="cpu"))[-1].metrics
    assert "frac_pred_pos" in last["target"] and "acc" not in last["target"]


def test_table_fields_need_a_table():
    with pytest.raises(ValueError, match="weight_column: only for dataset table"):
        RunSpec(weight_column="w")
    with pytest.raises(ValueError, match="estimated needs target_path"):
        RunSpec(dataset="table", data_path="x.csv", example_weights="estimated")
    with pytest.raises(ValueError, match="needs 32x32 images"):
        RunSpec(dataset="table", data_path="x.csv", model="convnet")


def test_named_class_weight_schemes_follow_the_class_counts():
    counts = torch.tensor([100.0, 10.0, 1.0])
    inverse = run_class_weights(RunSpec(class_weights="inverse_frequency"), counts, ("a", "b", "c"))
    assert torch.allclose(inverse, torch.tensor([0.01, 0.1, 1.0]) * 3 / 1.11)
    effective = run_class_weights(RunSpec(class_weights="effective_number", class_beta=0.9), counts, ("a", "b", "c"))
    raw = torch.tensor([(1 - 0.9) / (1 - 0.9**n) for n in (100, 10, 1)])
    assert torch.allclose(effective, raw * 3 / raw.sum())
    with pytest.raises(ValueError):
        RunSpec(class_weights="square_root")


def test_a_label_too_long_to_name_a_metric_is_refused(tmp_path):
    long = "x" * 49
    path = write_csv(tmp_path / "t.csv", ["a", "label"], [["1", long], ["2", "b"], ["3", long], ["4", "b"]])
    with pytest.raises(table.TableError, match="longer than 48 characters") as err:
        table.check(spec(path))
    assert err.value.field == "label_column"


def test_weight_power_tempers_per_example_weights(tmp_path):
    rows = [[i * 0.1, i % 2, 1 + i % 5] for i in range(40)]
    path = write_csv(tmp_path / "w.csv", ["a", "label", "w"], rows)
    ess = {
        p: train(
            spec(path, weight_column="w", weight_power=p, test_fraction=0.5, epochs=1), device="cpu"
        ).effective_sample_size
        for p in (0.0, 1.0, 2.0)
    }
    n = 20  # the training half
    assert ess[0.0] == pytest.approx(n)  # w ** 0 = 1: every example counts once
    assert ess[2.0] < ess[1.0] < n  # squaring spreads the weights further


def test_tables_and_many_classes_train_batched_without_groups(tmp_path):
    from worker.engine.export import plan_batches

    path = three_classes(tmp_path / "t.csv", n=10)
    runs = [spec(path, seed=s) for s in (0, 1)]
    assert plan_batches(runs, "auto") == [[0, 1]]  # equal to the per-run engine: test_batched_tables.py

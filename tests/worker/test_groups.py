"""Groups (issue 12, item 5): group labels on both splits of a table, per-group and worst-group
accuracy, group-weighted ERM, group-balanced sub-sampling, and the synthetic spurious data set."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from worker.engine import table
from worker.engine.batched import why_not_batchable
from worker.engine.data import make_data, split_validation
from worker.engine.metrics import group_metrics
from worker.engine.spec import RunSpec
from worker.engine.stats import metric_range
from worker.engine.synthetic import SPURIOUS_AGREE
from worker.engine.train import train

from .test_table import write_csv


def grouped_rows(n: int = 80, seed: int = 0) -> list[list]:
    """Rows x, label, group, w: group 'big' holds 3 of every 4 rows, 'small' the rest; weights 1 or 2."""
    rng = np.random.default_rng(seed)
    return [
        [f"{rng.normal(i % 2, 1):.4f}", i % 2, "small" if i % 4 == 3 else "big", 1 + (i // 4) % 2] for i in range(n)
    ]


def spec(path, **kw) -> RunSpec:
    return RunSpec(dataset="table", data_path=path, **kw)


def test_group_metrics_count_and_score_each_group_present():
    # predictions (argmax): 1, 0, 1, 1, 0; labels 1, 1, 1, 0, 0 -> correct T F T F T
    logits = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 2.0], [0.0, 3.0], [5.0, 0.0]])
    y = torch.tensor([1, 1, 1, 0, 0])
    g = torch.tensor([0, 0, 2, 2, 2])  # group "b" (index 1) has no example in this split
    out = group_metrics(logits, y, g, ("a", "b", "c"))
    assert out == {
        "acc_group_a": 0.5, "n_group_a": 2.0,
        "acc_group_c": pytest.approx(2 / 3), "n_group_c": 3.0,
        "worst_group_acc": 0.5,
    }  # fmt: skip


def test_a_tables_groups_are_read_on_both_splits(tmp_path):
    rows = grouped_rows()
    path = write_csv(tmp_path / "g.csv", ["x", "label", "group", "w"], rows)
    parsed = table.parse(spec(path, group_column="group", test_fraction=0.25))
    assert parsed.g_train is not None and parsed.g_test is not None
    assert len(parsed.g_train) == len(parsed.y_train) and len(parsed.g_test) == len(parsed.y_test)
    together = Counter(parsed.g_train.tolist()) + Counter(parsed.g_test.tolist())
    assert together == Counter(r[2] for r in rows), "every row keeps its group, in one split or the other"
    assert "group" not in parsed.features

    test_rows = grouped_rows(40, seed=1)
    test_path = write_csv(tmp_path / "t.csv", ["x", "label", "group", "w"], test_rows)
    parsed = table.parse(spec(path, group_column="group", test_path=test_path))
    assert parsed.g_test is not None and Counter(parsed.g_test.tolist()) == Counter(r[2] for r in test_rows)


def test_group_readouts_are_recorded_on_every_labelled_split(tmp_path):
    path = write_csv(tmp_path / "g.csv", ["x", "label", "group", "w"], grouped_rows())
    run = spec(path, group_column="group", epochs=2, patience=5, val_fraction=0.2)
    training = train(run, device="cpu")
    last = list(training)[-1].metrics
    for split in ("train", "test", "val"):
        assert {"acc_group_big", "acc_group_small", "worst_group_acc"} <= set(last[split]), split
        assert last[split]["worst_group_acc"] == min(last[split]["acc_group_big"], last[split]["acc_group_small"])
    # the three splits partition the file's 20 'small' rows
    assert sum(last[s]["n_group_small"] for s in ("train", "test", "val")) == 20
    assert "worst_group_acc" not in training.missing


def test_without_groups_worst_group_accuracy_is_missing_with_a_reason(tmp_path):
    path = write_csv(tmp_path / "g.csv", ["x", "label", "w"], [[x, y, w] for x, y, _, w in grouped_rows()])
    training = train(spec(path, epochs=1, weight_column="w"), device="cpu")
    metrics = [m for r in training for split in r.metrics.values() for m in split.items()]
    assert not any(name.startswith(("worst_group", "acc_group_")) for name, _ in metrics)
    assert all(not (isinstance(v, float) and math.isnan(v)) for _, v in metrics)
    assert "group_column" in training.missing["worst_group_acc"]
    # data sets that never carry groups do not define the readout: nothing to explain
    assert "worst_group_acc" not in train(RunSpec(epochs=1), device="cpu").missing


def test_group_table_errors_name_the_field_and_the_row(tmp_path):
    long = "g" * (table.MAX_LABEL + 1)
    rows = [["1", "0", "a"], ["2", "1", long], ["3", "0", "a"], ["4", "1", "a"]]
    path = write_csv(tmp_path / "long.csv", ["x", "label", "group"], rows)
    with pytest.raises(table.TableError, match=f"line 3: the group 'g+' is longer than {table.MAX_LABEL}") as err:
        table.check(spec(path, group_column="group"))
    assert err.value.field == "group_column"

    blank = write_csv(tmp_path / "blank.csv", ["x", "label", "group"], [*rows[:1], ["2", "1", ""], *rows[2:]])
    with pytest.raises(table.TableError, match="line 3: the group is missing") as err:
        table.check(spec(blank, group_column="group"))
    assert err.value.field == "group_column"

    good = write_csv(tmp_path / "good.csv", ["x", "label", "group"], [[r[0], r[1], "a"] for r in rows])
    no_groups = write_csv(tmp_path / "test.csv", ["x", "label"], [r[:2] for r in rows])
    with pytest.raises(table.TableError, match="no column 'group'") as err:
        table.check(spec(good, group_column="group", test_path=no_groups))
    assert err.value.field == "test_path"


def test_inverse_frequency_weighs_every_group_equally_and_composes_with_a_weight_column(tmp_path):
    path = write_csv(tmp_path / "g.csv", ["x", "label", "group", "w"], grouped_rows())
    base = make_data(spec(path, group_column="group", weight_column="w"))
    data = make_data(spec(path, group_column="group", weight_column="w", group_weights="inverse_frequency"))
    assert base.w_train is not None and data.w_train is not None
    g = data.groups["train"]
    sizes = {k: int((g == k).sum()) for k in range(len(data.group_names))}
    n, groups = len(g), len(sizes)
    expected = base.w_train * torch.tensor([n / (groups * sizes[int(k)]) for k in g])
    assert torch.allclose(data.w_train, expected)
    unweighted = make_data(spec(path, group_column="group", group_weights="inverse_frequency"))
    assert unweighted.w_train is not None and float(unweighted.w_train.mean()) == pytest.approx(1.0)
    totals = [float(unweighted.w_train[g == k].sum()) for k in sizes]
    assert totals == pytest.approx([n / groups] * groups)


def test_subsampling_keeps_the_smallest_groups_size_of_every_group_per_data_seed(tmp_path):
    path = write_csv(tmp_path / "g.csv", ["x", "label", "group", "w"], grouped_rows(200))
    subsets = {}
    for seed in (0, 1):  # data_seed also draws the stratified test split, so the group sizes differ
        full = make_data(spec(path, group_column="group", data_seed=seed))
        smallest = min(int((full.groups["train"] == k).sum()) for k in range(2))
        data = make_data(spec(path, group_column="group", group_weights="subsample", data_seed=seed))
        g = data.groups["train"]
        assert [int((g == k).sum()) for k in range(2)] == [smallest, smallest]
        assert len(data.x_train) == len(data.y_train) == 2 * smallest
        rows = {tuple(r) for r in full.x_train.tolist()}
        assert all(tuple(r) in rows for r in data.x_train.tolist()), "a subset of the training rows"
        assert torch.equal(data.x_test, make_data(spec(path, group_column="group", data_seed=seed)).x_test)
        subsets[seed] = data.x_train
    again = make_data(spec(path, group_column="group", group_weights="subsample", data_seed=0))
    assert torch.equal(again.x_train, subsets[0]), "the same data_seed draws the same examples"
    assert not torch.equal(subsets[0], subsets[1])


def test_group_weights_need_group_labels():
    with pytest.raises(ValidationError, match="group_weights: needs group_column"):
        RunSpec(dataset="table", data_path="t.csv", group_weights="subsample")
    for dataset in ("blobs", "covariate_shift", "digits"):
        with pytest.raises(ValidationError, match="group_weights: needs group labels"):
            RunSpec(dataset=dataset, group_weights="inverse_frequency")
    RunSpec(dataset="spurious", group_weights="inverse_frequency")  # its groups are built in


def test_the_batched_engine_refuses_group_labels():
    for run in (RunSpec(dataset="spurious"), RunSpec(dataset="spurious", group_weights="subsample")):
        reason = why_not_batchable([run, run.model_copy(update={"seed": 1})])
        assert reason is not None and "group" in reason


def test_the_spurious_data_have_small_minority_groups_in_training_and_balanced_ones_in_test():
    run = RunSpec(dataset="spurious", n_train=100, n_test=50)
    data = make_data(run)
    names = data.group_names
    assert set(names) == {"neg.agree", "neg.disagree", "pos.agree", "pos.disagree"}
    train_sizes = Counter(names[k] for k in data.groups["train"].tolist())
    test_sizes = Counter(names[k] for k in data.groups["test"].tolist())
    minority = round((1 - SPURIOUS_AGREE) * 100)
    assert train_sizes == {"neg.agree": 100 - minority, "neg.disagree": minority,
                           "pos.agree": 100 - minority, "pos.disagree": minority}  # fmt: skip
    assert set(test_sizes.values()) == {25}
    for x, y, g in (
        (data.x_train, data.y_train, data.groups["train"]),
        (data.x_test, data.y_test, data.groups["test"]),
    ):
        assert torch.equal((x[:, 0] > 0).long(), y), "the core feature alone separates the classes"
        agree = torch.tensor([names[k].endswith(".agree") for k in g.tolist()])
        # the spurious feature's sign says whether it agrees (its noise crosses 0 at 4 sd: rarely)
        assert float((((x[:, 1] > 0) == (y == 1)) == agree).float().mean()) > 0.99
    assert torch.equal(make_data(run).x_train, data.x_train), "data_seed fixes the data"


def test_split_validation_keeps_each_held_out_example_with_its_group(tmp_path):
    path = write_csv(tmp_path / "g.csv", ["x", "label", "group", "w"], grouped_rows())
    data = make_data(spec(path, group_column="group"))
    trimmed, (x_val, _) = split_validation(data, 0.2, 0)
    assert len(trimmed.groups["train"]) == len(trimmed.x_train)
    assert len(trimmed.groups["val"]) == len(x_val)
    assert len(trimmed.groups["train"]) + len(x_val) == len(data.groups["train"])


def test_group_accuracies_intervals_stay_within_zero_and_one():
    for name in ("worst_group_acc", "acc_group_neg.agree"):
        assert metric_range(name) == (0.0, 1.0), name


def test_iwlab_run_records_group_readouts_and_says_when_a_table_has_none(tmp_path):
    from worker.engine.export import write_results
    from worker.engine.spec import ExperimentSpec

    rows = grouped_rows()
    grouped = write_csv(tmp_path / "g.csv", ["x", "label", "group"], [r[:3] for r in rows])
    plain = write_csv(tmp_path / "p.csv", ["x", "label"], [r[:2] for r in rows])
    exp = ExperimentSpec(
        base=RunSpec(dataset="table", data_path=grouped, group_column="group", epochs=2),
        sweep={"group_weights": ["none", "inverse_frequency", "subsample"], "seed": [0, 1]},
    )
    write_results(exp, tmp_path / "grouped", "cpu")
    runs = list(csv.DictReader((tmp_path / "grouped" / "runs.csv").open()))
    assert [r["group_weights"] for r in runs] == ["none", "none", "inverse_frequency", "inverse_frequency",
                                                  "subsample", "subsample"]  # fmt: skip
    assert all(r["missing_readouts"] == "" for r in runs)
    metrics = list(csv.DictReader((tmp_path / "grouped" / "metrics.csv").open()))
    worst = [m for m in metrics if m["metric"] == "worst_group_acc"]
    assert {(m["run_id"], m["split"]) for m in worst} == {(str(i), s) for i in range(6) for s in ("train", "test")}
    assert all(0 <= float(m["value"]) <= 1 for m in worst)
    summary = list(csv.DictReader((tmp_path / "grouped" / "summary.csv").open()))
    assert {r["group_weights"] for r in summary if r["metric"] == "worst_group_acc" and r["n"] == "2"} == {
        "none", "inverse_frequency", "subsample"
    }  # fmt: skip

    write_results(exp.model_copy(update={"base": RunSpec(dataset="table", data_path=plain, epochs=1), "sweep": {}}),
                  tmp_path / "plain", "cpu")  # fmt: skip
    (run,) = csv.DictReader((tmp_path / "plain" / "runs.csv").open())
    assert json.loads(run["missing_readouts"])["worst_group_acc"].startswith("the table has no group labels")

"""Bad tables are refused before anything is queued: the API's 422 names the field, `iwlab run`
exits 2 with one line; good ones train from the CLI with many classes and weights (issue 12)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from backend.cli import app
from backend.db import session_scope
from backend.models import Experiment, Run

GOOD = [["0.1", "1.2", "a", "1"], ["1.5", "0.3", "b", "2"], ["0.7", "0.9", "a", "0.5"], ["2.0", "1.1", "b", "1"],
        ["0.2", "0.8", "a", "1"], ["1.1", "0.4", "b", "3"]]  # fmt: skip
BAD = {  # name -> (rows, spec fields, the field blamed, what the message says)
    "missing column": (GOOD, {"weight_column": "weight"}, "weight_column", "no column 'weight'"),
    "non-numeric value": (
        [*GOOD[:2], ["0.7", "n/a", "a", "1"], *GOOD[3:]],
        {},
        "data_path",
        "column 'y', line 4: 'n/a' is not a number",
    ),
    "a single class": ([[*r[:2], "a", r[3]] for r in GOOD], {}, "label_column", "a single class ('a')"),
    "NaN weights": (
        [*GOOD[:4], ["0.2", "0.8", "a", "NaN"], GOOD[5]],
        {"weight_column": "w"},
        "weight_column",
        "line 6: the weight is NaN",
    ),
    "negative weights": (
        [["0.1", "1.2", "a", "-0.5"], *GOOD[1:]],
        {"weight_column": "w"},
        "weight_column",
        "line 2: the weight is negative",
    ),
    "a group name too long for a metric": (
        [[*GOOD[0][:3], "g" * 49], *GOOD[1:]],
        {"group_column": "w"},
        "group_column",
        "line 2: the group 'ggg",
    ),
}


def write_table(path, rows) -> str:
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([["x", "y", "label", "w"], *rows])
    return str(path)


def experiment(base: dict, sweep: dict | None = None) -> dict:
    return {"name": "t", "base": {"dataset": "table", "epochs": 1, **base}, "sweep": sweep or {"seed": [0]}}


def stored(settings) -> tuple[int | None, int | None]:
    with session_scope(settings.db_url) as s:
        return s.scalar(select(func.count()).select_from(Experiment)), s.scalar(select(func.count()).select_from(Run))


@pytest.mark.parametrize("case", list(BAD))
def test_the_api_refuses_a_bad_table_naming_the_field_and_queues_nothing(client, settings, tmp_path, case):
    rows, fields, field, message = BAD[case]
    path = write_table(tmp_path / "bad.csv", rows)
    resp = client.post("/api/v1/experiments", json=experiment({"data_path": path, **fields}))
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"][0]
    assert detail["loc"] == ["body", field] and message in detail["msg"] and "bad.csv" in detail["msg"], detail
    assert stored(settings) == (0, 0)
    assert not (settings.broker_folder / "messages").exists() or not list(
        (settings.broker_folder / "messages").iterdir()
    )


def test_an_uploaded_table_is_checked_from_the_store(client, settings, tmp_path):
    rows, _, _, _ = BAD["a single class"]
    data = Path(write_table(tmp_path / "one.csv", rows)).read_bytes()
    row = client.post("/api/v1/datasets", params={"name": "one.csv"}, content=data).json()
    resp = client.post("/api/v1/experiments", json=experiment({"dataset_id": row["id"]}))
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "label_column"], resp.text
    assert f"dataset {row['id']} (one.csv)" in resp.json()["detail"][0]["msg"]
    good = client.post(
        "/api/v1/datasets",
        params={"name": "good.csv"},
        content=Path(write_table(tmp_path / "g.csv", GOOD)).read_bytes(),
    ).json()
    resp = client.post(
        "/api/v1/experiments",
        json=experiment({"dataset_id": good["id"], "weight_column": "w"}, {"class_weights": [{}, {"b": 2.0}]}),
    )
    assert resp.status_code == 202, resp.text
    assert stored(settings) == (1, 2)


@pytest.mark.parametrize("case", list(BAD))
def test_iwlab_run_exits_2_with_one_line_on_a_bad_table(tmp_path, case):
    rows, fields, _, message = BAD[case]
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(experiment({"data_path": write_table(tmp_path / "bad.csv", rows), **fields})))
    result = CliRunner().invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "out").exists()


def test_iwlab_run_trains_three_classes_swept_by_class_weights_and_a_weight_column(tmp_path):
    rows = [
        [f"{i % 7 * 0.3:.2f}", f"{i % 5 * 0.4:.2f}", ("cat", "dog", "fox")[i % 3], f"{1 + i % 4}"] for i in range(60)
    ]
    path = write_table(tmp_path / "three.csv", rows)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(experiment({"data_path": path, "weight_column": "w", "epochs": 2},
                                              {"class_weights": [{}, {"fox": 4.0}], "seed": [0, 1]})))  # fmt: skip
    result = CliRunner().invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    runs = list(csv.DictReader((tmp_path / "out/runs.csv").open()))
    assert [r["class_weights"] for r in runs] == ["{}", "{}", '{"fox": 4.0}', '{"fox": 4.0}']
    assert all(r["effective_pos_weight"] == "" and "two classes" in r["missing_readouts"] for r in runs)
    metrics = {(m["run_id"], m["split"], m["metric"]) for m in csv.DictReader((tmp_path / "out/metrics.csv").open())}
    for run_id in "0123":
        assert {(run_id, "test", f"frac_pred_{c}") for c in ("cat", "dog", "fox")} <= metrics
        assert (run_id, "train", "effective_sample_size") in metrics
    summary = list(csv.DictReader((tmp_path / "out/summary.csv").open()))
    arms = {r["class_weights"] for r in summary}
    assert arms == {"{}", '{"fox": 4.0}'} and all(r["n"] == "2" for r in summary if r["metric"] == "balanced_acc")


def test_a_target_sample_uploaded_by_id_is_checked_and_copied_for_the_worker(client, settings, tmp_path):
    from backend.datasets import materialize
    from worker.engine.spec import RunSpec

    source = write_table(tmp_path / "s.csv", GOOD)
    target = client.post(
        "/api/v1/datasets", params={"name": "target.csv"}, content=b"x,y\n0.5,0.5\n1.0,0.2\n0.3,0.9\n"
    ).json()
    bad = client.post("/api/v1/datasets", params={"name": "bad.csv"}, content=b"x,z\n0.5,0.5\n1.0,0.2\n").json()
    base = {"data_path": source, "weight_column": "w", "example_weights": "estimated"}
    resp = client.post("/api/v1/experiments", json=experiment(base | {"target_dataset_id": bad["id"]}))
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "target_path"], resp.text
    assert "no feature column 'y'" in resp.json()["detail"][0]["msg"]
    resp = client.post("/api/v1/experiments", json=experiment(base | {"target_dataset_id": 9999}))
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "target_dataset_id"], resp.text
    assert (
        client.post("/api/v1/experiments", json=experiment(base | {"target_dataset_id": target["id"]})).status_code
        == 202
    )
    with session_scope(settings.db_url) as s:
        local = materialize(s, RunSpec(dataset="table", **base, target_dataset_id=target["id"]), tmp_path / "worker")
    assert local.data_path == source and Path(local.target_path).read_bytes() == b"x,y\n0.5,0.5\n1.0,0.2\n0.3,0.9\n"


def test_a_registered_location_the_api_cannot_see_is_left_to_the_workers(client, settings, tmp_path):
    """`client` migrates the database; a location on this machine is checked, one elsewhere not."""
    from backend import datasets
    from worker.engine.spec import ExperimentSpec

    bad = write_table(tmp_path / "bad.csv", BAD["a single class"][0])
    with session_scope(settings.db_url) as s:
        datasets.register(s, "here", bad, None)
        datasets.register(s, "there", "/srv/on-the-workers/t.csv", None)
    with session_scope(settings.db_url) as s:
        run = experiment({"data_path": "here"})
        with pytest.raises(datasets.BadDataset, match="a single class"):
            datasets.check_spec(s, ExperimentSpec.model_validate(run), lab=True)
        datasets.check_spec(s, ExperimentSpec.model_validate(experiment({"data_path": "there"})), lab=True)

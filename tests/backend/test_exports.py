"""Exports: a tidy CSV and a JSON document per experiment, a CSV per run, at full resolution."""

import csv
import io

import numpy as np

from backend import lifecycle, store
from backend.db import session_scope
from tests.backend.test_api import SPEC, epoch_record


def recorded(client, settings) -> tuple[dict, list[int]]:
    exp = client.post("/api/v1/experiments", json=SPEC).json()
    run_ids = [r["id"] for r in client.get(f"/api/v1/experiments/{exp['id']}/runs").json()]
    with session_scope(settings.db_url) as s:
        for k, run_id in enumerate(run_ids[:2]):
            store.record_epochs(
                s,
                run_id,
                [
                    epoch_record(e, {"test": {"frac_pred_pos": 0.1 * k + 0.01 * e}, "train": {"acc": 1 / 3}})
                    for e in range(30)
                ],
            )
    return exp, run_ids


def test_experiment_csv_is_tidy_with_the_swept_parameters_as_columns(client, settings):
    exp, run_ids = recorded(client, settings)
    resp = client.get(f"/api/v1/experiments/{exp['id']}/export.csv")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert f"iwlab-experiment-{exp['id']}-fade.csv" in resp.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert list(rows[0]) == [
        "pos_weight",
        "effective_pos_weight",
        "seed",
        "run_id",
        "epoch",
        "split",
        "metric",
        "value",
    ]
    assert len(rows) == 2 * 30 * 2, "every epoch of every metric: exports are never thinned"
    assert len({(r["run_id"], r["epoch"], r["split"], r["metric"]) for r in rows}) == len(rows)
    runs = {r["id"]: r for r in client.get(f"/api/v1/experiments/{exp['id']}/runs").json()}
    for row in rows:
        run = runs[int(row["run_id"])]
        assert float(row["pos_weight"]) == run["params"]["pos_weight"] and int(row["seed"]) == run["params"]["seed"]
    acc = next(r for r in rows if r["metric"] == "acc")
    assert acc["value"] == "0.33333334", "float32 precision: the digits past it are no model's"
    assert np.float32(acc["value"]) == np.float32(1 / 3), "and it reads back as the same float32"
    noisy = next(r for r in rows if r["metric"] == "frac_pred_pos" and r["epoch"] == "3" and r["pos_weight"] == "0.1")
    assert noisy["value"] == "0.03", "no float noise (0.03 held as a float32 is 0.029999999329447746)"


def test_a_swept_class_weights_dict_becomes_one_number_column_per_label(client, settings):
    spec = {"name": "cw", "base": {"model": "logreg", "epochs": 2}, "sweep": {"class_weights": [{}, {"pos": 4.0}]}}
    exp = client.post("/api/v1/experiments", json=spec).json()
    run_ids = [r["id"] for r in client.get(f"/api/v1/experiments/{exp['id']}/runs").json()]
    with session_scope(settings.db_url) as s:
        for run_id in run_ids:
            store.record_epochs(s, run_id, [epoch_record(0, {"test": {"acc": 0.5}})])
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/v1/experiments/{exp['id']}/export.csv").text)))
    assert list(rows[0])[:2] == ["class_weights.pos", "effective_pos_weight"], "no dict text in a cell"
    assert {int(r["run_id"]): float(r["class_weights.pos"]) for r in rows} == {run_ids[0]: 1.0, run_ids[1]: 4.0}, (
        "a class the dict does not name keeps weight 1"
    )


def test_experiment_json_holds_the_experiment_its_runs_and_every_row(client, settings):
    exp, run_ids = recorded(client, settings)
    doc = client.get(f"/api/v1/experiments/{exp['id']}/export.json").json()
    assert doc["experiment"]["id"] == exp["id"] and doc["experiment"]["spec"]["sweep"] == SPEC["sweep"]
    assert [r["id"] for r in doc["runs"]] == run_ids
    assert len(doc["metrics"]) == 120 and set(doc["metrics"][0]) == {"run_id", "epoch", "split", "metric", "value"}
    assert doc["boundaries"] == [], "no run stored a grid: no entry, rather than an empty frame list"


def test_run_csv_and_unknown_ids(client, settings):
    exp, run_ids = recorded(client, settings)
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/v1/runs/{run_ids[1]}/export.csv").text)))
    assert len(rows) == 60 and {r["run_id"] for r in rows} == {str(run_ids[1])}
    empty = client.get(f"/api/v1/runs/{run_ids[4]}/export.csv").text.splitlines()
    assert empty == ["pos_weight,effective_pos_weight,seed,run_id,epoch,split,metric,value"]
    for path in ("/experiments/999/export.csv", "/experiments/999/export.json", "/runs/999/export.csv"):
        resp = client.get("/api/v1" + path)
        assert resp.status_code == 404 and "999" in resp.json()["detail"]


def test_exports_carry_the_effective_weight_and_the_missing_readouts_the_worker_recorded(client, settings):
    exp, run_ids = recorded(client, settings)
    why = "the training data are not linearly separable"
    with session_scope(settings.db_url) as s:  # what a worker writes once it has built the run's data
        for k, run_id in enumerate(run_ids[:2]):
            run = store.get_run(s, run_id)
            run.effective_pos_weight, run.missing_readouts = 7.5 + k, {"svm_cosine": why} if k else {}
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/v1/experiments/{exp['id']}/export.csv").text)))
    effective = {int(r["run_id"]): r["effective_pos_weight"] for r in rows}
    assert effective == {run_ids[0]: "7.5", run_ids[1]: "8.5"}
    doc = client.get(f"/api/v1/experiments/{exp['id']}/export.json").json()
    runs = {r["id"]: r for r in doc["runs"]}
    assert runs[run_ids[1]]["effective_pos_weight"] == 8.5 and runs[run_ids[1]]["missing_readouts"] == {
        "svm_cosine": why
    }
    assert runs[run_ids[0]]["missing_readouts"] == {}, "recorded as none missing, not unknown"
    assert runs[run_ids[2]]["effective_pos_weight"] is None and runs[run_ids[2]]["missing_readouts"] is None, (
        "not yet known"
    )
    api = client.get(f"/api/v1/runs/{run_ids[1]}").json()
    assert api["effective_pos_weight"] == 8.5 and api["missing_readouts"] == {"svm_cosine": why}


def test_experiment_json_carries_every_boundary_frame_the_run_stored(client, settings):
    """A run trained by the engine and persisted through the worker's own calls: the export holds
    its grid and each frame, equal (to the 1/255 the store keeps) to what the model predicted."""
    from worker.engine.spec import RunSpec
    from worker.engine.train import train

    spec = {"name": "frames", "base": {"model": "logreg", "epochs": 12, "frames": 4, "grid": 16}}
    exp = client.post("/api/v1/experiments", json=spec).json()
    run_id = client.get(f"/api/v1/experiments/{exp['id']}/runs").json()[0]["id"]
    claim, _ = lifecycle.claim(settings, run_id, worker="test-host")
    assert claim is not None
    training = train(RunSpec.model_validate(claim.params), device="cpu")
    grid = training.grid
    assert lifecycle.save_grid(settings, run_id, claim.attempt, grid.xs, grid.ys, grid.points)
    results = list(training)
    assert lifecycle.flush(settings, run_id, claim.attempt, results, None) == "ok"
    predicted = {r.epoch: r.boundary for r in results if r.boundary is not None}
    assert len(predicted) >= 3, "the run must have stored several frames for this test to mean anything"

    doc = client.get(f"/api/v1/experiments/{exp['id']}/export.json").json()
    [stored] = doc["boundaries"]
    assert stored["run_id"] == run_id and stored["xs"] == grid.xs and stored["ys"] == grid.ys
    assert stored["points"] == [list(p) for p in grid.points]
    assert [f["epoch"] for f in stored["frames"]] == sorted(predicted)
    for frame in stored["frames"]:
        z = np.array(frame["z"])
        assert z.shape == (16, 16) and np.abs(z - predicted[frame["epoch"]]).max() <= 1 / 255
    assert client.get(f"/api/v1/runs/{run_id}/boundary").json()["epochs"] == [f["epoch"] for f in stored["frames"]]

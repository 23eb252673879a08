"""The REST API against a real database; the runs it queues land in a real (filesystem) queue."""

from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import func, select

from backend import lifecycle, store
from backend.db import session_scope
from backend.models import Experiment, Metric, Run

SPEC = {
    "name": "fade",
    "base": {"model": "logreg", "epochs": 20},
    "sweep": {"pos_weight": [0.1, 1, 10], "seed": [0, 1]},
}


def epoch_record(epoch, metrics, boundary=None):
    return SimpleNamespace(epoch=epoch, metrics=metrics, boundary=boundary)


def count(settings, model) -> int:
    with session_scope(settings.db_url) as s:
        return s.scalars(select(func.count()).select_from(model)).one()


def test_health_names_the_database(client, db_url):
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["database"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")


def test_openapi_is_served_under_the_prefix(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/experiments", "/api/v1/runs/{run_id}/boundary/{epoch}"} <= set(paths)


def test_create_expands_the_sweep_and_queues_every_run(client, settings):
    resp = client.post("/api/v1/experiments", json=SPEC)
    assert resp.status_code == 202
    exp = resp.json()
    assert exp["runs_total"] == 6 and exp["status"] == "queued" and exp["progress"] == 0
    runs = client.get(f"/api/v1/experiments/{exp['id']}/runs").json()
    assert sorted((r["params"]["pos_weight"], r["params"]["seed"]) for r in runs) == sorted(
        (w, s) for w in (0.1, 1, 10) for s in (0, 1)
    )
    assert all(r["params"]["epochs"] == 20 and r["status"] == "queued" for r in runs)
    queued = list((settings.broker_folder / "messages").iterdir())
    assert len(queued) == 6, "one message per run in the broker"


def test_list_is_paginated_newest_first(client):
    ids = [client.post("/api/v1/experiments", json=SPEC | {"name": f"e{i}"}).json()["id"] for i in range(3)]
    page = client.get("/api/v1/experiments", params={"limit": 2}).json()
    assert page["total"] == 3 and [e["id"] for e in page["items"]] == ids[::-1][:2]
    assert [
        e["id"] for e in client.get("/api/v1/experiments", params={"limit": 2, "offset": 2}).json()["items"]
    ] == ids[:1]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"base": {"lr": -1}}, "lr", "greater than 0"),
        ({"base": {"model": "transformer"}}, "model", "logreg"),
        ({"base": {"epochs": "many"}}, "epochs", "integer"),
        ({"sweep": {"colour": [1, 2]}}, "sweep.colour", "not a run parameter"),
        ({"sweep": {"pos_weight": [1, -2]}}, "pos_weight", "greater than 0"),
        ({"sweep": {"pos_weight": []}}, "sweep.pos_weight", "at least one value"),
        ({"sweep": {"seed": list(range(100)), "pos_weight": list(range(1, 7))}}, "sweep", "limit of 512"),
        ({"unknown": 1}, "unknown", "Extra inputs"),
        ({"base": {"group_weights": "subsample"}}, "group_weights", "needs group labels"),
    ],
)
def test_invalid_spec_is_422_naming_the_field_and_writes_nothing(client, settings, body, field, reason):
    resp = client.post("/api/v1/experiments", json=body)
    assert resp.status_code == 422
    detail = resp.json()["detail"][0]
    where = ".".join(str(p) for p in detail["loc"]) + " " + detail["msg"]
    assert field in where and reason in where
    assert count(settings, Experiment) == 0 and count(settings, Run) == 0


def test_unknown_ids_are_404(client):
    for path in (
        "/experiments/999",
        "/experiments/999/runs",
        "/runs/999",
        "/runs/999/metrics",
        "/runs/999/boundary",
        "/runs/999/boundary/3",
    ):
        resp = client.get("/api/v1" + path)
        assert resp.status_code == 404, path
        assert "999" in resp.json()["detail"]


def test_metrics_and_boundary_frames_read_back(client, settings):
    exp = client.post("/api/v1/experiments", json=SPEC).json()
    run_id = client.get(f"/api/v1/experiments/{exp['id']}/runs").json()[0]["id"]
    assert client.get(f"/api/v1/runs/{run_id}/boundary").status_code == 404  # not started yet
    grid = np.linspace(0, 1, 12).reshape(3, 4)
    claim, _ = lifecycle.claim(settings, run_id, worker="test-host")
    assert claim is not None
    with session_scope(settings.db_url) as s:
        store.save_grid(s, run_id, [0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0], [(0.5, 0.5, 1)])
        store.record_epochs(s, run_id, [epoch_record(0, {"test": {"frac_pred_pos": 0.0, "acc": 1.0}}, grid)])
        store.record_epochs(
            s,
            run_id,
            [
                epoch_record(1, {"test": {"frac_pred_pos": 0.25, "acc": 1.0}}),
                epoch_record(2, {"test": {"frac_pred_pos": 0.5, "acc": 1.0}}, grid),
            ],
        )
    rows = client.get(f"/api/v1/runs/{run_id}/metrics", params={"metric": "frac_pred_pos"}).json()
    assert [(r["epoch"], r["value"]) for r in rows] == [(0, 0.0), (1, 0.25), (2, 0.5)]
    info = client.get(f"/api/v1/runs/{run_id}/boundary").json()
    assert info["epochs"] == [0, 2] and info["points"] == [[0.5, 0.5, 1]]
    frame = client.get(f"/api/v1/runs/{run_id}/boundary/1").json()
    assert frame["epoch"] == 0  # the latest frame at or before epoch 1
    assert np.allclose(frame["z"], grid, atol=1 / 255)
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert run["status"] == "running" and run["epochs_done"] == 2 and run["worker"] == "test-host"
    exp = client.get(f"/api/v1/experiments/{exp['id']}").json()
    assert exp["status"] == "running" and exp["progress"] == pytest.approx(2 / 120)
    by_experiment = client.get(
        f"/api/v1/experiments/{exp['id']}/metrics", params={"split": "test", "metric": "acc"}
    ).json()
    assert len(by_experiment) == 3 and {r["run_id"] for r in by_experiment} == {run_id}


def test_a_redelivered_epoch_overwrites_instead_of_duplicating(client, settings):
    exp = client.post("/api/v1/experiments", json=SPEC).json()
    run_id = client.get(f"/api/v1/experiments/{exp['id']}/runs").json()[0]["id"]
    for value in (0.1, 0.2):
        with session_scope(settings.db_url) as s:
            store.record_epochs(s, run_id, [epoch_record(1, {"train": {"loss": value}}, np.zeros((2, 2)))])
    with session_scope(settings.db_url) as s:
        rows = s.scalars(select(Metric).where(Metric.run_id == run_id)).all()
    assert [(m.epoch, m.value) for m in rows] == [(1, 0.2)]


def test_catalog_lists_run_parameters_with_limits(client):
    cat = client.get("/api/v1/catalog").json()
    props = cat["run"]["properties"]
    assert props["lr"]["exclusiveMinimum"] == 0 and {"logreg", "mlp"} <= set(props["model"]["enum"])
    assert cat["defaults"]["sweep"]["pos_weight"] == [0.1, 1.0, 10.0]


def test_metrics_filter_by_a_reference_metric_name_with_its_weight(client, settings):
    exp = client.post("/api/v1/experiments", json=SPEC).json()
    run_id = client.get(f"/api/v1/experiments/{exp['id']}/runs").json()[2]["id"]
    with session_scope(settings.db_url) as s:
        store.record_epochs(
            s,
            run_id,
            [epoch_record(e, {"test": {"bayes_frac_pos@10": 0.9, "bayes_frac_pos@0.1": 0.1}}) for e in range(3)],
        )
    rows = client.get(
        f"/api/v1/experiments/{exp['id']}/metrics", params={"split": "test", "metric": "bayes_frac_pos@10"}
    ).json()
    assert [(r["epoch"], r["metric"], r["value"]) for r in rows] == [(e, "bayes_frac_pos@10", 0.9) for e in range(3)]
    assert client.get(f"/api/v1/runs/{run_id}/metrics", params={"metric": "a;b"}).status_code == 422

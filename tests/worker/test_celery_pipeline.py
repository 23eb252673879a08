"""The lab-server path for real: API -> Redis -> a Celery worker process -> Postgres -> API."""

import os
import platform
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend import store
from backend.app import create_app
from backend.db import session_scope
from backend.queue import dispatch
from backend.settings import Settings
from tests.services import spawn, stop, tail, wait_for
from worker.engine.spec import ExperimentSpec, RunSpec


@pytest.fixture
def lab(redis_url, postgres_url, tmp_path) -> Iterator[tuple[TestClient, Settings]]:
    settings = Settings(home=tmp_path, database_url=postgres_url, broker_url=redis_url)
    env = os.environ | {
        "IWLAB_HOME": str(tmp_path),
        "IWLAB_DATABASE_URL": postgres_url,
        "IWLAB_BROKER_URL": redis_url,
        "IWLAB_DEVICE": "cpu",
    }
    log = tmp_path / "worker.log"
    with TestClient(create_app(settings)) as client:  # migrates the database before the worker starts
        worker = spawn([sys.executable, "-m", "backend.cli", "worker"], env=env, log=log)
        try:
            yield client, settings
        except BaseException:
            print(tail(log))
            raise
        finally:
            stop(worker)


def finished(client: TestClient, exp_id: int) -> dict | None:
    exp = client.get(f"/api/v1/experiments/{exp_id}").json()
    return exp if exp["status"] not in ("queued", "running") else None


def test_experiment_trains_on_a_real_worker_and_lands_in_postgres(lab):
    client, _ = lab
    spec = {
        "name": "fade",
        "base": {"model": "logreg", "epochs": 150, "frames": 10},
        "sweep": {"pos_weight": [0.1, 1, 10]},
    }
    exp = client.post("/api/v1/experiments", json=spec).json()
    exp = wait_for(lambda: finished(client, exp["id"]), timeout=180, what="the experiment to finish", interval=0.5)
    assert exp["status"] == "succeeded" and exp["progress"] == 1.0

    runs = client.get(f"/api/v1/experiments/{exp['id']}/runs").json()
    assert all(r["epochs_done"] == 150 and r["worker"] and r["finished_at"] for r in runs)
    import torch  # the worker runs from this same environment: it must report what this process sees

    env = runs[0]["environment"]
    assert env["packages"]["torch"] == torch.__version__
    assert env["device"] == "cpu" and env["python"] == platform.python_version() and env["torch_threads"] == 1
    rows = client.get(
        f"/api/v1/experiments/{exp['id']}/metrics", params={"split": "test", "metric": "frac_pred_pos"}
    ).json()
    frac = {(r["run_id"], r["epoch"]): r["value"] for r in rows}
    assert len(frac) == 3 * 151, "one row per run and epoch, 0 to 150, none duplicated"

    def spread(epoch):
        values = [frac[(r["id"], epoch)] for r in runs]
        return max(values) - min(values)

    assert spread(1) >= 0.3 and spread(150) <= 0.05  # the weights' effect fades (docs/science.md)
    info = client.get(f"/api/v1/runs/{runs[0]['id']}/boundary").json()
    assert info["epochs"][0] == 0 and info["epochs"][-1] == 150 and len(info["points"]) == 200
    frame = client.get(f"/api/v1/runs/{runs[0]['id']}/boundary/150").json()
    assert len(frame["z"]) == 64 and len(frame["z"][0]) == 64


def test_a_run_that_raises_fails_with_its_error_and_the_worker_goes_on(lab):
    client, settings = lab
    # a row corrupted behind the API's back (say, by a bad migration) must fail loudly, not hang
    with session_scope(settings.db_url) as s:
        exp = store.create_experiment(s, ExperimentSpec(base=RunSpec(epochs=3), sweep={"seed": [0, 1]}))
        broken, healthy = exp.runs
        broken.params = broken.params | {"lr": -1}
    dispatch(settings, [broken.id, healthy.id])
    wait_for(lambda: finished(client, exp.id), timeout=120, what="both runs to finish", interval=0.5)
    failed = client.get(f"/api/v1/runs/{broken.id}").json()
    assert failed["status"] == "failed" and "lr" in failed["error"] and failed["finished_at"]
    assert client.get(f"/api/v1/runs/{healthy.id}").json()["status"] == "succeeded"

    # repaired and retried: the same row trains again, and its history keeps the failed attempt
    with session_scope(settings.db_url) as s:
        store.get_run(s, broken.id).params = broken.params | {"lr": 0.03}
    assert client.post(f"/api/v1/runs/{broken.id}/retry").status_code == 202
    wait_for(lambda: finished(client, exp.id), timeout=120, what="the retried run to finish", interval=0.5)
    history = client.get(f"/api/v1/runs/{broken.id}/history").json()
    assert [(e["event"], e["status"], e["attempt"]) for e in history] == [
        ("queued", "queued", None),
        ("claimed", "running", 1),
        ("failed", "failed", 1),
        ("retried", "queued", None),
        ("claimed", "running", 2),
        ("succeeded", "succeeded", 2),  # attempt numbers only grow
    ]
    worker = client.get(f"/api/v1/runs/{broken.id}").json()["worker"]
    assert worker and all(
        e["worker"] == worker for e in history if e["attempt"]
    )  # the one worker, named as the registry knows it
    assert "lr" in history[2]["detail"] and history[3]["detail"] == "was failed, by local"

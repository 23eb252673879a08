"""A run whose loss becomes NaN fails, naming the epoch where it diverged, and keeps the epochs
before it (issue 14, item 9). The Celery task runs in this process (eagerly), into Postgres: alone,
and as one run of a batched group whose other run is healthy."""

import pytest

from backend.settings import get_settings
from worker.tasks import train_run

DIVERGING = {
    "model": "mlp",
    "lr": 100,
    "pos_weight": 1e6,
    "loss_norm": "mean",
    "epochs": 20,
    "n_train": 20,
    "n_test": 20,
    "frames": 2,
    "grid": 8,
}


@pytest.fixture
def lab(make_lab, monkeypatch):
    def _lab(batch_runs: int):
        lab = make_lab("filesystem://", batch_runs=batch_runs)
        for key, value in lab.env.items():
            if key.startswith("IWLAB_"):
                monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        return lab

    yield _lab
    get_settings.cache_clear()


@pytest.mark.parametrize("batch_runs", [1, 32])
def test_a_diverged_run_fails_with_the_epoch_and_keeps_the_epochs_before(lab, batch_runs):
    lab = lab(batch_runs)
    exp = lab.client.post(
        "/api/v1/experiments", json={"name": "nan", "base": DIVERGING, "sweep": {"lr": [100, 0.01]}}
    ).json()
    diverged, healthy = lab.client.get(f"/api/v1/experiments/{exp['id']}/runs").json()
    for run in (diverged, healthy):
        train_run.apply(args=[run["id"]])
    diverged, healthy = (lab.client.get(f"/api/v1/runs/{r['id']}").json() for r in (diverged, healthy))
    assert diverged["status"] == "failed", diverged
    assert (
        "diverged" in diverged["error"] and "at epoch 1" in diverged["error"] and "Traceback" not in diverged["error"]
    )
    epochs = {row["epoch"] for row in lab.client.get(f"/api/v1/runs/{diverged['id']}/metrics").json()}
    assert 0 in epochs and max(epochs) <= 1  # the finite epochs are kept; nothing after the divergence
    history = lab.client.get(f"/api/v1/runs/{diverged['id']}/history").json()
    assert history[-1]["event"] == "failed" and "diverged" in history[-1]["detail"]
    assert healthy["status"] == "succeeded" and healthy["epochs_done"] == DIVERGING["epochs"]

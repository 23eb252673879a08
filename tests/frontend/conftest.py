"""Hand-made API JSON for the frontend's pure builders (no server, no torch, no backend import)."""

from __future__ import annotations

import pytest

BASE = {
    "dataset": "blobs",
    "n_train": 100,
    "n_test": 500,
    "noise": 1.0,
    "data_seed": 0,
    "model": "logreg",
    "hidden": [64],
    "pos_weight": 1.0,
    "loss_norm": "sum",
    "lr": 0.03,
    "batch_size": 8,
    "epochs": 4,
    "weight_decay": 0.0,
    "seed": 0,
    "frames": 24,
    "grid": 8,
}


def make_run(
    run_id: int,
    index: int,
    weight: float,
    seed: int,
    status: str = "succeeded",
    done: int = 4,
    error: str | None = None,
    **params,
) -> dict:
    return {
        "id": run_id,
        "experiment_id": 1,
        "index": index,
        "params": BASE | {"pos_weight": weight, "seed": seed} | params,
        "status": status,
        "epochs_done": done,
        "epochs": 4,
        "error": error,
        "worker": "w1",
        "created_at": "2026-01-01T00:00:00",
        "started_at": None,
        "finished_at": None,
    }


@pytest.fixture
def runs() -> list[dict]:
    """Weights {10, 0.1, 1} (deliberately unsorted) x seeds {0, 1}: run ids 1..6."""
    out, i = [], 0
    for w in (10.0, 0.1, 1.0):
        for s in (0, 1):
            out.append(make_run(i + 1, i, w, s))
            i += 1
    return out


@pytest.fixture
def experiment() -> dict:
    return {
        "id": 1,
        "name": "fade",
        "created_at": "2026-01-01T12:30:00Z",
        "status": "running",
        "runs_total": 6,
        "status_counts": {"succeeded": 4, "running": 2},
        "progress": 0.75,
        "spec": {"name": "fade", "base": BASE, "sweep": {"pos_weight": [0.1, 1, 10], "seed": [0, 1]}},
    }

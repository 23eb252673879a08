"""Real worker processes over Redis into Postgres: cancel a training run; kill -9 a worker mid-run
and let another one finish it from the checkpoint, exactly as an uninterrupted run would have."""

import math
import signal
from collections import defaultdict

import torch
from sqlalchemy import select

from backend.db import session_scope
from backend.models import Checkpoint
from tests.services import stop, wait_for
from worker.engine.spec import RunSpec
from worker.engine.train import train


def only_run(client, spec: dict) -> int:
    exp = client.post("/api/v1/experiments", json=spec).json()
    assert exp["runs_total"] == 1
    return client.get(f"/api/v1/experiments/{exp['id']}/runs").json()[0]["id"]


def run_state(client, run_id: int) -> dict:
    return client.get(f"/api/v1/runs/{run_id}").json()


def epochs_by_metric(client, run_id: int) -> dict[tuple[str, str], list[int]]:
    seen = defaultdict(list)
    for row in client.get(f"/api/v1/runs/{run_id}/metrics").json():
        seen[(row["split"], row["metric"])].append(row["epoch"])
    return seen


def test_cancel_stops_a_running_run_within_a_flush_and_keeps_its_epochs(make_lab, isolated_redis_url):
    lab = make_lab(isolated_redis_url)
    lab.start_worker("worker")
    run_id = only_run(lab.client, {"name": "long", "base": {"epochs": 5000, "frames": 4}, "sweep": {}})
    wait_for(
        lambda: run_state(lab.client, run_id)["epochs_done"] >= 3, timeout=90, what="training to start", interval=0.2
    )
    resp = lab.client.post(f"/api/v1/runs/{run_id}/cancel")
    assert resp.status_code == 202 and resp.json()["cancel_requested"]
    run = wait_for(
        lambda: (r := run_state(lab.client, run_id))["status"] == "cancelled" and r,
        timeout=10,
        what="the worker to stop",
        interval=0.1,
    )
    assert 3 <= run["epochs_done"] < 5000 and run["finished_at"]
    by_metric = epochs_by_metric(lab.client, run_id)
    assert by_metric[("train", "loss")] == list(range(run["epochs_done"] + 1))  # the finished epochs stay, continuous
    assert all(len(set(epochs)) == len(epochs) for epochs in by_metric.values())


def test_kill_9_mid_run_a_second_worker_resumes_and_matches_an_uninterrupted_run(make_lab, isolated_redis_url):
    lab = make_lab(isolated_redis_url)
    params = {"epochs": 150, "frames": 6, "pos_weight": 10.0, "seed": 3}
    first = lab.start_worker("worker-a")
    run_id = only_run(lab.client, {"name": "resume", "base": params, "sweep": {}})

    def checkpointed() -> int | None:
        with session_scope(lab.settings.db_url) as s:
            ckpt = s.scalar(select(Checkpoint.epoch).where(Checkpoint.run_id == run_id))
        return ckpt if ckpt and ckpt >= 20 else None

    wait_for(checkpointed, timeout=120, what="a checkpoint past epoch 20", interval=0.1)
    stop(first, sig=signal.SIGKILL)  # no warm shutdown, no ack, no goodbye
    killed_at = run_state(lab.client, run_id)
    assert killed_at["status"] == "running" and killed_at["epochs_done"] < 150, "killed too late to test a resume"

    lab.start_worker("worker-b")
    run = wait_for(
        lambda: (r := run_state(lab.client, run_id))["status"] not in ("queued", "running") and r,
        timeout=120,
        what="the second worker to finish the run",
        interval=0.3,
    )
    assert run["status"] == "succeeded" and run["attempts"] == 2 and run["worker"] != killed_at["worker"]
    history = lab.client.get(f"/api/v1/runs/{run_id}/history").json()
    assert [(e["event"], e["attempt"], e["worker"]) for e in history] == [
        ("queued", None, None),
        ("claimed", 1, killed_at["worker"]),
        ("requeued", 1, killed_at["worker"]),
        ("claimed", 2, run["worker"]),
        ("succeeded", 2, run["worker"]),
    ]
    assert history[3]["detail"].startswith("resumed from the checkpoint of epoch ")

    rows = lab.client.get(f"/api/v1/runs/{run_id}/metrics").json()
    by_metric = epochs_by_metric(lab.client, run_id)
    assert by_metric[("train", "loss")] == list(range(151))  # continuous across the kill
    assert all(len(set(epochs)) == len(epochs) for epochs in by_metric.values())  # none twice

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as fast as the workers (OMP_NUM_THREADS=1); the values do not depend on it
    try:
        reference = {
            (r.epoch, split, name): value
            for r in train(RunSpec(**params), device="cpu")
            for split, values in r.metrics.items()
            for name, value in values.items()
            if math.isfinite(value)
        }  # undefined values are stored as missing rows
    finally:
        torch.set_num_threads(threads)
    resumed = {(row["epoch"], row["split"], row["metric"]): row["value"] for row in rows}
    assert resumed.keys() == reference.keys()
    mismatched = [k for k in reference if resumed[k] != reference[k]]
    assert not mismatched, f"{len(mismatched)} values differ from an uninterrupted run, e.g. {mismatched[:3]}"
    with session_scope(lab.settings.db_url) as s:
        assert s.get(Checkpoint, run_id) is None  # dropped once the run succeeded

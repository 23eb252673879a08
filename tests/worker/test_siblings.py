"""Lab-server sweeps train as one batched program: a real worker over Redis into Postgres claims the
sibling runs of the run it was sent, writes each run's own rows (equal to the per-run engine's),
cancels one run of the group without stopping the others, and loses nothing when it dies."""

import math
import signal

import torch

from tests.services import stop, wait_for
from worker.engine.spec import RunSpec
from worker.engine.train import train

from .test_resume_and_cancel import epochs_by_metric, run_state

TOL = 1e-5


def submit(client, spec: dict) -> list[dict]:
    exp = client.post("/api/v1/experiments", json=spec).json()
    return client.get(f"/api/v1/experiments/{exp['id']}/runs").json()


def all_finished(client, runs: list[dict]) -> list[dict] | None:
    states = [run_state(client, r["id"]) for r in runs]
    return states if all(s["status"] not in ("queued", "running") for s in states) else None


def test_a_sweep_trains_as_one_program_and_matches_the_per_run_engine(make_lab, isolated_redis_url):
    lab = make_lab(isolated_redis_url)
    worker = lab.start_worker("worker")
    base = {"model": "mlp", "hidden": [16], "epochs": 40, "frames": 5}
    runs = submit(lab.client, {"name": "sweep", "base": base, "sweep": {"pos_weight": [0.25, 1, 4], "seed": [0, 1]}})
    states = wait_for(lambda: all_finished(lab.client, runs), timeout=120, what="the sweep to finish", interval=0.3)
    assert [s["status"] for s in states] == ["succeeded"] * 6
    assert "claimed 6 runs of one experiment to train together" in worker.log_path.read_text()
    assert {s["environment"]["engine"] for s in states} == {"batched, 6 runs in one program"}

    for run in runs:
        assert_rows_equal_the_per_run_engine(lab.client, run)
        boundary = lab.client.get(f"/api/v1/runs/{run['id']}/boundary").json()
        assert boundary["epochs"][0] == 0 and boundary["epochs"][-1] == 40 and len(boundary["points"]) == 200


def assert_rows_equal_the_per_run_engine(client, run: dict) -> dict:
    """The run's stored rows, each within TOL of the per-run engine's (trained here on one thread,
    as the worker does); returns them by (epoch, split, metric)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        reference = {
            (r.epoch, split, name): value
            for r in train(RunSpec(**run["params"]), device="cpu")
            for split, values in r.metrics.items()
            for name, value in values.items()
            if math.isfinite(value)
        }
    finally:
        torch.set_num_threads(threads)
    stored = {
        (row["epoch"], row["split"], row["metric"]): row["value"]
        for row in client.get(f"/api/v1/runs/{run['id']}/metrics").json()
    }
    assert stored.keys() == reference.keys()
    worst = max(abs(stored[k] - v) for k, v in reference.items())
    assert worst <= TOL, f"run {run['id']}: differs from the per-run engine by {worst}"
    return stored


def test_cancelling_one_run_of_a_group_leaves_the_others_training(make_lab, isolated_redis_url):
    lab = make_lab(isolated_redis_url)
    lab.start_worker("worker")
    runs = submit(
        lab.client, {"name": "long", "base": {"epochs": 20000, "frames": 2}, "sweep": {"pos_weight": [0.5, 1, 2]}}
    )
    ids = [r["id"] for r in runs]
    wait_for(
        lambda: all(run_state(lab.client, i)["epochs_done"] >= 3 for i in ids),
        timeout=90,
        what="the group to train",
        interval=0.2,
    )
    assert lab.client.post(f"/api/v1/runs/{ids[1]}/cancel").status_code == 202
    cancelled = wait_for(
        lambda: (r := run_state(lab.client, ids[1]))["status"] == "cancelled" and r,
        timeout=15,
        what="the run to stop",
        interval=0.1,
    )
    others = [run_state(lab.client, i) for i in (ids[0], ids[2])]
    wait_for(
        lambda: all(run_state(lab.client, o["id"])["epochs_done"] > o["epochs_done"] + 5 for o in others),
        timeout=30,
        what="the other runs to go on",
        interval=0.2,
    )
    assert [run_state(lab.client, i)["status"] for i in (ids[0], ids[2])] == ["running", "running"]
    assert run_state(lab.client, ids[1])["epochs_done"] == cancelled["epochs_done"]  # no longer written
    assert epochs_by_metric(lab.client, ids[1])[("train", "loss")] == list(range(cancelled["epochs_done"] + 1))
    for i in (ids[0], ids[2]):
        lab.client.post(f"/api/v1/runs/{i}/cancel")
    wait_for(lambda: all_finished(lab.client, runs), timeout=15, what="the group to stop", interval=0.1)


def test_a_killed_group_worker_loses_no_run(make_lab, isolated_redis_url):
    lab = make_lab(isolated_redis_url)
    first = lab.start_worker("worker-a")
    runs = submit(
        lab.client,
        {"name": "kill", "base": {"epochs": 3000, "eval_points": 40, "frames": 2}, "sweep": {"pos_weight": [0.5, 2]}},
    )
    wait_for(
        lambda: all(run_state(lab.client, r["id"])["epochs_done"] >= 5 for r in runs),
        timeout=90,
        what="the group to train",
        interval=0.1,
    )
    stop(first, sig=signal.SIGKILL)
    assert all(run_state(lab.client, r["id"])["status"] == "running" for r in runs), "killed too late to test recovery"

    lab.start_worker("worker-b")
    states = wait_for(
        lambda: all_finished(lab.client, runs), timeout=240, what="the second worker to finish both runs", interval=0.5
    )
    assert [s["status"] for s in states] == ["succeeded", "succeeded"] and all(s["attempts"] == 2 for s in states)
    for run in runs:
        by_metric = epochs_by_metric(lab.client, run["id"])
        assert by_metric[("train", "loss")][-1] == 3000 and all(len(set(e)) == len(e) for e in by_metric.values())

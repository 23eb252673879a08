"""Real worker processes over Redis into Postgres: they register and beat, a killed one shows dead,
a drained one finishes its run and takes no more, and `--gpus` starts one pinned process per GPU
from a parent that never loads torch (no CUDA here: the children train on the CPU if at all)."""

import json
import os
import signal
from pathlib import Path

from tests.services import stop, wait_for
from worker.launch import gpu_children, parse_gpus

LONG = {"name": "long", "base": {"epochs": 1500, "eval_points": 30, "frames": 2}, "sweep": {}}
SHORT = {"name": "short", "base": {"epochs": 3, "frames": 2}, "sweep": {}}


def workers(client) -> dict[str, dict]:
    return {w["name"]: w for w in client.get("/api/v1/workers").json()["items"]}


def by_pid(client, pid: int) -> dict | None:
    return next((w for w in workers(client).values() if w["pid"] == pid), None)


def only_run(client, spec: dict) -> int:
    exp = client.post("/api/v1/experiments", json=spec).json()
    return client.get(f"/api/v1/experiments/{exp['id']}/runs").json()[0]["id"]


def run_state(client, run_id: int) -> dict:
    return client.get(f"/api/v1/runs/{run_id}").json()


def test_each_gpu_child_is_pinned_to_its_own_device_and_does_not_spawn_again():
    children = gpu_children(parse_gpus("0,1"), ["gpu"], 1, None)
    assert [env["CUDA_VISIBLE_DEVICES"] for _, env in children] == ["0", "1"]
    for cmd, _ in children:
        assert "--gpus" not in cmd and cmd[cmd.index("--queues") + 1] == "gpu"


def test_a_worker_registers_beats_and_shows_dead_after_kill_9(make_lab, isolated_redis_url):
    lab = make_lab(isolated_redis_url)
    proc = lab.start_worker("worker")
    seen = wait_for(lambda: by_pid(lab.client, proc.pid), timeout=60, what="the worker to register", interval=0.3)
    assert seen["alive"] and seen["queues"] == ["cpu"] and not seen["busy"] and seen["gpu"] is None
    first_beat = seen["heartbeat_at"]
    wait_for(lambda: by_pid(lab.client, proc.pid)["heartbeat_at"] > first_beat, timeout=10, what="a second heartbeat")
    stop(proc, sig=signal.SIGKILL)
    dead = wait_for(
        lambda: (w := by_pid(lab.client, proc.pid)) and not w["alive"] and w,
        timeout=lab.settings.dead_after_seconds + 10,
        what="the killed worker to show dead",
        interval=0.3,
    )
    assert dead["stopped_at"] is None  # no goodbye: found dead by its silence


def test_a_drained_worker_finishes_its_run_and_takes_no_more(make_lab, isolated_redis_url):
    lab = make_lab(isolated_redis_url)
    a = lab.start_worker("worker-a", IWLAB_LOG_FORMAT="json")
    first = only_run(lab.client, LONG)
    busy = wait_for(
        lambda: (w := by_pid(lab.client, a.pid)) and w["busy"] and w, timeout=90, what="worker a to train", interval=0.2
    )
    assert busy["current_runs"] == [first]

    resp = lab.client.post(f"/api/v1/workers/{busy['name']}/drain")
    assert resp.status_code == 202 and resp.json()["draining"]
    second = only_run(lab.client, SHORT)
    assert a.wait(timeout=120) == 0  # warm shutdown once the run is done
    assert run_state(lab.client, first)["status"] == "succeeded"
    assert run_state(lab.client, second)["status"] == "queued"  # not taken by the drained worker
    gone = by_pid(lab.client, a.pid)
    assert not gone["alive"] and gone["draining"] and gone["stopped_at"] is not None

    b = lab.start_worker("worker-b")
    done = wait_for(
        lambda: (r := run_state(lab.client, second))["status"] == "succeeded" and r,
        timeout=90,
        what="worker b to take the second run",
        interval=0.3,
    )
    assert done["worker"] == by_pid(lab.client, b.pid)["name"]

    # structured worker logs: one JSON object a line, the run's events with run id, attempt and worker
    events = [json.loads(line) for line in Path(a.log_path).read_text().splitlines() if line.startswith("{")]
    mine = [(e["event"], e["attempt"]) for e in events if e.get("run_id") == first and e.get("worker") == busy["name"]]
    assert mine == [("claimed", 1), ("succeeded", 1)]


def test_gpus_start_one_pinned_worker_per_gpu_from_a_parent_without_torch(make_lab, isolated_redis_url):
    lab = make_lab(isolated_redis_url)
    parent = lab.start_worker("gpu-workers", "--queues", "gpu", "--gpus", "0,1", IWLAB_DEVICE="cpu")
    pinned = wait_for(
        lambda: (ws := [w for w in workers(lab.client).values() if w["alive"]]) and len(ws) == 2 and ws,
        timeout=90,
        what="two GPU workers to register",
        interval=0.3,
    )
    assert sorted(w["gpu"] for w in pinned) == ["0", "1"] and all(w["queues"] == ["gpu"] for w in pinned)
    assert parent.pid not in {w["pid"] for w in pinned}
    assert "torch" not in Path(f"/proc/{parent.pid}/maps").read_text()  # the parent never loaded torch (nor CUDA)
    os.kill(parent.pid, signal.SIGTERM)  # passed on to the children: each says goodbye
    assert parent.wait(timeout=60) == 0
    assert not any(w["alive"] for w in workers(lab.client).values())

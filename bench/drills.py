"""Lab-server drills (issue 14): break a real lab on purpose and count what was lost, duplicated or
left with gaps, in SQL. Everything is real: a throwaway Postgres, a Redis without persistence (so a
restart loses its queue), the API in this process with its maintenance loop, and `iwlab worker`
processes that are killed, stopped and restarted.

    PYTHONPATH=. OMP_NUM_THREADS=1 python bench/drills.py [--only NAME ...] [--epochs 1500]

Drills: kill -9 of a worker mid-run, and mid-group (a batched sweep); the broker losing every
message; a database restart; a database outage longer than the dead-worker timeout; a worker
stopped (SIGSTOP), its run cancelled and retried and taken by another worker, then woken up.
(Clock skew needs libfaketime, which this machine lacks; tests/backend/test_hardening_fence.py
checks that heartbeats use the database's clock.) Prints one row per drill and writes
bench/results/drills.json. Every column but the seconds should be 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402

from backend.app import create_app  # noqa: E402
from backend.db import get_engine  # noqa: E402
from backend.settings import Settings  # noqa: E402
from tests.services import RedisServer, ThrowawayPostgres, find_pg_bin, spawn, stop, wait_for  # noqa: E402

LIFECYCLE: dict = {
    "flush_seconds": 0.2,
    "checkpoint_seconds": 0.0,
    "dead_after_seconds": 4.0,
    "maintenance_seconds": 0.5,
    "resend_after_seconds": 5.0,
}

# per run: train-loss rows expected at every epoch 0..epochs; gaps = epochs without one, duplicated =
# rows beyond one per epoch (the unique key forbids them) plus runs that finished more than once
COUNTS = text("""
SELECT r.id, r.status, r.epochs,
       (SELECT COUNT(DISTINCT m.epoch) FROM metrics m WHERE m.run_id = r.id AND m.split = 'train' AND m.name = 'loss') AS epochs_seen,
       (SELECT COUNT(*) FROM metrics m WHERE m.run_id = r.id AND m.split = 'train' AND m.name = 'loss') AS rows_seen,
       (SELECT COUNT(*) FROM run_events e WHERE e.run_id = r.id AND e.event = 'succeeded') AS finishes,
       (SELECT e.worker FROM run_events e WHERE e.run_id = r.id AND e.event = 'succeeded' ORDER BY e.id DESC LIMIT 1) AS finisher,
       (SELECT e.worker FROM run_events e WHERE e.run_id = r.id AND e.event = 'claimed' ORDER BY e.id DESC LIMIT 1) AS claimer
FROM runs r WHERE r.experiment_id = :exp
""")


class Lab:
    def __init__(self, home: Path, pg: ThrowawayPostgres, redis_url: str):
        self.home, self.pg, self.redis_url = home, pg, redis_url
        self.db_url = pg.create_database("iwlab_drill")
        self.settings = Settings(home=home, database_url=self.db_url, broker_url=redis_url, **LIFECYCLE)
        self.env = os.environ | {
            "IWLAB_HOME": str(home),
            "IWLAB_DATABASE_URL": self.db_url,
            "IWLAB_BROKER_URL": redis_url,
            "IWLAB_DEVICE": "cpu",
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(ROOT),
        }
        self.env |= {f"IWLAB_{k.upper()}": str(v) for k, v in LIFECYCLE.items()}
        self._client_ctx = TestClient(create_app(self.settings))
        self.client = self._client_ctx.__enter__()
        self.workers: dict[str, subprocess.Popen] = {}

    def worker(self, name: str, batch_runs: int = 1):
        proc = spawn(
            [sys.executable, "-m", "backend.cli", "worker"],
            env=self.env | {"IWLAB_BATCH_RUNS": str(batch_runs)},
            log=self.home / f"{name}.log",
        )
        self.workers[name] = proc
        return proc

    def submit(self, epochs: int, seeds: int = 1) -> tuple[int, list[int]]:
        spec = {
            "name": "drill",
            "base": {"epochs": epochs, "frames": 4, "n_train": 50, "n_test": 50},
            "sweep": {"seed": list(range(seeds))},
        }
        exp = self.client.post("/api/v1/experiments", json=spec).json()
        return exp["id"], [r["id"] for r in self.client.get(f"/api/v1/experiments/{exp['id']}/runs").json()]

    def run(self, run_id: int) -> dict:
        return self.client.get(f"/api/v1/runs/{run_id}").json()

    def progress(self, run_id: int, epochs: int, timeout: float = 120) -> None:
        wait_for(
            lambda: self.run(run_id)["epochs_done"] >= epochs,
            timeout=timeout,
            what=f"run {run_id} at epoch {epochs}",
            interval=0.2,
        )

    def finished(self, exp_id: int, timeout: float = 600) -> None:
        def done():
            try:
                runs = self.client.get(f"/api/v1/experiments/{exp_id}/runs").json()
            except Exception:  # noqa: BLE001 - the database may be restarting
                return False
            return all(r["status"] not in ("queued", "running") for r in runs)

        wait_for(done, timeout=timeout, what=f"experiment {exp_id} to finish", interval=0.5)

    def pid_of(self, run_id: int) -> int:
        return int(self.run(run_id)["worker"].rsplit("-", 1)[-1].split("@")[0])

    def worker_running(self, run_id: int):
        pid = self.pid_of(run_id)
        return next(p for p in self.workers.values() if p.pid == pid)

    def counts(self, exp_id: int) -> dict:
        with get_engine(self.db_url).connect() as conn:
            rows = conn.execute(COUNTS, {"exp": exp_id}).all()
        return {
            "runs": len(rows),
            "lost": sum(r.status != "succeeded" for r in rows),
            "duplicated": sum(r.rows_seen - r.epochs_seen + max(0, r.finishes - 1) for r in rows),
            "gap_rows": sum(r.epochs + 1 - r.epochs_seen for r in rows),
            "wrong_worker": sum(r.finisher != r.claimer for r in rows),
        }

    def close(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                group_signal(proc, signal.SIGCONT)
            stop(proc)
        self._client_ctx.__exit__(None, None, None)


def group_signal(proc, sig: int) -> None:
    """The worker and any pool children it has (spawn starts each in its own process group)."""
    try:
        os.killpg(os.getpgid(proc.pid), sig)
    except ProcessLookupError:
        pass


def kill9_mid_run(lab: Lab, epochs: int) -> int:
    lab.worker("a")
    exp, (run,) = lab.submit(epochs)
    lab.progress(run, epochs // 5)
    group_signal(lab.worker_running(run), signal.SIGKILL)
    lab.worker("b")
    lab.finished(exp)
    return exp


def kill9_mid_group(lab: Lab, epochs: int) -> int:
    lab.worker("a", batch_runs=8)
    exp, runs = lab.submit(epochs, seeds=4)
    lab.progress(runs[0], epochs // 5)
    group_signal(lab.worker_running(runs[0]), signal.SIGKILL)
    lab.worker("b", batch_runs=8)
    lab.finished(exp)
    return exp


def broker_loss(lab: Lab, epochs: int) -> int:
    exp, _ = lab.submit(epochs // 5, seeds=4)  # no worker yet: the messages wait in Redis ...
    redis.Redis.from_url(lab.redis_url).flushall()  # ... which restarts without persistence
    lab.worker("a")
    lab.finished(exp)
    return exp


def db_restart(lab: Lab, epochs: int) -> int:
    lab.worker("a")
    exp, (run,) = lab.submit(epochs)
    lab.progress(run, epochs // 5)
    lab.pg.halt()
    time.sleep(LIFECYCLE["dead_after_seconds"] / 2)
    lab.pg.restart()
    lab.finished(exp)
    return exp


def db_long_outage(lab: Lab, epochs: int) -> int:
    lab.worker("a")
    exp, (run,) = lab.submit(epochs)
    lab.progress(run, epochs // 5)
    lab.pg.halt()
    time.sleep(LIFECYCLE["dead_after_seconds"] * 2.5)  # longer than the dead-worker timeout
    lab.pg.restart()
    lab.finished(exp)
    assert lab.run(run)["attempts"] == 1, "a live worker was taken for dead across the outage"
    return exp


def stalled_worker_retry(lab: Lab, epochs: int) -> int:
    stalled = lab.worker("a")
    exp, (run,) = lab.submit(epochs)
    lab.progress(run, epochs * 3 // 5)  # well ahead of where its successor will be when it wakes
    group_signal(stalled, signal.SIGSTOP)
    lab.client.post(f"/api/v1/runs/{run}/cancel")
    wait_for(
        lambda: lab.run(run)["status"] == "cancelled",
        timeout=60,
        what="the reaper to end the stalled run",
        interval=0.5,
    )
    lab.client.post(f"/api/v1/runs/{run}/retry")
    lab.worker("b")
    lab.progress(run, 10)
    group_signal(stalled, signal.SIGCONT)  # it wakes up believing it still holds its attempt
    lab.finished(exp)
    return exp


DRILLS = {
    f.__name__: f
    for f in (kill9_mid_run, kill9_mid_group, broker_loss, db_restart, db_long_outage, stalled_worker_retry)
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=list(DRILLS), default=list(DRILLS))
    parser.add_argument("--epochs", type=int, default=1500)
    args = parser.parse_args()
    pg_bin, redis_bin = find_pg_bin(), shutil.which("redis-server")
    if pg_bin is None or redis_bin is None:
        sys.exit("needs PostgreSQL server binaries and redis-server")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "redis").mkdir()
        pg, rs = ThrowawayPostgres(pg_bin), RedisServer(redis_bin, Path(tmp) / "redis")
        try:
            for name in args.only:
                home = Path(tmp) / name
                home.mkdir()
                lab, started = Lab(home, pg, rs.url), time.monotonic()
                try:
                    exp = DRILLS[name](lab, args.epochs)
                    row = {"drill": name} | lab.counts(exp) | {"seconds": round(time.monotonic() - started, 1)}
                except Exception as exc:  # noqa: BLE001 - a failed drill is a row too
                    row = {"drill": name, "error": f"{type(exc).__name__}: {exc}"[:200]}
                finally:
                    lab.close()
                results.append(row)
                print(json.dumps(row), flush=True)
        finally:
            rs.stop()
            pg.stop()
    columns = ["drill", "runs", "lost", "duplicated", "gap_rows", "wrong_worker", "seconds"]
    print("\n| " + " | ".join(columns) + " |\n|" + " --- |" * len(columns))
    for row in results:
        cells = [row["drill"], row["error"]] if "error" in row else [str(row[c]) for c in columns]
        print("| " + " | ".join(cells) + " |")
    out = ROOT / "bench" / "results" / "drills.json"
    out.write_text(json.dumps({"lifecycle": LIFECYCLE, "epochs": args.epochs, "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Lab-server drills (issue 14): break a real lab on purpose and count what was lost, duplicated or
left with gaps, in SQL. Everything is real: a throwaway Postgres, a Redis without persistence (so a
restart loses its queue), the API in this process with its maintenance loop, and `iwlab worker`
processes that are killed, stopped and restarted.

    PYTHONPATH=. OMP_NUM_THREADS=1 python bench/drills.py [--only NAME ...] [--epochs 1500]

Drills: kill -9 of a worker mid-run, and mid-group (a batched sweep); the broker losing every
message; a database restart; a database outage longer than the dead-worker timeout; a worker
stopped (SIGSTOP), its run cancelled and retried and taken by another worker, then woken up; clock
skew (workers whose wall clock is 30 s behind or 60 s ahead of the database's, via libfaketime).
Prints one row per drill and writes bench/results/drills.json (the drills run replace their rows;
the others stay). Every column but the seconds should be 0.

The clock-skew drill needs libfaketime's preload library (Debian/Ubuntu: `apt-get install
libfaketime`, found under /usr/lib/<arch>/faketime/; elsewhere set IWLAB_LIBFAKETIME to the path of
libfaketime.so.1) and a C compiler (`cc`, for a ten-line fix of libfaketime's monotonic sleeps, see
MONOTONIC_SLEEP_C); without them it prints a "skipped" line and leaves its previous row alone.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import bindparam, text  # noqa: E402

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
FROM runs r WHERE r.experiment_id IN :exps
""").bindparams(bindparam("exps", expanding=True))


class Skipped(Exception):
    """The drill cannot run on this machine (a missing tool); its row says why."""


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
        self.notes: dict = {}  # what a drill measured besides the counts, added to its row

    def worker(self, name: str, batch_runs: int = 1, env: dict[str, str] | None = None):
        proc = spawn(
            [sys.executable, "-m", "backend.cli", "worker"],
            env=self.env | {"IWLAB_BATCH_RUNS": str(batch_runs)} | (env or {}),
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

    def counts(self, exp_ids: list[int]) -> dict:
        with get_engine(self.db_url).connect() as conn:
            rows = conn.execute(COUNTS, {"exps": exp_ids}).all()
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


def find_libfaketime() -> str | None:
    candidates = [os.environ.get("IWLAB_LIBFAKETIME", "")]
    candidates += sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    candidates += ["/usr/lib/faketime/libfaketime.so.1", "/usr/local/lib/faketime/libfaketime.so.1"]
    return next((c for c in candidates if c and os.path.isfile(c)), None)


# libfaketime 0.9.10 (Debian 12) with FAKETIME_DONT_FAKE_MONOTONIC still shifts the absolute deadline
# of clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), which Python >= 3.11's time.sleep uses, and the
# kernel answers EINVAL (wolfcw/libfaketime#426). Preloaded ahead of it, this passes sleeps on every
# clock but the wall clock straight to the kernel.
MONOTONIC_SLEEP_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem) {
    if (clock != CLOCK_REALTIME)
        return syscall(SYS_clock_nanosleep, clock, flags, req, rem) == 0 ? 0 : errno;
    int (*next)(clockid_t, int, const struct timespec *, struct timespec *) = dlsym(RTLD_NEXT, "clock_nanosleep");
    return next(clock, flags, req, rem);
}
"""


def monotonic_sleep_fix(where: Path) -> str:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise Skipped("needs a C compiler (cc) for the libfaketime sleep fix")
    src, lib = where / "monotonic_sleep.c", where / "monotonic_sleep.so"
    src.write_text(MONOTONIC_SLEEP_C)
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(lib), str(src), "-ldl"], check=True)
    return str(lib)


def skewed_env(preload: str, offset: str) -> dict[str, str]:
    """A process whose wall clock is `offset` ("-30s", "+60s") off; its monotonic clock is left alone,
    as on a machine whose clock is simply set wrong (libfaketime fakes both by default, and Python's
    lock timeouts, which wait on the real monotonic clock, then hang)."""
    return {"LD_PRELOAD": preload, "FAKETIME": offset, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def measured_skew(lab: Lab, env: dict[str, str]) -> float:
    """The skew as seen inside a process started with `env` on top of the workers' environment."""
    before = time.time()
    out = subprocess.run(
        [sys.executable, "-c", "import time; time.sleep(0.01); print(time.time())"],
        env=lab.env | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout) - (before + time.time()) / 2


def db_time(lab: Lab):
    with get_engine(lab.db_url).connect() as conn:
        return conn.scalar(text("SELECT clock_timestamp()"))


def registered(lab: Lab, proc) -> dict:
    """Wait until the API lists `proc` as a live worker (its heartbeats judged on the database's
    clock); return its row."""

    def alive():
        items = lab.client.get("/api/v1/workers").json()["items"]
        return next((w for w in items if w["pid"] == proc.pid and w["alive"]), None)

    return wait_for(alive, timeout=90, what=f"worker {proc.pid} to be listed alive", interval=0.5)


def heartbeat_offset(lab: Lab, proc) -> float:
    """The worker's last heartbeat minus the database's time now: about -1..0 s on the database's
    clock, its own skew if it stamped heartbeats with its own clock."""
    with get_engine(lab.db_url).connect() as conn:
        seconds = conn.scalar(
            text("SELECT EXTRACT(EPOCH FROM heartbeat_at - clock_timestamp()) FROM workers WHERE pid = :pid"),
            {"pid": proc.pid},
        )
    return float(seconds)


def clock_skew(lab: Lab, epochs: int) -> list[int]:
    """A worker 30 s behind trains runs to success, none taken for dead; a worker 60 s ahead is
    killed mid-run and its run noticed dead and resumed by another within the dead-worker timeout
    (before issue 14: the first failed every run within 6 s, the second was noticed after 69 s)."""
    lib = find_libfaketime()
    if lib is None:
        raise Skipped("libfaketime not found (apt-get install libfaketime, or set IWLAB_LIBFAKETIME)")
    preload = f"{monotonic_sleep_fix(lab.home)} {lib}"
    behind, ahead = skewed_env(preload, "-30s"), skewed_env(preload, "+60s")
    lab.notes["skew_behind_s"] = round(measured_skew(lab, behind), 1)
    lab.notes["skew_ahead_s"] = round(measured_skew(lab, ahead), 1)
    if abs(lab.notes["skew_behind_s"] + 30) > 2 or abs(lab.notes["skew_ahead_s"] - 60) > 2:
        raise RuntimeError(f"libfaketime did not take effect: {lab.notes}")

    # 1. 30 s behind: every run trains to the end in its first attempt
    slow = lab.worker("behind", env=behind)
    registered(lab, slow)
    exp1, runs = lab.submit(epochs // 2, seeds=2)
    lab.progress(runs[0], 10)
    lab.notes["heartbeat_offset_behind_s"] = round(heartbeat_offset(lab, slow), 1)
    lab.finished(exp1)
    with get_engine(lab.db_url).connect() as conn:
        taken_for_dead = conn.scalar(
            text(
                "SELECT COUNT(*) FROM run_events e JOIN runs r ON r.id = e.run_id "
                "WHERE r.experiment_id = :exp AND e.event IN ('requeued', 'failed')"
            ),
            {"exp": exp1},
        )
    attempts = [lab.run(r)["attempts"] for r in runs]
    lab.notes["behind_taken_for_dead"] = taken_for_dead
    if taken_for_dead or attempts != [1] * len(runs):
        raise RuntimeError(f"the worker 30 s behind was taken for dead: {taken_for_dead} events, {attempts}")
    stop(slow)

    # 2. 60 s ahead, killed mid-run: noticed after the dead-worker timeout, not after timeout + 60 s
    fast = lab.worker("ahead", env=ahead)
    exp2, (run,) = lab.submit(epochs)
    lab.progress(run, epochs // 5)
    lab.notes["heartbeat_offset_ahead_s"] = round(heartbeat_offset(lab, fast), 1)
    registered(lab, lab.worker("resumer", env=behind))  # idle, waiting, on the slow clock
    group_signal(fast, signal.SIGKILL)
    killed_at = db_time(lab)
    lab.finished(exp2)
    with get_engine(lab.db_url).connect() as conn:
        requeued, resumed = conn.execute(
            text(
                "SELECT MIN(at) FILTER (WHERE event = 'requeued'), MIN(at) FILTER (WHERE event = 'claimed' AND at > :t) "
                "FROM run_events WHERE run_id = :run"
            ),
            {"run": run, "t": killed_at},
        ).one()
    if requeued is None or resumed is None:
        raise RuntimeError(f"run {run} was not requeued and resumed after the kill")
    lab.notes["noticed_dead_after_s"] = round((requeued - killed_at).total_seconds(), 1)
    lab.notes["resumed_after_s"] = round((resumed - killed_at).total_seconds(), 1)
    return [exp1, exp2]


DRILLS = {
    f.__name__: f
    for f in (
        kill9_mid_run,
        kill9_mid_group,
        broker_loss,
        db_restart,
        db_long_outage,
        stalled_worker_retry,
        clock_skew,
    )
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
                    exps = DRILLS[name](lab, args.epochs)
                    exps = exps if isinstance(exps, list) else [exps]
                    row = {"drill": name} | lab.counts(exps) | {"seconds": round(time.monotonic() - started, 1)}
                    row |= lab.notes
                except Skipped as exc:
                    row = {"drill": name, "skipped": str(exc)}
                    print(f"{name}: skipped: {exc}", flush=True)
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
        if "error" in row or "skipped" in row:
            cells = [row["drill"], row.get("error") or "skipped: " + row["skipped"]]
        else:
            extra = {k: v for k, v in row.items() if k not in columns}
            cells = [str(row[c]) for c in columns] + ([json.dumps(extra)] if extra else [])
        print("| " + " | ".join(cells) + " |")
    write_results(ROOT / "bench" / "results" / "drills.json", results, args.epochs)


def write_results(out: Path, results: list[dict], epochs: int) -> None:
    """Replace the rows of the drills that ran, keep the others; a skipped drill keeps its old row."""
    old: dict[str, Any] = (
        json.loads(out.read_text()) if out.exists() else {"lifecycle": LIFECYCLE, "epochs": epochs, "results": []}
    )
    if old.get("lifecycle") != LIFECYCLE:
        old = {"lifecycle": LIFECYCLE, "epochs": epochs, "results": []}  # measured under other settings
    rows = {r["drill"]: r for r in old["results"]}
    for row in results:
        if "skipped" in row and row["drill"] in rows:
            continue
        rows[row["drill"]] = row | ({"epochs": epochs} if epochs != old["epochs"] else {})
    order = [d for d in DRILLS if d in rows] + [d for d in rows if d not in DRILLS]
    old["results"] = [rows[d] for d in order]
    out.write_text(json.dumps(old, indent=1) + "\n")


if __name__ == "__main__":
    main()

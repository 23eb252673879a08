"""Lab-server sweep benchmark (issue 4): the same sweep submitted to a real lab server (`iwlab api`
+ one `iwlab worker` on Postgres + Redis), trained one run per task (`IWLAB_BATCH_RUNS=1`) vs the
worker claiming the sibling runs and training them as one batched program (the default).

    PYTHONPATH=. nice python bench/labsweep.py [--repeats 3] [--epochs 200]

The clock runs from the submission to the last run's success, so it includes the queue, the
claims and every write into Postgres. Sides alternate per repeat; median of `--repeats`. Prints a
table and writes bench/results/labsweep.json. Starts its own throwaway Postgres and Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.services import (  # noqa: E402
    RedisServer,
    ThrowawayPostgres,
    find_pg_bin,
    free_port,
    spawn,
    stop,
    tail,
    wait_for,
    wait_for_http,
)

WEIGHTS = [2.0**k for k in range(-4, 4)]  # 8 weights x 2 seeds = 16 runs, the 2-D sweep shape


def sweep(epochs: int, tag: str) -> dict:
    return {"name": f"labsweep {tag}", "base": {"model": "mlp", "hidden": [100, 100], "batch_size": 50, "n_train": 250,
            "epochs": epochs, "eval_points": 50}, "sweep": {"pos_weight": WEIGHTS, "seed": [0, 1]}}  # fmt: skip


def one_side(env: dict, api: str, batch_runs: int, epochs: int, workdir: Path, tag: str) -> float:
    log = workdir / f"worker-{tag}.log"
    worker = spawn(
        [sys.executable, "-m", "backend.cli", "worker"], env=env | {"IWLAB_BATCH_RUNS": str(batch_runs)}, log=log
    )
    try:
        with httpx.Client(base_url=api, timeout=30) as http:
            wait_for(lambda: http.get("/api/v1/workers").json()["items"], timeout=120, what="the worker to register")
            start = time.perf_counter()
            exp = http.post("/api/v1/experiments", json=sweep(epochs, tag)).json()

            def done():
                e = http.get(f"/api/v1/experiments/{exp['id']}").json()
                return e if e["status"] not in ("queued", "running") else None

            exp = wait_for(done, timeout=3600, what="the sweep to finish", interval=0.2)
            seconds = time.perf_counter() - start
        if exp["status"] != "succeeded":
            raise SystemExit(f"sweep {exp['status']}:\n{tail(log)}")
        return seconds
    finally:
        stop(worker)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()
    pg_bin = find_pg_bin()
    redis_bin = shutil.which("redis-server")
    if pg_bin is None or redis_bin is None:
        sys.exit("needs postgresql and redis-server (apt-get install postgresql redis-server)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        pg, redis_server = ThrowawayPostgres(pg_bin), RedisServer(redis_bin, workdir)
        api_proc = None
        try:
            db_url = pg.create_database("iwlab_labsweep")
            env = os.environ | {"IWLAB_DATABASE_URL": db_url, "IWLAB_BROKER_URL": redis_server.url, "IWLAB_HOME": str(workdir),
                                "IWLAB_DEVICE": "cpu", "IWLAB_LOG_LEVEL": "WARNING", "OMP_NUM_THREADS": "1"}  # fmt: skip
            port = free_port()
            api = f"http://127.0.0.1:{port}"
            api_proc = spawn(
                [sys.executable, "-m", "backend.cli", "api", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                log=workdir / "api.log",
            )
            wait_for_http(f"{api}/api/v1/health", timeout=60)
            times: dict[str, list[float]] = {"per_run": [], "batched": []}
            for r in range(args.repeats):
                for side, batch_runs in (
                    (("per_run", 1), ("batched", 32)) if r % 2 == 0 else (("batched", 32), ("per_run", 1))
                ):
                    times[side].append(one_side(env, api, batch_runs, args.epochs, workdir, f"{side}-{r}"))
                    print(f"repeat {r}: {side} {times[side][-1]:.1f} s", flush=True)
        finally:
            if api_proc is not None:
                stop(api_proc)
            redis_server.stop()
            pg.stop()
    runs = len(WEIGHTS) * 2
    per_run, batched = statistics.median(times["per_run"]), statistics.median(times["batched"])
    print(
        f"\n{'lab-server sweep, ' + str(runs) + ' runs x ' + str(args.epochs) + ' epochs':<44}{'seconds':>9}{'runs/s':>9}"
    )
    print(f"{'one run per task (IWLAB_BATCH_RUNS=1)':<44}{per_run:>9.1f}{runs / per_run:>9.3f}")
    print(f"{'siblings batched (default)':<44}{batched:>9.1f}{runs / batched:>9.3f}")
    print(f"ratio: {per_run / batched:.1f}x")
    out = ROOT / "bench" / "results" / "labsweep.json"
    out.write_text(json.dumps({
        "runs": runs, "epochs": args.epochs, "seconds": times, "median_per_run": per_run, "median_batched": batched,
        "ratio": per_run / batched, "repeats": args.repeats, "machine": f"{platform.machine()} {os.cpu_count()} cpus",
        "load_average": os.getloadavg(),
    }, indent=2) + "\n")  # fmt: skip
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Load benchmark (issue 5): 200 concurrent submissions plus 50 concurrent readers against a real
lab server (`iwlab api` on Postgres + Redis, lab mode, 20 members with their own tokens).

    PYTHONPATH=. nice python bench/load.py [--submissions 200] [--readers 50] [--repeats 3] [--api-workers 1]

Each repeat sends every submission at once (10 per member, within the default rate limit) while
the readers poll the experiment list and single experiments until the submissions are answered.
Afterwards nothing may be lost: every 202 is an experiment in the database with its runs, and every
run is a message in Redis (no worker consumes them). The baseline, in the same process, is the
same submissions sent one at a time; the ratio is concurrent p50 / sequential p50. Prints a table
and writes bench/results/load.json. Starts its own throwaway Postgres and Redis (tests/services.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.services import RedisServer, ThrowawayPostgres, find_pg_bin, free_port, spawn, stop, tail, wait_for_http  # noqa: E402

MEMBERS = 20
SPEC = {"base": {"epochs": 5}, "sweep": {"pos_weight": [1, 10]}}  # two runs each
RUNS_PER_SUBMISSION = 2


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def make_tokens(db_url: str) -> list[str]:
    from backend import auth
    from backend.db import session_scope
    from backend.migrate import upgrade

    upgrade(db_url)
    with session_scope(db_url) as s:
        for i in range(MEMBERS):
            auth.create_user(s, f"member{i}")
        return [auth.create_token(s, f"member{i}")[1] for i in range(MEMBERS)]


async def submit(http: httpx.AsyncClient, token: str, name: str) -> tuple[float, int, int | None]:
    start = time.perf_counter()
    try:
        resp = await http.post(
            "/experiments", json={"name": name, **SPEC}, headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.TransportError:  # no answer: counted as not accepted (status 0)
        return time.perf_counter() - start, 0, None
    took = time.perf_counter() - start
    return took, resp.status_code, resp.json().get("id") if resp.status_code == 202 else None


async def reader(
    http: httpx.AsyncClient, token: str, done: asyncio.Event, latencies: list[float], errors: list[int]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while not done.is_set():
        for path in ("/experiments?limit=50", None):
            if path is None:  # the newest experiment, as the dashboard opens one
                try:
                    items = (await http.get("/experiments?limit=1", headers=headers)).json()["items"]
                except httpx.TransportError:
                    continue
                if not items:
                    continue
                path = f"/experiments/{items[0]['id']}"
            start = time.perf_counter()
            try:
                resp = await http.get(path, headers=headers)
            except httpx.TransportError:
                errors.append(0)
                continue
            latencies.append(time.perf_counter() - start)
            if resp.status_code != 200:
                errors.append(resp.status_code)


async def concurrent_round(api: str, tokens: list[str], submissions: int, readers: int, tag: str) -> dict:
    # keep-alive shorter than uvicorn's 5 s, so a connection the server is closing is not reused
    limits = httpx.Limits(
        max_connections=submissions + readers, max_keepalive_connections=submissions + readers, keepalive_expiry=2
    )
    async with httpx.AsyncClient(base_url=api, timeout=120, limits=limits) as http:
        done = asyncio.Event()
        read_lat: list[float] = []
        read_err: list[int] = []
        reading = [
            asyncio.create_task(reader(http, tokens[i % len(tokens)], done, read_lat, read_err)) for i in range(readers)
        ]
        start = time.perf_counter()
        answers = await asyncio.gather(
            *(submit(http, tokens[i % len(tokens)], f"{tag}-{i}") for i in range(submissions))
        )
        wall = time.perf_counter() - start
        done.set()
        await asyncio.gather(*reading)
    return {"answers": answers, "wall_s": wall, "read_latencies": read_lat, "read_errors": read_err}


async def sequential_round(api: str, tokens: list[str], submissions: int, tag: str) -> list[float]:
    async with httpx.AsyncClient(base_url=api, timeout=60) as http:
        return [(await submit(http, tokens[i % len(tokens)], f"{tag}-{i}"))[0] for i in range(submissions)]


def queued_run_ids(redis_url: str) -> list[int]:
    """The run id of every message waiting in the `cpu` queue (Celery protocol 2: body = [args, kwargs, embed])."""
    import base64

    import redis

    waiting = cast(
        list[bytes], redis.Redis.from_url(redis_url).lrange("cpu", 0, -1)
    )  # redis-py types sync and async results as one
    return [json.loads(base64.b64decode(json.loads(raw)["body"]))[0][0] for raw in waiting]


def count_lost(db_url: str, redis_url: str, ids: list[int]) -> dict:
    """What the database and the broker hold for the answered submissions."""
    from sqlalchemy import func, select

    from backend.db import session_scope
    from backend.models import Experiment, Run

    with session_scope(db_url) as s:
        stored = s.scalar(select(func.count()).select_from(Experiment).where(Experiment.id.in_(ids)))
        run_ids = set(s.scalars(select(Run.id).where(Run.experiment_id.in_(ids))))
        undispatched = s.scalar(
            select(func.count()).select_from(Run).where(Run.experiment_id.in_(ids), Run.dispatched_at.is_(None))
        )
    queued = queued_run_ids(redis_url)
    return {
        "experiments_stored": stored,
        "runs_stored": len(run_ids),
        "runs_undispatched": undispatched,
        "runs_without_a_message": len(run_ids - set(queued)),
        "messages_sent_twice": len(queued) - len(set(queued)),
    }  # harmless (the claim drops them), but counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--api-workers", type=int, default=1, help="`iwlab api --workers`: API processes")
    parser.add_argument("--baseline", type=int, default=40, help="submissions sent one at a time for the baseline")
    parser.add_argument(
        "--out", type=Path, default=None, help="default bench/results/load.json (load-apiN.json for N > 1)"
    )
    args = parser.parse_args()
    suffix = f"-api{args.api_workers}" if args.api_workers > 1 else ""
    args.out = args.out or ROOT / "bench" / "results" / f"load{suffix}.json"

    workdir = Path(tempfile.mkdtemp(prefix="iwlab-load-"))
    pg_bin = find_pg_bin()
    redis_bin = shutil.which("redis-server")
    if pg_bin is None or redis_bin is None:
        sys.exit("needs postgresql and redis-server (apt-get install postgresql redis-server)")
    pg, redis_server, api_proc = ThrowawayPostgres(pg_bin), RedisServer(redis_bin, workdir), None
    try:
        db_url = pg.create_database("iwlab_load")
        tokens = make_tokens(db_url)
        port = free_port()
        env = os.environ | {
            "IWLAB_DATABASE_URL": db_url,
            "IWLAB_BROKER_URL": redis_server.url,
            "IWLAB_AUTH": "required",
            "IWLAB_HOME": str(workdir),
            "IWLAB_LOG_LEVEL": "WARNING",
        }
        api_proc = spawn(
            [
                sys.executable,
                "-m",
                "backend.cli",
                "api",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.api_workers),
            ],
            env=env,
            log=workdir / "api.log",
            cwd=ROOT,
        )
        api = f"http://127.0.0.1:{port}/api/v1"
        try:
            wait_for_http(f"{api}/health", timeout=60)
        except TimeoutError:
            sys.exit(f"the API did not start:\n{tail(workdir / 'api.log')}")

        baseline = asyncio.run(sequential_round(api, tokens, args.baseline, "baseline"))
        rounds, all_ids = [], []
        for r in range(args.repeats):
            result = asyncio.run(concurrent_round(api, tokens, args.submissions, args.readers, f"round{r}"))
            submit_lat = [a[0] for a in result["answers"]]
            ids = [a[2] for a in result["answers"] if a[2] is not None]
            statuses = sorted({a[1] for a in result["answers"]})
            all_ids += ids
            rounds.append({
                "submissions": args.submissions, "accepted": len(ids), "statuses": statuses, "wall_s": result["wall_s"],
                "submit_p50_ms": 1000 * percentile(submit_lat, 50), "submit_p99_ms": 1000 * percentile(submit_lat, 99),
                "reads": len(result["read_latencies"]), "read_errors": len(result["read_errors"]),
                "read_p50_ms": 1000 * percentile(result["read_latencies"], 50), "read_p99_ms": 1000 * percentile(result["read_latencies"], 99),
            })  # fmt: skip
            print(
                f"round {r}: {len(ids)}/{args.submissions} accepted in {result['wall_s']:.1f}s, {len(result['read_latencies'])} reads",
                flush=True,
            )

        time.sleep(2)  # the outbox stamps after sending; let the last stamps land
        lost = count_lost(db_url, redis_server.url, all_ids)
        nothing_lost = (
            lost["experiments_stored"] == len(all_ids) == args.submissions * args.repeats
            and lost["runs_stored"] == RUNS_PER_SUBMISSION * len(all_ids)
            and lost["runs_undispatched"] == 0
            and lost["runs_without_a_message"] == 0
        )
    except BaseException:
        print(f"--- api.log\n{tail(workdir / 'api.log', 60)}", file=sys.stderr)
        raise
    finally:
        if api_proc is not None:
            stop(api_proc)
        redis_server.stop()
        pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    median = {
        k: statistics.median(r[k] for r in rounds)
        for k in ("submit_p50_ms", "submit_p99_ms", "read_p50_ms", "read_p99_ms", "wall_s")
    }
    base_p50 = 1000 * statistics.median(baseline)
    print(f"\n{'':<28} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'submit, one at a time':<28} {base_p50:>8.1f} {1000 * percentile(baseline, 99):>8.1f}")
    print(f"{'submit, 200 at once':<28} {median['submit_p50_ms']:>8.1f} {median['submit_p99_ms']:>8.1f}")
    print(f"{'read, 50 readers':<28} {median['read_p50_ms']:>8.1f} {median['read_p99_ms']:>8.1f}")
    print(
        f"concurrent / sequential submit p50: {median['submit_p50_ms'] / base_p50:.1f}x; "
        f"{args.submissions / median['wall_s']:.0f} submissions/s; nothing lost: {nothing_lost} {lost}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "repeats": args.repeats,
        "api_workers": args.api_workers,
        "members": MEMBERS,
        "runs_per_submission": RUNS_PER_SUBMISSION,
        "note": "one uvicorn process, Postgres + Redis on the same box; medians over the repeats",
    }
    args.out.write_text(
        json.dumps(
            {
                "meta": meta,
                "nothing_lost": nothing_lost,
                "lost_check": lost,
                "median": median,
                "baseline_submit_p50_ms": base_p50,
                "ratio_p50": median["submit_p50_ms"] / base_p50,
                "rounds": rounds,
            },
            indent=2,
        )
    )
    print(f"wrote {args.out}")
    if not nothing_lost:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Experiments list latency with 10,000 runs (issue 6): `GET /api/v1/experiments?limit=50` under each
sort key and with a tag filter, on SQLite and on Postgres.

    PYTHONPATH=. nice python bench/list.py [--repeats 7] [--db sqlite,postgres] [--shapes 20x500,1000x10]
    # the code before sorting and tags, on the same data (it ignores ?sort= and ?tag=, so only the default is timed):
    git archive b847154 | tar -x -C /tmp/iwlab-before && PYTHONPATH=/tmp/iwlab-before python bench/list.py --before

Two shapes of 10,000 runs: 20 big sweeps of 500 runs (every experiment on the first page) and
1,000 experiments of 10 runs (20 pages). Rows go straight into the migrated database (statuses,
progress and up to three tags of ten drawn at random, seeded), then the API answers in-process
(FastAPI's TestClient: routing, SQL, serialisation; no network). Reports the median of `repeats`
requests after one warm-up, and writes bench/results/list[-before].json. Starts its own Postgres.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after PYTHONPATH: --before runs the old checkout's backend

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import MetaData, insert, inspect  # noqa: E402

from backend.app import create_app  # noqa: E402
from backend.db import get_engine  # noqa: E402
from backend.settings import Settings  # noqa: E402
from tests.services import ThrowawayPostgres, find_pg_bin  # noqa: E402
from worker.engine.spec import ExperimentSpec  # noqa: E402

STATUSES = ["succeeded"] * 6 + ["failed", "cancelled", "queued", "running"]
TAGS = [f"tag{i}" for i in range(10)]
QUERIES = {
    "default (newest first)": {},
    "sort=name": {"sort": "name"},
    "sort=-status": {"sort": "-status"},
    "sort=-progress": {"sort": "-progress"},
    "sort=-runs": {"sort": "-runs"},
    "tag=tag3": {"tag": "tag3"},
    "tag=tag3 sort=-progress": {"tag": "tag3", "sort": "-progress"},
}


def seed(db_url: str, experiments: int, runs_each: int, rng: random.Random) -> None:
    engine = get_engine(db_url)
    meta = MetaData()
    meta.reflect(engine)
    exp_t, run_t = meta.tables["experiments"], meta.tables["runs"]
    spec = ExperimentSpec(sweep={"pos_weight": [0.1, 1.0, 10.0], "seed": list(range(max(1, runs_each // 3)))})
    params = spec.runs()[0].model_dump(mode="json")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    exps = [
        {
            "id": i + 1,
            "name": f"sweep {rng.randrange(10**6):06d}",
            "spec": spec.model_dump(mode="json"),
            "created_at": t0 + timedelta(minutes=i),
        }
        for i in range(experiments)
    ]
    runs = []
    for e in exps:
        for j in range(runs_each):
            status = rng.choice(STATUSES)
            done = 200 if status == "succeeded" else rng.randrange(0, 200) if status != "queued" else 0
            runs.append(
                {
                    "experiment_id": e["id"],
                    "index": j,
                    "params": params,
                    "status": status,
                    "epochs_done": done,
                    "epochs": 200,
                    "created_at": e["created_at"],
                    "attempts": int(status != "queued"),
                    "cancel_requested": False,
                    "dispatched_at": e["created_at"],
                }
            )
    with engine.begin() as conn:
        conn.execute(insert(exp_t), exps)
        for i in range(0, len(runs), 2000):
            conn.execute(insert(run_t), runs[i : i + 2000])
        if "experiment_tags" in meta.tables:
            tags = [{"experiment_id": e["id"], "tag": t} for e in exps for t in rng.sample(TAGS, rng.randrange(0, 4))]
            conn.execute(insert(meta.tables["experiment_tags"]), tags)


def measure(client: TestClient, params: dict, repeats: int) -> dict:
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        resp = client.get("/api/v1/experiments", params={"limit": 50} | params)
        elapsed = time.perf_counter() - start
        assert resp.status_code == 200, resp.text
        if i:  # the first request warms caches and the connection pool
            times.append(elapsed)
    body = resp.json()
    return {
        "median_ms": round(1000 * statistics.median(times), 1),
        "min_ms": round(1000 * min(times), 1),
        "items": len(body["items"]),
        "total": body["total"],
        "bytes": len(resp.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--shapes", default="20x500,1000x10")
    parser.add_argument(
        "--before",
        action="store_true",
        help="the code under PYTHONPATH predates ?sort= and ?tag=: time the default only",
    )
    args = parser.parse_args()
    import backend

    print(f"backend from {Path(backend.__file__).parent}")
    results, pg = [], None
    try:
        for db in args.db.split(","):
            for shape in args.shapes.split(","):
                experiments, runs_each = map(int, shape.split("x"))
                home = Path(tempfile.mkdtemp(prefix="iwlab-list-"))
                if db == "postgres":
                    pg = pg or ThrowawayPostgres(
                        find_pg_bin() or sys.exit("needs postgresql (apt-get install postgresql)")
                    )
                    url = pg.create_database("iwlab_list")
                else:
                    url = f"sqlite:///{home / 'iwlab.db'}"
                with TestClient(create_app(Settings(home=home, database_url=url))) as client:  # migrates
                    seed(url, experiments, runs_each, random.Random(0))
                    has_tags = "experiment_tags" in inspect(get_engine(url)).get_table_names()
                    for label, params in QUERIES.items():
                        if params and (args.before or not has_tags):
                            continue
                        row = {
                            "db": db,
                            "experiments": experiments,
                            "runs": experiments * runs_each,
                            "query": label,
                        } | measure(client, params, args.repeats)
                        results.append(row)
                        print(
                            f"{db:8} {experiments:5} x {runs_each:3}  {label:26} {row['median_ms']:8.1f} ms  (min {row['min_ms']:.1f}; "
                            f"{row['items']} of {row['total']}, {row['bytes']:,} B)",
                            flush=True,
                        )
                get_engine(url).dispose()
                shutil.rmtree(home, ignore_errors=True)
    finally:
        if pg is not None:
            pg.stop()
    out = ROOT / "bench" / "results" / ("list-before.json" if args.before else "list.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": platform.node(),
                "python": platform.python_version(),
                "repeats": args.repeats,
                "results": results,
            },
            indent=1,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""Cost of persisting a run's results (issue 4): the worker's real loop vs the bare training loop.

    PYTHONPATH=. nice python bench/persist.py [--repeats 3] [--db-url postgresql+psycopg://...]

Side A trains a run with `for _ in train(spec)` and keeps nothing. Side B runs the same spec through
the Celery task's body, `worker.tasks.execute`: claim, metrics and quantised, compressed boundary
frames upserted through `backend.lifecycle.flush` / `store.record_epochs`, heartbeat, cancel check
and checkpoints, into a fresh database (SQLite in a temporary directory unless `--db-url`). The
cost is (B - A) / B, median of `--repeats` alternating repeats, and, robust to a machine whose load
swings between the two sides, the share of B's own wall time spent in the persisting calls
(`lifecycle.flush`, `store.save_grid`, `torch.save` of checkpoints, timed around the real calls), at the worker's default flush
interval and with a flush after every epoch (the worst case). The run: the quick `bl-synth-mlp`
preset's first run (2-D MLP, every epoch evaluated, 24 boundary frames). Prints a table and
writes bench/results/persist.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend import lifecycle, store  # noqa: E402
from backend.db import session_scope  # noqa: E402
from backend.migrate import upgrade  # noqa: E402
from backend.settings import get_settings  # noqa: E402
from worker.engine import presets  # noqa: E402
from worker.engine.spec import ExperimentSpec  # noqa: E402
from worker.engine.train import train  # noqa: E402

PRESET = "bl-synth-mlp"


def bare(spec: ExperimentSpec) -> None:
    for _ in train(spec.runs()[0], device="cpu"):
        pass


class Stopwatch:
    """Wraps the real persisting calls (nothing is faked) and adds up the time spent in them."""

    def __init__(self):
        self.seconds = 0.0

    def wrap(self, owner, name: str) -> None:
        real = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        setattr(owner, name, timed)


WATCH = Stopwatch()
for owner, name in ((lifecycle, "flush"), (store, "save_grid"), (torch, "save")):  # epochs + frames, grid, checkpoints
    WATCH.wrap(owner, name)


def persisted(spec: ExperimentSpec, inside: list[float]) -> None:
    from worker.tasks import execute

    settings = get_settings()
    WATCH.seconds = 0.0
    start = time.perf_counter()
    with session_scope(settings.db_url) as s:
        run_id = store.create_experiment(s, spec).runs[0].id
    claim, why = lifecycle.claim(settings, run_id, "bench")
    assert claim is not None, why
    assert execute(run_id, claim) == "succeeded"
    inside.append(WATCH.seconds / (time.perf_counter() - start))
    lifecycle.finish(settings, run_id, claim.attempt, "succeeded")


def seconds(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--db-url", help="SQLAlchemy URL of an empty database (default: SQLite in a temporary directory)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "persist.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    base = presets.get(PRESET).quick
    spec = ExperimentSpec(name="persist-bench", base=base.runs()[0])  # one run

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as home:
        os.environ |= {"IWLAB_HOME": home, "IWLAB_DEVICE": "cpu"}
        if args.db_url:
            os.environ["IWLAB_DATABASE_URL"] = args.db_url
        for flush, label in ((None, "default flush interval"), (1e-6, "flush after every epoch")):
            if flush:
                os.environ["IWLAB_FLUSH_SECONDS"] = str(flush)
            get_settings.cache_clear()
            settings = get_settings()
            upgrade(settings.db_url)
            bare_t, stored_t = [], []
            inside: list[float] = []
            for _ in range(args.repeats):
                bare_t.append(seconds(bare, spec))
                stored_t.append(seconds(persisted, spec, inside))
            a, b = statistics.median(bare_t), statistics.median(stored_t)
            rows.append({
                "case": label, "flush_seconds": settings.flush_seconds, "database": settings.db_url.split(":")[0],
                "epochs": spec.base.epochs, "bare_s": bare_t, "persisted_s": stored_t, "fraction": (b - a) / b,
                "fraction_inside": inside, "fraction_inside_median": statistics.median(inside),
            })  # fmt: skip
            print(f"{label}: bare {a:.2f}s, persisted {b:.2f}s", flush=True)

    print(f"\n{'case':<26} {'database':>10} {'bare s':>8} {'persisted s':>12} {'B-A / B':>8} {'in flush':>9}")
    for r in rows:
        a, b = statistics.median(r["bare_s"]), statistics.median(r["persisted_s"])
        print(
            f"{r['case']:<26} {r['database']:>10} {a:>8.2f} {b:>12.2f} {r['fraction']:>8.1%} {r['fraction_inside_median']:>9.1%}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"torch": torch.__version__, "run": f"{PRESET} (quick), first run", "repeats": args.repeats,
            "note": "median wall time; both sides alternate in one process, one torch thread"}  # fmt: skip
    args.out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

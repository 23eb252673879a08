"""3-class table sweep (issue 12, item 7): the per-run engine vs the batched one, in one process.

    PYTHONPATH=. nice python bench/tables.py [--epochs 50] [--repeats 3] [--rows 300]

The sweep: class_weights none / {fox: 4} / inverse_frequency x seeds 0, 1 (6 runs) on three
overlapping 2-D Gaussian blobs (`--rows` per class, written to a temporary CSV), batch 32, every
epoch evaluated; logreg and an MLP 2-32-3. Per-run and batched alternate; the median wall time of
`--repeats` repeats each. Prints a table and writes bench/results/tables.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from worker.engine.batched import BatchedTraining  # noqa: E402
from worker.engine.spec import ExperimentSpec, RunSpec  # noqa: E402
from worker.engine.train import train  # noqa: E402


def write_table(path: Path, rows: int) -> str:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [2, 0], [0, 2]])
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "label"])
        for c, name in enumerate(("cat", "dog", "fox")):
            writer.writerows([f"{x:.5f}", f"{y:.5f}", name] for x, y in rng.normal(centres[c], 1.5, (rows, 2)))
    return str(path)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = write_table(Path(tmp) / "t.csv", args.rows)
        for label, model in (("logreg", {"model": "logreg"}), ("mlp 2-32-3", {"model": "mlp", "hidden": [32]})):
            base = RunSpec(
                dataset="table", data_path=path, label_column="label", batch_size=32, epochs=args.epochs, **model
            )
            runs = ExperimentSpec(
                base=base, sweep={"class_weights": [{}, {"fox": 4.0}, "inverse_frequency"], "seed": [0, 1]}
            ).runs()
            per_run, batched = [], []
            for _ in range(args.repeats):
                per_run.append(timed(lambda runs=runs: [list(train(s, device="cpu")) for s in runs]))
                batched.append(timed(lambda runs=runs: list(BatchedTraining(runs, device="cpu"))))
            a, b = statistics.median(per_run), statistics.median(batched)
            results[label] = {"runs": len(runs), "per_run_s": a, "batched_s": b, "speedup": a / b,
                              "per_run_all": per_run, "batched_all": batched}  # fmt: skip
            print(f"{label:12s} {len(runs)} runs  per-run {a:7.2f} s  batched {b:7.2f} s  speed-up {a / b:5.2f}x")
    meta = {"epochs": args.epochs, "rows_per_class": args.rows, "repeats": args.repeats, "threads": 1,
            "torch": torch.__version__, "machine": platform.processor() or platform.machine()}  # fmt: skip
    out = ROOT / "bench" / "results" / "tables.json"
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

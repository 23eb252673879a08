"""2-D sweep benchmark (issue 4): the per-run loop vs the batched engine, side by side in one process.

    PYTHONPATH=. nice python bench/sweep2d.py [--epochs 1000] [--repeats 3] [--eval-points 50]

Two sweeps: the issue's (8 weights x 2 seeds, MLP 2-100-100-2, 500 points = n_train 250 per class,
batch 50) and the quick preset's size (logreg, 3 weights x 3 seeds, batch 8, 200 epochs). Each side
trains every run of the sweep to the end, evaluating at the same epochs (`--eval-points` log-spaced
epochs, 0 = every epoch, as a paper sweep records them); median wall time of `--repeats` repeats.
Prints a table and writes bench/results/sweep2d.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from worker.engine.batched import BatchedTraining  # noqa: E402
from worker.engine.spec import ExperimentSpec, RunSpec  # noqa: E402
from worker.engine.train import train  # noqa: E402

WEIGHTS8 = [1 / 16, 1 / 8, 1 / 4, 1 / 2, 2.0, 4.0, 8.0, 16.0]


def sweeps(epochs: int, eval_points: int) -> dict[str, list[RunSpec]]:
    issue = ExperimentSpec(
        base=RunSpec(model="mlp", hidden=[100, 100], n_train=250, batch_size=50, epochs=epochs, eval_points=eval_points),
        sweep={"pos_weight": WEIGHTS8, "seed": [0, 1]},
    )
    quick = ExperimentSpec(
        base=RunSpec(model="logreg", batch_size=8, epochs=200, eval_points=eval_points),
        sweep={"pos_weight": [0.1, 1.0, 10.0], "seed": [0, 1, 2]},
    )
    return {"mlp_8x2_batch50": issue.runs(), "quick_logreg_3x3_batch8": quick.runs()}


def per_run(runs: list[RunSpec]) -> None:
    for spec in runs:
        for _ in train(spec, device="cpu"):
            pass


def batched(runs: list[RunSpec]) -> None:
    for _ in BatchedTraining(runs, device="cpu"):
        pass


def timed(fn, runs, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(runs)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000, help="epochs of the MLP sweep (the issue: 1,000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--eval-points", type=int, default=50, help="evaluate at this many log-spaced epochs (0 = every epoch)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sweep2d.json")
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = []
    for name, runs in sweeps(args.epochs, args.eval_points).items():
        naive_t = timed(per_run, runs, args.repeats)
        batch_t = timed(batched, runs, args.repeats)
        naive_s, batch_s = statistics.median(naive_t), statistics.median(batch_t)
        rows.append({
            "sweep": name, "runs": len(runs), "epochs": runs[0].epochs, "batch_size": runs[0].batch_size,
            "model": runs[0].model, "hidden": runs[0].hidden if runs[0].model == "mlp" else None,
            "train_points": 2 * runs[0].n_train, "eval_points": args.eval_points,
            "per_run_s": naive_t, "batched_s": batch_t,
            "per_run_runs_per_s": len(runs) / naive_s, "batched_runs_per_s": len(runs) / batch_s,
            "ratio": naive_s / batch_s,
        })  # fmt: skip
        print(f"{name}: per-run {naive_s:.2f}s, batched {batch_s:.2f}s", flush=True)

    print(f"\n{'sweep':<26} {'runs':>4} {'epochs':>6} {'per-run runs/s':>15} {'batched runs/s':>15} {'ratio':>7}")
    for r in rows:
        print(f"{r['sweep']:<26} {r['runs']:>4} {r['epochs']:>6} {r['per_run_runs_per_s']:>15.3f} {r['batched_runs_per_s']:>15.3f} {r['ratio']:>6.1f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(), "machine": platform.processor() or platform.machine(),
            "repeats": args.repeats, "note": "median wall time; both sides in one process, one torch thread"}  # fmt: skip
    args.out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

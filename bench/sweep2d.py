"""2-D sweep benchmark (issue 4): the per-run loop vs the batched engine, side by side in one process.

    PYTHONPATH=. nice python bench/sweep2d.py [--epochs 1000] [--repeats 3] [--eval-points 50]

Sweeps: the issue's (8 weights x 2 seeds, MLP 2-100-100-2 (two logits, as every model here; the
issue's 2-100-100-1 has one), 500 points = n_train 250 per class, batch 50, `--epochs`) and the
quick 2-D presets exactly as the dashboard runs them, at their own batch size 8. Each side trains
every run of a sweep to the end, evaluating at the same epochs; per-run and batched alternate,
median wall time of `--repeats` repeats. For the MLP sweep also the achieved FLOP/s of the batched
side (matmul FLOPs counted analytically: training steps plus the evaluations' forward passes;
elementwise ops not counted) as a fraction of a plain float32 1024x1024 `torch.matmul` measured in
the same process. Prints a table and writes bench/results/sweep2d.json.
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

from worker.engine import presets  # noqa: E402
from worker.engine.batched import BatchedTraining  # noqa: E402
from worker.engine.geometry import segment  # noqa: E402
from worker.engine.spec import ExperimentSpec, RunSpec  # noqa: E402
from worker.engine.train import train  # noqa: E402

WEIGHTS8 = [1 / 16, 1 / 8, 1 / 4, 1 / 2, 2.0, 4.0, 8.0, 16.0]
QUICK_PRESETS = ("bl-synth-linear", "bl-synth-mlp", "bl-synth-l2")


def sweeps(epochs: int, eval_points: int, preset_epochs: int | None = None) -> dict[str, list[RunSpec]]:
    issue = ExperimentSpec(
        base=RunSpec(
            model="mlp", hidden=[100, 100], n_train=250, batch_size=50, epochs=epochs, eval_points=eval_points
        ),
        sweep={"pos_weight": WEIGHTS8, "seed": [0, 1]},
    )
    out = {"mlp_8x2_batch50": issue.runs()}
    for name in QUICK_PRESETS:
        runs = presets.get(name).quick.runs()
        out[f"{name} (quick)"] = (
            [r.model_copy(update={"epochs": preset_epochs}) for r in runs] if preset_epochs else runs
        )
    return out


def per_run(runs: list[RunSpec]) -> None:
    for spec in runs:
        for _ in train(spec, device="cpu"):
            pass


def batched(runs: list[RunSpec]) -> None:
    for _ in BatchedTraining(runs, device="cpu"):
        pass


def seconds(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def matmul_flops(repeats: int, n: int = 1024) -> float:
    """FLOP/s of a plain float32 n x n torch.matmul (median of `repeats` timings of 20 products)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    return statistics.median(2 * n**3 * 20 / seconds(lambda: [a @ b for _ in range(20)]) for _ in range(repeats))


def sweep_flops(runs: list[RunSpec]) -> float:
    """Matmul FLOPs of training and evaluating every run of a sweep of linear/MLP models."""
    b = BatchedTraining(runs, device="cpu")
    dims = [p.shape[1:] for p in b.params[0::2]]  # (in, out) per layer
    forward = sum(2 * i * o for i, o in dims)  # per example
    # backward: each layer's weight gradient, and the input gradient of all but the first layer
    train_step = forward + forward + (forward - 2 * dims[0][0] * dims[0][1])
    spec = b.spec
    assert b._centres is not None, "a 2-D run"
    train = spec.epochs * len(b.data.y_train) * train_step
    points = len(b.data.y_train) + sum(len(x) for x, _ in b.data.evals.values()) + len(segment(*b._centres)[0])
    grid = len(b.grid.xs) * len(b.grid.ys) if b.grid else 0
    evaluate = (len(b._evaluated) * points + len(b._snapshots) * grid) * forward
    return len(runs) * (train + evaluate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000, help="epochs of the MLP sweep (the issue: 1,000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--eval-points",
        type=int,
        default=50,
        help="MLP sweep: evaluate at this many log-spaced epochs (0 = every epoch)",
    )
    parser.add_argument(
        "--preset-epochs", type=int, help="train the quick presets this many epochs (default: their own)"
    )
    parser.add_argument("--only", help="run only the sweeps whose name contains this")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sweep2d.json")
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = []
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(), "machine": platform.processor() or platform.machine(),
            "repeats": args.repeats, "note": "median wall time; both sides alternate in one process, one torch thread"}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for name, runs in sweeps(args.epochs, args.eval_points, args.preset_epochs).items():
        if args.only and args.only not in name:
            continue
        naive_t, batch_t = [], []
        for _ in range(args.repeats):  # alternate, so that load on the shared machine hits both sides alike
            naive_t.append(seconds(per_run, runs))
            batch_t.append(seconds(batched, runs))
        naive_s, batch_s = statistics.median(naive_t), statistics.median(batch_t)
        row = {
            "sweep": name, "runs": len(runs), "epochs": runs[0].epochs, "batch_size": runs[0].batch_size,
            "model": runs[0].model, "hidden": runs[0].hidden if runs[0].model == "mlp" else None,
            "train_points": 2 * runs[0].n_train, "eval_points": runs[0].eval_points,
            "per_run_s": naive_t, "batched_s": batch_t,
            "per_run_runs_per_s": len(runs) / naive_s, "batched_runs_per_s": len(runs) / batch_s,
            "ratio": naive_s / batch_s,
        }  # fmt: skip
        if name.startswith("mlp"):
            flops, peak = sweep_flops(runs), matmul_flops(args.repeats)
            row |= {
                "batched_gflops": flops / batch_s / 1e9,
                "matmul_gflops": peak / 1e9,
                "fraction_of_matmul": flops / batch_s / peak,
            }
        rows.append(row)
        args.out.write_text(
            json.dumps({"meta": meta, "results": rows}, indent=2)
        )  # after each sweep: a long run keeps what it measured
        print(f"{name}: per-run {naive_s:.2f}s, batched {batch_s:.2f}s", flush=True)

    print(
        f"\n{'sweep':<28} {'runs':>4} {'epochs':>6} {'batch':>5} {'per-run runs/s':>15} {'batched runs/s':>15} {'ratio':>7}"
    )
    for r in rows:
        print(
            f"{r['sweep']:<28} {r['runs']:>4} {r['epochs']:>6} {r['batch_size']:>5} {r['per_run_runs_per_s']:>15.3f} {r['batched_runs_per_s']:>15.3f} {r['ratio']:>6.1f}x"
        )
    for r in rows:
        if "batched_gflops" in r:
            print(
                f"{r['sweep']}: batched {r['batched_gflops']:.1f} GFLOP/s = {r['fraction_of_matmul']:.0%} of a 1024x1024 matmul's {r['matmul_gflops']:.1f} GFLOP/s"
            )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

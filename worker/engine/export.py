"""Train a whole experiment in-process and write it as tidy CSV (what `iwlab run` does)."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path

from .batched import batched_training, groups, why_not_batchable
from .outcome import History, Outcome
from .parallel import auto_jobs, train_side_by_side
from .spec import ExperimentSpec, RunSpec
from .train import EpochResult, resolve_device

ENGINES = ("auto", "naive", "batched")

METRIC_COLUMNS = ["run_id", "epoch", "split", "metric", "value"]


def plan_groups(runs: list[RunSpec], engine: str = "auto", device: str | None = None) -> list[list[int]]:
    """Run indices to train together: singletons train on the per-run engine, larger groups batched.
    "auto" leaves ConvNets to the per-run engine except on a GPU: on a CPU the grouped convolutions
    were no faster (quick CIFAR preset, 3 weights: 4.4 s per epoch grouped, 3.5 s one by one)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "naive":
        return [[i] for i in range(len(runs))]
    plan: list[list[int]] = []
    on_gpu = resolve_device(device or os.environ.get("IWLAB_DEVICE", "auto")).type == "cuda"
    for group in groups(runs):
        reason = why_not_batchable([runs[i] for i in group])
        if reason is None and engine == "auto" and runs[group[0]].model == "convnet" and not on_gpu:
            reason = "ConvNets train one run at a time on a CPU"
        if reason is None:
            plan.append(group)
        elif engine == "batched":
            raise ValueError(f"engine batched: {reason}")
        else:
            plan.extend([i] for i in group)
    return plan


def write_results(
    spec: ExperimentSpec,
    out: Path,
    device: str | None = None,
    on_epoch: Callable[[], None] = lambda: None,
    engine: str = "auto",
    jobs: int | None = None,
) -> tuple[list[Path], Outcome]:
    """`runs.csv`: one row per run, one column per run parameter. `metrics.csv`: one row per
    (run, epoch, split, metric). Rows are written as epochs finish, so a long run can be watched.

    `engine`: "naive" trains one run at a time; "batched" trains each group of runs that share data
    and architecture as one program (`batched.py`) and refuses (ValueError) a group it cannot batch;
    "auto" batches the groups that can be batched and trains the others one run at a time. Either
    way the metrics are the same (within 1e-5) and `Outcome` lists the runs in spec order.

    `jobs`: processes for the runs trained one at a time (None: for image runs on a CPU, one per
    run up to two per core, see `parallel.py`); their rows interleave in metrics.csv."""
    out.mkdir(parents=True, exist_ok=True)
    runs, outcome = spec.runs(), Outcome()
    plan = plan_groups(runs, engine, device)
    runs_path, metrics_path = out / "runs.csv", out / "metrics.csv"
    params = list(runs[0].model_dump())
    with runs_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["run_id", *params])
        for run_id, run in enumerate(runs):
            values = run.model_dump(mode="json")
            writer.writerow([run_id, *(json.dumps(values[p]) if isinstance(values[p], list) else values[p] for p in params)])
    histories: dict[int, History] = {}
    with metrics_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(METRIC_COLUMNS)
        def record(run_id: int, result: EpochResult) -> None:
            histories.setdefault(run_id, {})[result.epoch] = result.metrics
            for split, values in result.metrics.items():
                writer.writerows([run_id, result.epoch, split, name, repr(value)] for name, value in values.items())
            if result.epoch:
                on_epoch()

        for group in (g for g in plan if len(g) > 1):
            for results in batched_training([runs[i] for i in group], device):
                for run_id, result in zip(group, results):
                    record(run_id, result)
                f.flush()
        singles = {g[0]: runs[g[0]] for g in plan if len(g) == 1}
        for run_id, result in train_side_by_side(singles, jobs or auto_jobs(list(singles.values()), device), device):
            record(run_id, result)
            f.flush()
    for run_id, run in enumerate(runs):
        outcome.add(run, histories[run_id])
    return [runs_path, metrics_path], outcome

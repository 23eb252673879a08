"""Train a whole experiment in-process and write it as tidy CSV (what `iwlab run` does)."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path

from . import stats
from .batched import groups, why_not_batchable
from .data import make_data, split_validation
from .engines import batched_training
from .losses import EFFECTIVE_MISSING, run_effective_pos_weight
from .outcome import History, Outcome
from .parallel import auto_jobs, train_side_by_side
from .setup import references, resolve_device
from .spec import ExperimentSpec, RunSpec
from .train import EpochResult

ENGINES = ("auto", "naive", "batched")

METRIC_COLUMNS = ["run_id", "epoch", "split", "metric", "value"]
# what a run's data depend on (runs equal in these train on the same examples)
DATA_FIELDS = (
    "dataset",
    "classes",
    "data_path",
    "n_train",
    "n_test",
    "imbalance",
    "label_noise",
    "ood",
    "noise_images",
    "noise",
    "data_seed",
    "patience",
    "val_fraction",
    "dataset_id",
    "target_dataset_id",
    "label_column",
    "weight_column",
    "group_column",
    "group_weights",
    "test_path",
    "test_fraction",
    "target_path",
)


def run_notes(runs: list[RunSpec], datasets: Path | None = None) -> list[tuple[float | None, dict[str, str]]]:
    """Per run: the effective positive-class weight of its epoch objective (`losses.effective_pos_weight`)
    and the readouts it will not record, with the reason (name -> reason). Both depend on the
    training data, built once per distinct data set (`datasets`: the data folder, as `make_data`'s root)."""
    cache: dict[str, tuple] = {}
    out = []
    for spec in runs:
        key = json.dumps(
            {k: getattr(spec, k) for k in DATA_FIELDS} | {"model": spec.model, "cosine_head": spec.cosine_head}
        )
        if key not in cache:
            data = make_data(spec, datasets)
            if spec.patience:
                data, _ = split_validation(data, spec.val_fraction, spec.data_seed)
            counts = tuple(int(c) for c in data.counts.tolist())
            cache[key] = (counts, data.classes, references(spec, data)[1])
        counts, classes, missing = cache[key]
        effective = run_effective_pos_weight(spec, counts, classes)
        out.append(
            (effective, missing if effective is not None else missing | {"effective_pos_weight": EFFECTIVE_MISSING})
        )
    return out


def plan_batches(runs: list[RunSpec], engine: str = "auto", device: str = "auto") -> list[list[int]]:
    """Run indices to train together: singletons train on the per-run engine, larger groups batched.
    "auto" leaves ConvNets to the per-run engine except on a GPU: on a CPU the grouped convolutions
    were no faster (quick CIFAR preset, 3 weights: 4.4 s per epoch grouped, 3.5 s one by one)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "naive":
        return [[i] for i in range(len(runs))]
    plan: list[list[int]] = []
    on_gpu = resolve_device(device).type == "cuda"
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
    device: str = "auto",
    on_epoch: Callable[[], None] = lambda: None,
    engine: str = "auto",
    jobs: int | None = None,
    threads: int = 1,
    datasets: Path | None = None,
) -> tuple[list[Path], Outcome]:
    """`runs.csv`: one row per run, one column per run parameter, then `effective_pos_weight` and
    `missing_readouts` (JSON: readout -> why it is not recorded; empty when none is missing).
    `metrics.csv`: one row per (run, epoch, split, metric), written as epochs finish, so a long run
    can be watched. `summary.csv` (`write_summary`) once all runs have finished.

    `engine`: "naive" trains one run at a time; "batched" trains each group of runs that share data
    and architecture as one program (`batched.py`) and refuses (ValueError) a group it cannot batch;
    "auto" batches the groups that can be batched and trains the others one run at a time. Either
    way the metrics are the same (within 1e-5) and `Outcome` lists the runs in spec order.

    `jobs`: processes for the runs trained one at a time (None: for image runs on a CPU, one per
    run up to two per core, see `parallel.py`); their rows interleave in metrics.csv.

    `device`, `threads` (per process, on a CPU) and `datasets` (the data folder): the caller's
    configuration (`setup.build_setup`)."""
    out.mkdir(parents=True, exist_ok=True)
    runs, outcome = spec.runs(), Outcome()
    plan = plan_batches(runs, engine, device)
    runs_path, metrics_path = out / "runs.csv", out / "metrics.csv"
    params = list(runs[0].model_dump())
    with runs_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["run_id", *params, "effective_pos_weight", "missing_readouts"])
        for run_id, (run, (effective, missing)) in enumerate(zip(runs, run_notes(runs, datasets))):
            values = run.model_dump(mode="json")
            cells = (json.dumps(values[p]) if isinstance(values[p], (list, dict)) else values[p] for p in params)
            writer.writerow(
                [run_id, *cells, "" if effective is None else repr(effective), json.dumps(missing) if missing else ""]
            )
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
            for results in batched_training([runs[i] for i in group], device, threads, datasets):
                for run_id, result in zip(group, results):
                    record(run_id, result)
                f.flush()
        singles = {g[0]: runs[g[0]] for g in plan if len(g) == 1}
        jobs = jobs or auto_jobs(list(singles.values()), device)
        for run_id, result in train_side_by_side(singles, jobs, device, threads, datasets):
            record(run_id, result)
            f.flush()
    for run_id, run in enumerate(runs):
        outcome.add(run, histories[run_id])
    return [runs_path, metrics_path, write_summary(spec, outcome, out)], outcome


def write_summary(spec: ExperimentSpec, outcome: Outcome, out: Path) -> Path:
    """`summary.csv`: per arm (the swept parameters but the seeds), epoch, split and metric, the
    seed mean with n and its 95% t-interval (`stats.summary_rows`); the interval's cells are empty
    where n < 2 (no interval from one seed)."""
    swept = [n for n in spec.sweep if n not in stats.REPEATS]
    path = out / "summary.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*swept, *stats.SUMMARY_COLUMNS])
        for row in stats.summary_rows(outcome, swept):
            cells = [row[k] for k in (*swept, *stats.SUMMARY_COLUMNS)]
            writer.writerow(
                [
                    json.dumps(c)
                    if isinstance(c, (list, dict))
                    else ""
                    if isinstance(c, float) and math.isnan(c)
                    else repr(c)
                    if isinstance(c, float)
                    else c
                    for c in cells
                ]
            )
    return path


def outcome_from_export(doc: dict) -> tuple[ExperimentSpec, Outcome, list[str]]:
    """An experiment a server trained, from its `GET /experiments/{id}/export.json` document: the
    spec, the outcome of every run that recorded metrics (in sweep order), and one line per run
    left out (queued, or failed before its first epoch)."""
    spec = ExperimentSpec.model_validate(doc["experiment"]["spec"])
    histories: dict[int, History] = {}
    for row in doc["metrics"]:
        histories.setdefault(row["run_id"], {}).setdefault(row["epoch"], {}).setdefault(row["split"], {})[
            row["metric"]
        ] = float(row["value"])
    outcome, left_out = Outcome(), []
    for run in sorted(doc["runs"], key=lambda r: r["index"]):
        if run["id"] in histories:
            history = histories[run["id"]]
            outcome.add(RunSpec.model_validate(run["params"]), {e: history[e] for e in sorted(history)})
        else:
            left_out.append(f"run {run['id']} ({run['status']}): no metrics yet")
    return spec, outcome, left_out

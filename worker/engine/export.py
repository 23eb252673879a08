"""Train a whole experiment in-process and write it as tidy CSV (what `iwlab run` does)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from .outcome import Outcome
from .spec import ExperimentSpec
from .train import train

METRIC_COLUMNS = ["run_id", "epoch", "split", "metric", "value"]


def write_results(
    spec: ExperimentSpec, out: Path, device: str | None = None, on_epoch: Callable[[], None] = lambda: None
) -> tuple[list[Path], Outcome]:
    """`runs.csv`: one row per run, one column per run parameter. `metrics.csv`: one row per
    (run, epoch, split, metric). Rows are written as epochs finish, so a long run can be watched."""
    out.mkdir(parents=True, exist_ok=True)
    runs, outcome = spec.runs(), Outcome()
    runs_path, metrics_path = out / "runs.csv", out / "metrics.csv"
    params = list(runs[0].model_dump())
    with runs_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["run_id", *params])
        for run_id, run in enumerate(runs):
            values = run.model_dump(mode="json")
            writer.writerow([run_id, *(json.dumps(values[p]) if isinstance(values[p], list) else values[p] for p in params)])
    with metrics_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(METRIC_COLUMNS)
        for run_id, run in enumerate(runs):
            history = []
            for result in train(run, device):
                history.append(result.metrics)
                for split, values in result.metrics.items():
                    writer.writerows([run_id, result.epoch, split, name, repr(value)] for name, value in values.items())
                f.flush()
                if result.epoch:
                    on_epoch()
            outcome.add(run, history)
    return [runs_path, metrics_path], outcome

"""Downloads at full resolution: a tidy CSV (one row per run, epoch, split and metric, with the
run's swept parameters and its effective weight as columns, ready for a pandas `groupby`) and one JSON document per
experiment; a CSV per run.

A swept dict (`class_weights: {label: weight}`) becomes one column per label, `class_weights.<label>`,
so each weight is a number in its own column rather than text to parse; a label a run does not name
has weight 1 (the spec's rule). CSV values are written at float32 precision: the engine computes every
readout in float32, so the float64 the database holds carries digits past the seventh that no model
produced (0.30000001192092896). The shortest decimal that reads back to the same float32 (numpy's
repr of a float32, at most 9 significant digits) is exact where 7 fixed digits would not always be.

The JSON export also carries each run's stored boundary frames (2-D grid or image strip, per epoch),
so a figure can be redrawn without the API."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from .. import store
from ..models import Run
from .deps import ExperimentId, RunId, SessionDep
from .experiments import to_public
from .responses import documented
from .runs import metric_dicts, run_public

router = APIRouter(tags=["exports"])
COLUMNS = ["run_id", "epoch", "split", "metric", "value"]
EFFECTIVE = "effective_pos_weight"  # the run's column (docs/readouts.md), not a parameter
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula
UNNAMED_CLASS_WEIGHT = 1.0  # spec: classes class_weights does not name keep weight 1


def cell(value: object) -> object:
    """A member's text as a spreadsheet shows it, never as a formula (CSV injection): a leading
    quote, as OWASP advises. Numbers are left alone (-0.5 is a number, not a formula)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _filename(kind: str, ident: int, name: str, ext: str) -> dict[str, str]:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:60] or kind
    return {"Content-Disposition": f'attachment; filename="iwlab-{kind}-{ident}-{slug}.{ext}"'}


def float32_text(value: float) -> str:
    """The shortest decimal that reads back as the same float32 ("0.3" for 0.30000001192092896)."""
    return str(np.float32(value))


def _expand(params: list[str], runs: Sequence[Run]) -> list[tuple[str, str | None]]:
    """(parameter, dict key or None) per column: a parameter some run sweeps as a dict gets a column
    per key, in order of first appearance, and keeps its own column only for runs that name a scheme."""
    columns: list[tuple[str, str | None]] = []
    for p in params:
        values = [r.params.get(p) for r in runs]
        keys = list(dict.fromkeys(k for v in values if isinstance(v, dict) for k in v))
        if any(isinstance(v, dict) for v in values):
            columns += [(p, None)] if any(not isinstance(v, dict | None) for v in values) else []
            columns += [(p, k) for k in keys]
        else:
            columns.append((p, None))
    return columns


def _run_columns(columns: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """The swept parameters, with `effective_pos_weight` beside the nominal `pos_weight` (after the
    parameters when the weight is not swept): what the weight did, next to what was asked for."""
    at = columns.index(("pos_weight", None)) + 1 if ("pos_weight", None) in columns else len(columns)
    return [*columns[:at], (EFFECTIVE, None), *columns[at:]]


def _header(column: tuple[str, str | None]) -> str:
    param, key = column
    return param if key is None else f"{param}.{key}"


def _run_cell(run: Run, column: tuple[str, str | None]) -> object:
    param, key = column
    if param == EFFECTIVE:  # empty until a worker has built the run's data
        return "" if run.effective_pos_weight is None else repr(run.effective_pos_weight)
    value = run.params.get(param)
    if key is None:
        return "" if isinstance(value, dict) else cell(value)
    if not isinstance(value, dict):  # a named scheme: its weights are known only to the worker
        return ""
    default = UNNAMED_CLASS_WEIGHT if param == "class_weights" else ""
    return cell(value.get(key, default))


def _tidy_csv(runs: Sequence[Run], params: list[str], rows: Iterable) -> Iterator[str]:
    """CSV text in chunks of 1,000 rows (a 100-run experiment has ~10^6). Everything is read from
    the ORM objects before the first chunk: the session is closed by the time the body streams."""
    header = _run_columns(_expand(params, runs))
    columns = {r.id: [_run_cell(r, c) for c in header] for r in runs}
    records = [(m.run_id, m.epoch, m.split, m.name, m.value) for m in rows]

    def chunks() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([*map(_header, header), *COLUMNS])
        for i, (run_id, epoch, split, name, value) in enumerate(records, 1):
            writer.writerow([*columns[run_id], run_id, epoch, split, name, float32_text(value)])
            if i % 1000 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return chunks()


def _swept(spec: dict) -> list[str]:
    return list((spec.get("sweep") or {}).keys())


def _boundaries(stored: dict[int, store.StoredBoundary]) -> list[dict]:
    """Frames as `GET /runs/{id}/boundary/{epoch}` sends them: 3 decimals hold every stored value
    apart (the worker quantises P(positive) to steps of 1/255)."""
    return [
        {
            "run_id": run_id,
            "xs": grid.xs,
            "ys": grid.ys,
            "points": grid.points,
            "frames": [{"epoch": epoch, "z": z.round(3).tolist()} for epoch, z in frames],
        }
        for run_id, (grid, frames) in sorted(stored.items())
    ]


@router.get("/experiments/{experiment_id}/export.csv", response_class=StreamingResponse, responses=documented(404))
def experiment_csv(experiment_id: ExperimentId, session: SessionDep) -> StreamingResponse:
    exp = store.get_experiment(session, experiment_id)
    rows = store.metric_rows(session, [r.id for r in exp.runs], None, None)
    body = _tidy_csv(exp.runs, _swept(exp.spec), rows)
    return StreamingResponse(body, media_type="text/csv", headers=_filename("experiment", exp.id, exp.name, "csv"))


@router.get("/experiments/{experiment_id}/export.json", responses=documented(404))
def experiment_json(experiment_id: ExperimentId, session: SessionDep) -> JSONResponse:
    """The experiment, its runs, every metric row and every stored boundary frame: what `GET` of
    each would return, in one file. `boundaries` holds one entry per run that stored a grid (2-D
    runs: the grid and training points; image runs: the strip of test images), with all its frames
    (`epoch`, `z` = P(positive) on the grid, rows follow `ys`), oldest first."""
    exp = store.get_experiment(session, experiment_id)
    run_ids = [r.id for r in exp.runs]
    rows = store.metric_rows(session, run_ids, None, None)
    doc = {
        "experiment": to_public(exp).model_dump(mode="json"),
        "runs": [r.model_dump(mode="json") for r in run_public(session, exp.runs)],
        "metrics": metric_dicts(rows),
        "boundaries": _boundaries(store.boundary_frames(session, run_ids)),
    }
    return JSONResponse(doc, headers=_filename("experiment", exp.id, exp.name, "json"))


@router.get("/runs/{run_id}/export.csv", response_class=StreamingResponse, responses=documented(404))
def run_csv(run_id: RunId, session: SessionDep) -> StreamingResponse:
    run = store.get_run(session, run_id)
    rows = store.metric_rows(session, [run.id], None, None)
    body = _tidy_csv([run], _swept(run.experiment.spec), rows)
    return StreamingResponse(body, media_type="text/csv", headers=_filename("run", run.id, run.experiment.name, "csv"))

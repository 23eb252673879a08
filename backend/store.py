"""The one place that reads and writes experiments, runs, metrics and boundary frames.

The API and the worker both go through these functions, each inside one transaction
(`db.session_scope`), so a failure never leaves a half-written experiment behind.

Over 300 lines: the SQL stays in one place (the import contracts keep queries out of the routes
and the worker); the run lifecycle's own statements are in lifecycle.py.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np
from sqlalchemy import ColumnElement, Float, Row, case, cast, delete, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from worker.engine.spec import ExperimentSpec

from .downsample import pick_epochs
from .models import BoundaryFrame, BoundaryGrid, Experiment, ExperimentTag, Metric, Run, RunEvent, utcnow
from .status import RunStatus

# an experiment's status is the first of these that any of its runs has (see `experiment_summary`)
STATUS_PRECEDENCE = (RunStatus.RUNNING, RunStatus.QUEUED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.SUCCEEDED)
# `?sort=` keys of the experiments list; "-key" sorts descending
SORT_KEYS = ("created_at", "name", "status", "progress", "runs")
FIT_TOL = 1e-9  # train accuracy this close to 1 counts as fit (as in worker.engine.metrics)


class NotFound(LookupError):
    pass


def ping(session: Session) -> str:
    """Answer one query (raises if the database cannot), and name the database's dialect."""
    session.execute(text("select 1"))
    return session.get_bind().dialect.name


def create_experiment(
    session: Session,
    spec: ExperimentSpec,
    owner_id: int | None = None,
    tags: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Experiment:
    runs = spec.runs()
    exp = Experiment(
        name=spec.name,
        spec=spec.model_dump(mode="json", exclude={"tags"}),
        owner_id=owner_id,
        idempotency_key=idempotency_key,
    )
    exp.runs = [Run(index=i, params=r.model_dump(mode="json"), epochs=r.epochs) for i, r in enumerate(runs)]
    exp.tag_rows = [ExperimentTag(tag=t) for t in sorted(tags)]  # in the order they are read back
    session.add(exp)
    session.flush()
    now = utcnow()
    session.execute(
        insert(RunEvent), [{"run_id": r.id, "at": now, "event": "queued", "status": RunStatus.QUEUED} for r in exp.runs]
    )
    return exp


def experiment_by_key(session: Session, owner_id: int, idempotency_key: str) -> Experiment | None:
    """The experiment this owner made with this `Idempotency-Key`, if any."""
    return session.scalar(
        select(Experiment).where(Experiment.owner_id == owner_id, Experiment.idempotency_key == idempotency_key)
    )


def set_tags(session: Session, exp: Experiment, tags: Sequence[str]) -> None:
    """Replace the experiment's tags (a delete and an insert: the table is the whole truth)."""
    session.execute(delete(ExperimentTag).where(ExperimentTag.experiment_id == exp.id))
    if tags:
        session.execute(insert(ExperimentTag), [{"experiment_id": exp.id, "tag": t} for t in tags])
    session.expire(exp, ["tag_rows"])


def get_experiment(session: Session, experiment_id: int) -> Experiment:
    exp = session.get(Experiment, experiment_id)
    if exp is None:
        raise NotFound(f"experiment {experiment_id} not found")
    return exp


def list_experiments(
    session: Session, limit: int, offset: int, sort: str = "-created_at", tags: Sequence[str] = ()
) -> tuple[list[Experiment], int, dict[int, dict[str, Any]]]:
    """A page of experiments carrying every tag in `tags`, ordered by `sort` (a `SORT_KEYS` key,
    "-" for descending) in SQL, newest first among equals; with each one's run summary, counted in
    SQL too (loading the runs of a page of big sweeps took longer than the rest of the request)."""
    where, runs_where = [], []
    if tags:
        carrying = (
            select(ExperimentTag.experiment_id)
            .where(ExperimentTag.tag.in_(tags))
            .group_by(ExperimentTag.experiment_id)
            .having(func.count() == len(set(tags)))
        )
        where.append(Experiment.id.in_(carrying))
        runs_where.append(Run.experiment_id.in_(carrying))  # aggregate only the runs that can be listed
    total = session.scalar(select(func.count(Experiment.id)).where(*where)) or 0
    key, descending = sort.lstrip("-"), sort.startswith("-")
    query = select(Experiment).where(*where).options(selectinload(Experiment.tag_rows))
    if key in ("status", "progress", "runs"):
        per_experiment = _run_totals().where(*runs_where).subquery()
        query = query.join(per_experiment, per_experiment.c.experiment_id == Experiment.id)
        column = {
            "status": per_experiment.c.status_rank,
            "progress": per_experiment.c.progress,
            "runs": per_experiment.c.runs,
        }[key]
    else:
        # ids grow with creation time (and are indexed); names compare case-blind on both databases
        column = {"created_at": Experiment.id, "name": func.lower(Experiment.name)}[key]
    query = query.order_by(column.desc() if descending else column.asc(), Experiment.id.desc())
    rows = list(session.scalars(query.limit(limit).offset(offset)))
    return rows, total, experiment_summaries(session, [e.id for e in rows])


def _run_totals():
    """Per experiment: run count, fraction of epochs done, and the rank of its status in
    `STATUS_PRECEDENCE` (0 = running), for sorting in SQL."""
    rank = case({st: i for i, st in enumerate(STATUS_PRECEDENCE)}, value=Run.status, else_=len(STATUS_PRECEDENCE))
    progress = cast(func.sum(Run.epochs_done), Float) / func.nullif(func.sum(Run.epochs), 0)
    return select(
        Run.experiment_id,
        func.count().label("runs"),
        func.coalesce(progress, 0.0).label("progress"),
        func.min(rank).label("status_rank"),
    ).group_by(Run.experiment_id)


def experiment_summaries(session: Session, experiment_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """`experiment_summary` of each experiment, from one grouped query instead of its runs."""
    query = (
        select(Run.experiment_id, Run.status, func.count(), func.sum(Run.epochs_done), func.sum(Run.epochs))
        .where(Run.experiment_id.in_(experiment_ids))
        .group_by(Run.experiment_id, Run.status)
    )
    groups: dict[int, list] = {exp_id: [] for exp_id in experiment_ids}
    for exp_id, status, n, done, epochs in session.execute(query):
        groups.setdefault(exp_id, []).append((status, n, done or 0, epochs or 0))
    return {
        exp_id: _summary({st: n for st, n, _, _ in g}, sum(d for _, _, d, _ in g), sum(e for _, _, _, e in g))
        for exp_id, g in groups.items()
    }


def get_run(session: Session, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    return run


def experiment_runs(session: Session, experiment_id: int, limit: int, offset: int) -> tuple[int, list[Run]]:
    """(how many runs the experiment has, one page of them in sweep order); NotFound if it does not exist."""
    total = len(get_experiment(session, experiment_id).runs)
    query = select(Run).where(Run.experiment_id == experiment_id).order_by(Run.index).limit(limit).offset(offset)
    return total, list(session.scalars(query))


def experiment_summary(runs: Sequence[Run]) -> dict[str, Any]:
    return _summary(Counter(r.status for r in runs), sum(r.epochs_done for r in runs), sum(r.epochs for r in runs))


def _summary(counts: dict[str, int], epochs_done: int, epochs: int) -> dict[str, Any]:
    status = next((st for st in STATUS_PRECEDENCE if counts.get(st)), RunStatus.SUCCEEDED)
    return {
        "status": status,
        "runs_total": sum(counts.values()),
        "status_counts": dict(counts),
        "progress": epochs_done / (epochs or 1),
    }


def run_history(session: Session, run_id: int) -> list[RunEvent]:
    get_run(session, run_id)
    return list(session.scalars(select(RunEvent).where(RunEvent.run_id == run_id).order_by(RunEvent.at, RunEvent.id)))


# --- written by the worker -------------------------------------------------------------------


def _upsert(session: Session, table, rows: list[dict], keys: list[str], update: list[str]) -> None:
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: getattr(stmt.excluded, c) for c in update})
    session.execute(stmt, rows)  # executemany: no per-row SQL compilation


class EpochRecord(Protocol):
    epoch: int
    metrics: dict[str, dict[str, float]]  # split -> metric -> value
    boundary: np.ndarray | None


def record_epochs(session: Session, run_id: int, records: Sequence[EpochRecord]) -> None:
    """Idempotent: a re-delivered epoch overwrites its own rows instead of duplicating them.
    One statement per table for the whole batch, so persisting stays cheap next to training."""
    if not records:
        return
    rows = [
        {"run_id": run_id, "epoch": r.epoch, "split": split, "name": name, "value": float(value)}
        for r in records
        for split, values in r.metrics.items()
        for name, value in values.items()
        if math.isfinite(value)  # undefined (e.g. no boundary crossing yet) is a missing row, not NaN
    ]
    _upsert(session, Metric.__table__, rows, ["run_id", "epoch", "split", "name"], ["value"])
    frames = [
        {"run_id": run_id, "epoch": r.epoch, "data": encode_frame(r.boundary)}
        for r in records
        if r.boundary is not None and np.isfinite(r.boundary).all()
    ]  # a diverged model's frame is undefined too
    _upsert(session, BoundaryFrame.__table__, frames, ["run_id", "epoch"], ["data"])
    run = get_run(session, run_id)
    run.epochs_done = max(run.epochs_done, max(r.epoch for r in records))


def save_grid(
    session: Session, run_id: int, xs: list[float], ys: list[float], points: Iterable[Sequence[float]]
) -> None:
    session.merge(BoundaryGrid(run_id=run_id, xs=xs, ys=ys, points=[list(p) for p in points]))


# --- read by the API -------------------------------------------------------------------------


def metric_rows(
    session: Session, run_ids: Sequence[int], split: str | None, metric: str | None, max_points: int | None = None
) -> list[Row]:
    """Tidy rows (run_id, epoch, split, name, value) in that order; with `max_points`, only the
    epochs a plot needs (one set shared by all the runs, see `downsample.pick_epochs`). Plain
    column rows, not ORM objects: a 100-run page reads ~10^5 of them."""
    where: list[ColumnElement[bool]] = [Metric.run_id.in_(run_ids)]
    if split:
        where.append(Metric.split == split)
    if metric:
        where.append(Metric.name == metric)
    if max_points is not None:
        epochs = list(session.scalars(select(Metric.epoch).where(*where).distinct().order_by(Metric.epoch)))
        if len(epochs) > max_points:
            where.append(Metric.epoch.in_(pick_epochs(epochs, max_points)))
    columns = (Metric.run_id, Metric.epoch, Metric.split, Metric.name, Metric.value)
    query = select(*columns).where(*where).order_by(Metric.run_id, Metric.epoch, Metric.split, Metric.name)
    return list(session.execute(query))


def fit_epochs(session: Session, run_ids: Sequence[int]) -> dict[int, int]:
    """Per run, the first epoch at 100% training accuracy (runs that never fit are absent): the
    interpolation epoch of `worker.engine.metrics.interpolation_epoch`, computed in SQL so a list
    of 100 runs x 1,000 epochs does not travel to Python for it."""
    query = (
        select(Metric.run_id, func.min(Metric.epoch))
        .where(Metric.run_id.in_(run_ids), Metric.split == "train", Metric.name == "acc", Metric.value >= 1.0 - FIT_TOL)
        .group_by(Metric.run_id)
    )
    return {run_id: epoch for run_id, epoch in session.execute(query)}


def boundary_grid(session: Session, run_id: int) -> tuple[BoundaryGrid, list[int]]:
    grid = session.get(BoundaryGrid, run_id)
    if grid is None:
        get_run(session, run_id)
        raise NotFound(f"run {run_id} has no boundary yet")
    epochs = session.scalars(
        select(BoundaryFrame.epoch).where(BoundaryFrame.run_id == run_id).order_by(BoundaryFrame.epoch)
    )
    return grid, list(epochs)


def boundary_frame(session: Session, run_id: int, epoch: int) -> tuple[int, np.ndarray]:
    """The latest recorded frame at or before `epoch` (frames are log-spaced)."""
    grid = session.get(BoundaryGrid, run_id)
    frame = session.scalars(
        select(BoundaryFrame)
        .where(BoundaryFrame.run_id == run_id, BoundaryFrame.epoch <= epoch)
        .order_by(BoundaryFrame.epoch.desc())
        .limit(1)
    ).first()
    if grid is None or frame is None:
        get_run(session, run_id)
        raise NotFound(f"run {run_id} has no boundary frame at or before epoch {epoch}")
    return frame.epoch, decode_frame(frame.data, (len(grid.ys), len(grid.xs)))


StoredBoundary = tuple[BoundaryGrid, list[tuple[int, np.ndarray]]]  # a run's grid, its (epoch, P(positive)) frames


def boundary_frames(session: Session, run_ids: Sequence[int]) -> dict[int, StoredBoundary]:
    """Per run with a stored grid, the grid and every frame, oldest first (the JSON export's).
    Runs without a grid (tables, more than two classes, not started) are absent."""
    grids = {g.run_id: g for g in session.scalars(select(BoundaryGrid).where(BoundaryGrid.run_id.in_(run_ids)))}
    out: dict[int, StoredBoundary] = {rid: (g, []) for rid, g in grids.items()}
    query = (
        select(BoundaryFrame.run_id, BoundaryFrame.epoch, BoundaryFrame.data)
        .where(BoundaryFrame.run_id.in_(list(grids)))
        .order_by(BoundaryFrame.run_id, BoundaryFrame.epoch)
    )
    for run_id, epoch, data in session.execute(query):
        grid, frames = out[run_id]
        frames.append((epoch, decode_frame(data, (len(grid.ys), len(grid.xs)))))
    return out


def encode_frame(probs: np.ndarray) -> bytes:
    return zlib.compress(np.clip(np.rint(probs * 255), 0, 255).astype(np.uint8).tobytes(), 6)


def decode_frame(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    return np.frombuffer(zlib.decompress(data), dtype=np.uint8).reshape(shape) / 255.0

"""The worker registry: each worker process upserts its own row every few seconds (worker/presence.py);
the API reads the rows (`GET /workers`), routes image runs to `gpu` while a live GPU worker exists,
and sets the drain flag the worker acts on. Kept in the database rather than in Celery's broadcast
control, because the embedded filesystem broker has no broadcast and the database is what every
part of a lab already shares."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from . import store
from .lifecycle import aware, db_now
from .models import Run, Worker
from .settings import Settings
from .status import RunStatus


def beat(session: Session, name: str, host: str, pid: int, queues: list[str], gpu: str | None) -> bool:
    """Insert or refresh the worker's row; returns whether a drain was requested."""
    worker = session.get(Worker, name)
    now = db_now(session)  # the database's clock, not the worker's: see lifecycle.db_now
    if worker is None:
        worker = Worker(name=name, host=host, pid=pid, queues=queues, gpu=gpu, started_at=now)
        session.add(worker)
    worker.heartbeat_at, worker.stopped_at = now, None
    session.flush()
    return worker.drain_requested


def goodbye(session: Session, name: str) -> None:
    session.execute(update(Worker).where(Worker.name == name).values(stopped_at=db_now(session)))


FORGET_AFTER = timedelta(days=1)  # a dead or stopped worker stays listed this long, then its row goes


def forget_gone(session: Session) -> int:
    """Delete the rows of workers silent for longer than FORGET_AFTER (each restart is a new row)."""
    return session.execute(delete(Worker).where(Worker.heartbeat_at < db_now(session) - FORGET_AFTER)).rowcount  # type: ignore[attr-defined]  # a DELETE's result is a CursorResult; execute() is typed as the base Result


def request_drain(session: Session, name: str) -> Worker:
    worker = session.get(Worker, name)
    if worker is None:
        raise store.NotFound(f"worker {name} not found")
    worker.drain_requested = True
    return worker


def is_alive(worker: Worker, settings: Settings, now: datetime) -> bool:
    """`now`: the database's time (`db_now`), the clock the worker's heartbeat was stamped with."""
    heartbeat = aware(worker.heartbeat_at)
    return (
        worker.stopped_at is None
        and heartbeat is not None
        and now - heartbeat < timedelta(seconds=settings.dead_after_seconds)
    )


def live_gpu_worker(session: Session, settings: Settings) -> bool:
    """Is a GPU worker alive and taking runs? (Decides where an image run is sent.)"""
    cutoff = db_now(session) - timedelta(seconds=settings.dead_after_seconds)
    candidates = session.scalars(
        select(Worker).where(
            Worker.heartbeat_at >= cutoff, Worker.stopped_at.is_(None), Worker.drain_requested.is_(False)
        )
    )
    return any("gpu" in w.queues for w in candidates)


def list_workers(session: Session, limit: int, offset: int) -> tuple[list[Worker], int, dict[str, list[int]]]:
    """Newest heartbeat first, the total count, and the running run ids of each listed worker."""
    total = session.scalar(select(func.count()).select_from(Worker)) or 0
    rows = list(
        session.scalars(select(Worker).order_by(Worker.heartbeat_at.desc(), Worker.name).limit(limit).offset(offset))
    )
    return rows, total, running_runs(session, [w.name for w in rows])


def running_runs(session: Session, names: list[str]) -> dict[str, list[int]]:
    """The runs each named worker is training now (a run names its worker when it is claimed)."""
    running: dict[str, list[int]] = {name: [] for name in names}
    if names:
        query = (
            select(Run.worker, Run.id).where(Run.status == RunStatus.RUNNING, Run.worker.in_(names)).order_by(Run.id)
        )
        for worker, run_id in session.execute(query):
            running[str(worker)].append(run_id)  # never None: the query selects runs by worker name
    return running

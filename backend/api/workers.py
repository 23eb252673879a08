"""The worker registry: who is training what, and draining a worker before its machine goes away."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from .. import workers
from ..lifecycle import db_now
from ..models import Worker
from ..schemas import WorkerPage, WorkerPublic
from .deps import INT32, CurrentUser, SessionDep, SettingsDep
from .responses import documented

router = APIRouter(prefix="/workers", tags=["workers"])

WorkerName = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.@:-]+$")]


def to_public(worker: Worker, running: list[int], alive: bool) -> WorkerPublic:
    return WorkerPublic(
        name=worker.name,
        host=worker.host,
        pid=worker.pid,
        queues=worker.queues,
        gpu=worker.gpu,
        alive=alive,
        busy=bool(running),
        current_runs=running,
        draining=worker.drain_requested,
        started_at=worker.started_at,
        heartbeat_at=worker.heartbeat_at,
        stopped_at=worker.stopped_at,
    )


@router.get("", response_model=WorkerPage)
def list_workers(
    session: SessionDep,
    settings: SettingsDep,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=INT32),
) -> WorkerPage:
    """Every worker that ever registered, most recent heartbeat first (dead ones show alive=false)."""
    rows, total, running = workers.list_workers(session, limit, offset)
    items = [to_public(w, running[w.name], workers.is_alive(w, settings, db_now(session))) for w in rows]
    return WorkerPage(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/{name}/drain", response_model=WorkerPublic, status_code=status.HTTP_202_ACCEPTED, responses=documented(404, 403)
)
def drain_worker(name: WorkerName, session: SessionDep, settings: SettingsDep, user: CurrentUser) -> WorkerPublic:
    """Admins only: the worker finishes the run it is training, takes no more, and stops (it sees
    the request at its next heartbeat)."""
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin may drain a worker")
    worker = workers.request_drain(session, name)
    session.commit()
    return to_public(
        worker, workers.running_runs(session, [name])[name], workers.is_alive(worker, settings, db_now(session))
    )

from collections.abc import Sequence

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from sqlalchemy import Row
from sqlalchemy.orm import Session

from .. import lifecycle, store
from ..models import Run
from ..outbox import dispatch_pending
from ..schemas import BoundaryFramePublic, BoundaryInfo, MetricRow, RunEventPublic, RunPublic
from .deps import CurrentUser, Epoch, MaxPoints, MetricFilter, RunId, SessionDep, SettingsDep, require_change
from .responses import documented

router = APIRouter(prefix="/runs", tags=["runs"])


@router.get("/{run_id}", response_model=RunPublic, responses=documented(404))
def get_run(run_id: RunId, session: SessionDep) -> RunPublic:
    return run_public(session, [store.get_run(session, run_id)])[0]


def metric_dicts(rows: Sequence[Row]) -> list[dict]:
    """`list[MetricRow]` as plain dicts, without a model per row: the rows come from typed columns
    already, and a plot asks for ~10^5 of them (validating each one took seconds)."""
    return [{"run_id": m.run_id, "epoch": m.epoch, "split": m.split, "metric": m.name, "value": m.value} for m in rows]


def metric_response(rows: Sequence[Row]) -> JSONResponse:
    return JSONResponse(metric_dicts(rows))


def run_public(session: Session, runs: Sequence[Run]) -> list[RunPublic]:
    """Runs as the API shows them, with the epoch each one fit its training set."""
    fits = store.fit_epochs(session, [r.id for r in runs])
    return [RunPublic.model_validate(r).model_copy(update={"fit_epoch": fits.get(r.id)}) for r in runs]


@router.get("/{run_id}/history", response_model=list[RunEventPublic], responses=documented(404))
def run_history(run_id: RunId, session: SessionDep) -> list[RunEventPublic]:
    """Every status transition of the run, oldest first, across attempts and retries."""
    return [RunEventPublic.model_validate(e) for e in store.run_history(session, run_id)]


@router.get("/{run_id}/metrics", response_model=list[MetricRow], responses=documented(404))
def run_metrics(
    run_id: RunId,
    session: SessionDep,
    split: MetricFilter = None,
    metric: MetricFilter = None,
    max_points: MaxPoints = None,
) -> JSONResponse:
    store.get_run(session, run_id)
    return metric_response(store.metric_rows(session, [run_id], split, metric, max_points))


@router.get("/{run_id}/boundary", response_model=BoundaryInfo, responses=documented(404))
def boundary(run_id: RunId, session: SessionDep) -> BoundaryInfo:
    grid, epochs = store.boundary_grid(session, run_id)
    return BoundaryInfo(run_id=run_id, xs=grid.xs, ys=grid.ys, points=grid.points, epochs=epochs)


@router.get("/{run_id}/boundary/{epoch}", response_model=BoundaryFramePublic, responses=documented(404))
def boundary_frame(run_id: RunId, epoch: Epoch, session: SessionDep) -> BoundaryFramePublic:
    at, z = store.boundary_frame(session, run_id, epoch)
    return BoundaryFramePublic(run_id=run_id, epoch=at, z=z.round(3).tolist())


@router.post(
    "/{run_id}/cancel",
    response_model=RunPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses=documented(404, 403, 409),
)
def cancel_run(run_id: RunId, session: SessionDep, user: CurrentUser) -> RunPublic:
    """Queued: cancelled now. Running: `cancel_requested` is set and the worker stops within one
    flush (at most one epoch or `IWLAB_FLUSH_SECONDS`), keeping the epochs it finished."""
    require_change(user, store.get_run(session, run_id).experiment.owner_id, f"run {run_id}")
    run = lifecycle.cancel(session, run_id, by=user.name)
    session.commit()
    return RunPublic.model_validate(run)


@router.post(
    "/{run_id}/retry",
    response_model=RunPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses=documented(404, 403, 409),
)
def retry_run(run_id: RunId, session: SessionDep, settings: SettingsDep, user: CurrentUser) -> RunPublic:
    """A failed or cancelled run starts again from epoch 0 in the same row (its old epochs are deleted)."""
    require_change(user, store.get_run(session, run_id).experiment.owner_id, f"run {run_id}")
    run = lifecycle.retry(session, run_id, by=user.name)
    session.commit()
    dispatch_pending(settings, [run_id], fast_path=True)
    return RunPublic.model_validate(run)

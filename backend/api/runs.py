from fastapi import APIRouter

from .. import store
from ..schemas import BoundaryFramePublic, BoundaryInfo, MetricRow, RunPublic
from .deps import SessionDep

router = APIRouter(prefix="/runs", tags=["runs"])


@router.get("/{run_id}", response_model=RunPublic)
def get_run(run_id: int, session: SessionDep) -> RunPublic:
    return RunPublic.model_validate(store.get_run(session, run_id))


@router.get("/{run_id}/metrics", response_model=list[MetricRow])
def run_metrics(run_id: int, session: SessionDep, split: str | None = None, metric: str | None = None) -> list[MetricRow]:
    store.get_run(session, run_id)
    return [MetricRow.of(m) for m in store.metric_rows(session, [run_id], split, metric)]


@router.get("/{run_id}/boundary", response_model=BoundaryInfo)
def boundary(run_id: int, session: SessionDep) -> BoundaryInfo:
    grid, epochs = store.boundary_grid(session, run_id)
    return BoundaryInfo(run_id=run_id, xs=grid.xs, ys=grid.ys, points=grid.points, epochs=epochs)


@router.get("/{run_id}/boundary/{epoch}", response_model=BoundaryFramePublic)
def boundary_frame(run_id: int, epoch: int, session: SessionDep) -> BoundaryFramePublic:
    at, z = store.boundary_frame(session, run_id, epoch)
    return BoundaryFramePublic(run_id=run_id, epoch=at, z=z.round(3).tolist())

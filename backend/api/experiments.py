from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import select

from worker.engine.spec import MAX_RUNS_PER_EXPERIMENT

from .. import lifecycle, store
from ..models import Experiment, Run
from ..outbox import dispatch_pending
from ..schemas import ExperimentCreate, ExperimentPage, ExperimentPublic, MetricRow, RunPublic
from .deps import INT32, CurrentUser, ExperimentId, MaxPoints, MetricFilter, SessionDep, SettingsDep, require_change
from .runs import metric_response, run_public

router = APIRouter(prefix="/experiments", tags=["experiments"])


def to_public(exp: Experiment) -> ExperimentPublic:
    return ExperimentPublic(
        id=exp.id, name=exp.name, spec=exp.spec, created_at=exp.created_at, owner_id=exp.owner_id, **store.experiment_summary(exp.runs)
    )


@router.post("", response_model=ExperimentPublic, status_code=status.HTTP_202_ACCEPTED)
def create_experiment(spec: ExperimentCreate, session: SessionDep, settings: SettingsDep, user: CurrentUser) -> ExperimentPublic:
    exp = store.create_experiment(session, spec, owner_id=user.id)
    public = to_public(exp)
    session.commit()  # the outbox: stored first, so a broker outage loses nothing ...
    dispatch_pending(settings, [r.id for r in exp.runs], fast_path=True)  # ... sent now, or by the maintenance loop
    return public


@router.get("", response_model=ExperimentPage)
def list_experiments(
    session: SessionDep, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=INT32)
) -> ExperimentPage:
    rows, total = store.list_experiments(session, limit, offset)
    return ExperimentPage(items=[to_public(e) for e in rows], total=total, limit=limit, offset=offset)


@router.get("/{experiment_id}", response_model=ExperimentPublic)
def get_experiment(experiment_id: ExperimentId, session: SessionDep) -> ExperimentPublic:
    return to_public(store.get_experiment(session, experiment_id))


@router.get("/{experiment_id}/runs", response_model=list[RunPublic])
def list_runs(
    experiment_id: ExperimentId,
    session: SessionDep,
    response: Response,
    limit: int = Query(MAX_RUNS_PER_EXPERIMENT, ge=1, le=MAX_RUNS_PER_EXPERIMENT),
    offset: int = Query(0, ge=0, le=INT32),
) -> list[RunPublic]:
    """The runs in sweep order; the default page holds every run an experiment can have.
    `X-Total-Count` says how many there are."""
    response.headers["X-Total-Count"] = str(len(store.get_experiment(session, experiment_id).runs))
    query = select(Run).where(Run.experiment_id == experiment_id).order_by(Run.index).limit(limit).offset(offset)
    return run_public(session, list(session.scalars(query)))


@router.get("/{experiment_id}/metrics", response_model=list[MetricRow])
def experiment_metrics(
    experiment_id: ExperimentId,
    session: SessionDep,
    split: MetricFilter = None,
    metric: MetricFilter = None,
    max_points: MaxPoints = None,
) -> JSONResponse:
    run_ids = [r.id for r in store.get_experiment(session, experiment_id).runs]
    return metric_response(store.metric_rows(session, run_ids, split, metric, max_points))


@router.post("/{experiment_id}/cancel", response_model=ExperimentPublic, status_code=status.HTTP_202_ACCEPTED)
def cancel_experiment(experiment_id: ExperimentId, session: SessionDep, user: CurrentUser) -> ExperimentPublic:
    """Cancel every queued or running run (running ones stop at their next flush); finished runs stay."""
    exp = store.get_experiment(session, experiment_id)
    require_change(user, exp.owner_id, f"experiment {experiment_id}")
    for run in exp.runs:
        if run.status in store.ACTIVE:
            try:
                lifecycle.cancel(session, run.id)
            except lifecycle.Conflict:
                pass  # it finished meanwhile
    session.commit()
    session.refresh(exp)
    return to_public(exp)

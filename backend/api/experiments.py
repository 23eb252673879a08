from fastapi import APIRouter, Query, status

from worker.engine.spec import ExperimentSpec

from .. import store
from ..models import Experiment
from ..queue import dispatch
from ..schemas import ExperimentPage, ExperimentPublic, MetricRow, RunPublic
from .deps import SessionDep, SettingsDep

router = APIRouter(prefix="/experiments", tags=["experiments"])


def to_public(exp: Experiment) -> ExperimentPublic:
    return ExperimentPublic(
        id=exp.id, name=exp.name, spec=exp.spec, created_at=exp.created_at, **store.experiment_summary(exp.runs)
    )


@router.post("", response_model=ExperimentPublic, status_code=status.HTTP_202_ACCEPTED)
def create_experiment(spec: ExperimentSpec, session: SessionDep, settings: SettingsDep) -> ExperimentPublic:
    exp = store.create_experiment(session, spec)
    public = to_public(exp)
    session.commit()  # stored before it is queued: a worker must find the rows it is sent
    dispatch(settings, [r.id for r in exp.runs])
    return public


@router.get("", response_model=ExperimentPage)
def list_experiments(
    session: SessionDep, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)
) -> ExperimentPage:
    rows, total = store.list_experiments(session, limit, offset)
    return ExperimentPage(items=[to_public(e) for e in rows], total=total, limit=limit, offset=offset)


@router.get("/{experiment_id}", response_model=ExperimentPublic)
def get_experiment(experiment_id: int, session: SessionDep) -> ExperimentPublic:
    return to_public(store.get_experiment(session, experiment_id))


@router.get("/{experiment_id}/runs", response_model=list[RunPublic])
def list_runs(experiment_id: int, session: SessionDep) -> list[RunPublic]:
    return [RunPublic.model_validate(r) for r in store.get_experiment(session, experiment_id).runs]


@router.get("/{experiment_id}/metrics", response_model=list[MetricRow])
def experiment_metrics(
    experiment_id: int, session: SessionDep, split: str | None = None, metric: str | None = None
) -> list[MetricRow]:
    run_ids = [r.id for r in store.get_experiment(session, experiment_id).runs]
    return [MetricRow.of(m) for m in store.metric_rows(session, run_ids, split, metric)]

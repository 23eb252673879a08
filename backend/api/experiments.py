from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from worker.engine.spec import MAX_RUNS_PER_EXPERIMENT

from .. import datasets, lifecycle, store, verdict
from ..models import Experiment
from ..outbox import dispatch_pending
from ..schemas import (
    MAX_TAGS,
    ExperimentCreate,
    ExperimentPage,
    ExperimentPublic,
    MetricRow,
    RunPublic,
    TagsUpdate,
    check_tag,
)
from ..status import ACTIVE
from .deps import INT32, CurrentUser, ExperimentId, MaxPoints, MetricFilter, SessionDep, SettingsDep, require_change
from .responses import documented
from .runs import metric_response, run_public

router = APIRouter(prefix="/experiments", tags=["experiments"])


if TYPE_CHECKING:  # a Literal built at import time is no type to mypy; FastAPI validates against it
    SortKey = str
else:
    SortKey = Literal[tuple(key for k in store.SORT_KEYS for key in (k, f"-{k}"))]


def to_public(exp: Experiment, summary: dict[str, Any] | None = None) -> ExperimentPublic:
    return ExperimentPublic(
        id=exp.id,
        name=exp.name,
        spec=exp.spec,
        created_at=exp.created_at,
        owner_id=exp.owner_id,
        tags=exp.tags,
        **(summary or store.experiment_summary(exp.runs)),
    )


def tag_filter(
    tag: Annotated[
        list[str], Query(description="only experiments carrying every one of these tags (repeat it, or a comma list)")
    ] = [],
) -> list[str]:  # noqa: B006
    """`?tag=a&tag=b` or `?tag=a,b`: the tags to match, checked as tags are at creation."""
    tags = list(dict.fromkeys(t.strip().lower() for value in tag for t in value.split(",") if t.strip()))
    try:
        if len(tags) > MAX_TAGS:
            raise ValueError(f"at most {MAX_TAGS} tags")
        for t in tags:
            check_tag(t)
    except ValueError as err:
        raise HTTPException(422, [{"loc": ["query", "tag"], "msg": str(err), "type": "value_error"}]) from None
    return tags


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="any printable ASCII up to 200 characters; a retry with the same key and body gets the "
        "experiment the first request made instead of a second one (the same key with another body: 409)",
    ),
]


@router.post(
    "", response_model=ExperimentPublic, status_code=status.HTTP_202_ACCEPTED, responses=documented(409)
)  # 409: the Idempotency-Key was used before with another body
def create_experiment(
    spec: ExperimentCreate,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> ExperimentPublic:
    if idempotency_key is not None and (earlier := _made_with(session, user.id, idempotency_key, spec)) is not None:
        return earlier
    try:
        datasets.check_spec(session, spec, lab=settings.auth_required)
    except datasets.BadDataset as err:
        raise HTTPException(422, [{"loc": ["body", err.field], "msg": str(err), "type": "value_error"}]) from None
    try:
        exp = store.create_experiment(session, spec, owner_id=user.id, tags=spec.tags, idempotency_key=idempotency_key)
        public = to_public(exp)
        session.commit()  # the outbox: stored first, so a broker outage loses nothing ...
    except IntegrityError:  # the same key, sent twice at once: the other request made it
        session.rollback()
        if idempotency_key is None or (earlier := _made_with(session, user.id, idempotency_key, spec)) is None:
            raise
        return earlier
    dispatch_pending(settings, [r.id for r in exp.runs], fast_path=True)  # ... sent now, or by the maintenance loop
    return public


def _made_with(session, owner_id: int, key: str, spec: ExperimentCreate) -> ExperimentPublic | None:
    """The experiment this member made with this key, if it was the same request; 409 if not."""
    exp = store.experiment_by_key(session, owner_id, key)
    if exp is None:
        return None
    if exp.spec != spec.model_dump(mode="json", exclude={"tags"}) or exp.tags != sorted(spec.tags):
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"Idempotency-Key {key!r} was used for experiment {exp.id}, with another body"
        )
    return to_public(exp)


@router.get("", response_model=ExperimentPage)
def list_experiments(
    session: SessionDep,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=INT32),
    sort: SortKey = Query(
        "-created_at",
        description="created_at | name | status | progress | runs; '-' first for descending. "
        "status sorts running, queued, failed, cancelled, succeeded",
    ),
    tags: list[str] = Depends(tag_filter),
) -> ExperimentPage:
    rows, total, summaries = store.list_experiments(session, limit, offset, sort, tags)
    return ExperimentPage(items=[to_public(e, summaries[e.id]) for e in rows], total=total, limit=limit, offset=offset)


@router.get("/{experiment_id}", response_model=ExperimentPublic, responses=documented(404))
def get_experiment(experiment_id: ExperimentId, session: SessionDep) -> ExperimentPublic:
    return to_public(store.get_experiment(session, experiment_id))


@router.get("/{experiment_id}/runs", response_model=list[RunPublic], responses=documented(404))
def list_runs(
    experiment_id: ExperimentId,
    session: SessionDep,
    response: Response,
    limit: int = Query(MAX_RUNS_PER_EXPERIMENT, ge=1, le=MAX_RUNS_PER_EXPERIMENT),
    offset: int = Query(0, ge=0, le=INT32),
) -> list[RunPublic]:
    """The runs in sweep order; the default page holds every run an experiment can have.
    `X-Total-Count` says how many there are."""
    total, runs = store.experiment_runs(session, experiment_id, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return run_public(session, runs)


@router.get("/{experiment_id}/metrics", response_model=list[MetricRow], responses=documented(404))
def experiment_metrics(
    experiment_id: ExperimentId,
    session: SessionDep,
    split: MetricFilter = None,
    metric: MetricFilter = None,
    max_points: MaxPoints = None,
) -> JSONResponse:
    run_ids = [r.id for r in store.get_experiment(session, experiment_id).runs]
    return metric_response(store.metric_rows(session, run_ids, split, metric, max_points))


@router.get("/{experiment_id}/verdict", response_model=verdict.Verdict, responses=documented(404))
def experiment_verdict(experiment_id: ExperimentId, session: SessionDep) -> verdict.Verdict:
    """A preset's expected outcomes, measured on the runs that have succeeded so far (`final` once none is left to run)."""
    return verdict.verdict(session, store.get_experiment(session, experiment_id))


@router.put("/{experiment_id}/tags", response_model=ExperimentPublic, responses=documented(404, 403))
def set_tags(experiment_id: ExperimentId, body: TagsUpdate, session: SessionDep, user: CurrentUser) -> ExperimentPublic:
    """Replace the experiment's tags (owner or admin, as for cancel)."""
    exp = store.get_experiment(session, experiment_id)
    require_change(user, exp.owner_id, f"experiment {experiment_id}")
    store.set_tags(session, exp, body.tags)
    session.commit()
    return to_public(exp)


@router.post(
    "/{experiment_id}/cancel",
    response_model=ExperimentPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses=documented(404, 403, 409),
)
def cancel_experiment(experiment_id: ExperimentId, session: SessionDep, user: CurrentUser) -> ExperimentPublic:
    """Cancel every queued or running run (running ones stop at their next flush); finished runs stay."""
    exp = store.get_experiment(session, experiment_id)
    require_change(user, exp.owner_id, f"experiment {experiment_id}")
    for run in exp.runs:
        if run.status in ACTIVE:
            try:
                lifecycle.cancel(session, run.id, by=user.name)
            except lifecycle.Conflict:
                pass  # it finished meanwhile
    session.commit()
    session.refresh(exp)
    return to_public(exp)

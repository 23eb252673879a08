"""Request and response bodies of the REST API (the experiment spec itself lives in the engine)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from worker.engine.spec import ExperimentSpec

# SQLite drops the zone of stored times; every time iwlab stores is UTC
UtcDatetime = Annotated[datetime, AfterValidator(lambda t: t if t.tzinfo else t.replace(tzinfo=UTC))]

MAX_TAGS = 16
TAG_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")


def check_tag(tag: str) -> str:
    """Tags are case-blind slugs (what a URL and a filter chip carry without escaping)."""
    if not TAG_PATTERN.fullmatch(tag):
        raise ValueError(
            f"{tag[:40]!r} is not a tag: 1-32 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit"
        )
    return tag


def _normalise(tag: Any) -> Any:
    return tag.strip().lower() if isinstance(tag, str) else tag


def _unique(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))  # a tag given twice is one tag; the order given is kept


Tag = Annotated[str, BeforeValidator(_normalise), AfterValidator(check_tag)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS, description=f"at most {MAX_TAGS} tags"), AfterValidator(_unique)]


class ExperimentCreate(ExperimentSpec):
    """The spec as the API accepts it (strict, plain text only: see `worker.engine.spec`). `tags`
    are stored beside the spec, not in it: they describe the experiment, not how to train it, and
    can change later."""

    tags: Tags = []


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class UserPublic(Public):
    id: int
    name: str
    role: str


class RunPublic(Public):
    id: int
    experiment_id: int
    index: int
    params: dict[str, Any]
    status: str
    epochs_done: int
    epochs: int
    error: str | None
    worker: str | None
    environment: dict[str, Any] | None = None  # where it trained: package versions, device, iwlab commit
    effective_pos_weight: float | None = None  # what the nominal weight (params.pos_weight) does to the epoch objective
    missing_readouts: dict[str, str] | None = None  # readout -> why this run does not record it
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    attempts: int  # how many times a worker took the run (> 1: it resumed after a worker died)
    heartbeat_at: UtcDatetime | None
    cancel_requested: bool
    fit_epoch: int | None = None  # first epoch at 100% training accuracy (None: not fit, or not yet)

    @property
    def progress(self) -> float:
        return self.epochs_done / self.epochs if self.epochs else 0.0


class ExperimentPublic(Public):
    id: int
    name: str
    spec: dict[str, Any]
    created_at: UtcDatetime
    owner_id: int | None
    status: str
    runs_total: int
    status_counts: dict[str, int]
    progress: float  # fraction of all epochs of all runs done
    tags: list[str] = []


class TagsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: Tags


class RunEventPublic(Public):
    """One status transition of a run."""

    at: UtcDatetime
    event: str  # queued | claimed | cancel_requested | succeeded | failed | cancelled | requeued | retried
    status: str  # the run's status after it
    attempt: int | None  # the worker's attempt number, when one was involved
    worker: str | None
    detail: str | None  # who cancelled or retried, a dead worker, an error message, a resumed checkpoint


class ExperimentPage(BaseModel):
    items: list[ExperimentPublic]
    total: int
    limit: int
    offset: int


class MetricRow(BaseModel):
    run_id: int
    epoch: int
    split: str
    metric: str
    value: float

    @classmethod
    def of(cls, m: Any) -> MetricRow:
        return cls(run_id=m.run_id, epoch=m.epoch, split=m.split, metric=m.name, value=m.value)


class BoundaryInfo(BaseModel):
    run_id: int
    xs: list[float]
    ys: list[float]
    points: list[list[float]]  # (x1, x2, label)
    epochs: list[int]  # epochs with a recorded frame


class BoundaryFramePublic(BaseModel):
    run_id: int
    epoch: int
    z: list[list[float]]  # P(positive), rows follow ys, columns xs


class Health(BaseModel):
    status: str
    database: str
    version: str


class WorkerPublic(BaseModel):
    name: str
    host: str
    pid: int
    queues: list[str]
    gpu: str | None  # the CUDA_VISIBLE_DEVICES it is pinned to
    alive: bool  # heartbeat younger than IWLAB_DEAD_AFTER_SECONDS, and not stopped
    busy: bool
    current_runs: list[int]  # the runs it is training now
    draining: bool  # finishing its current run, then stopping
    started_at: UtcDatetime
    heartbeat_at: UtcDatetime
    stopped_at: UtcDatetime | None


class WorkerPage(BaseModel):
    items: list[WorkerPublic]
    total: int
    limit: int
    offset: int

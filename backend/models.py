"""ORM tables. History lives here, not in Celery results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base
from .status import RunStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(Base):
    """A lab member. Every member sees every experiment (a shared lab); only the owner or an admin
    may change one."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="member")  # admin | member
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """An API token, stored as its SHA-256 only: the token itself is shown once, at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    user: Mapped[User] = relationship()


class Experiment(Base):
    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("owner_id", "idempotency_key", name="uq_experiments_owner_id_idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # who may cancel or retry it (besides admins); NULL for experiments from before accounts
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_experiments_owner_id_users"), default=None, index=True
    )
    # the client's `Idempotency-Key` of the POST that made it: a retry with the same key gets it back
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    runs: Mapped[list[Run]] = relationship(
        back_populates="experiment", order_by="Run.index", cascade="all, delete-orphan"
    )
    tag_rows: Mapped[list[ExperimentTag]] = relationship(order_by="ExperimentTag.tag", cascade="all, delete-orphan")

    @property
    def tags(self) -> list[str]:
        return [t.tag for t in self.tag_rows]


class ExperimentTag(Base):
    """One tag of an experiment: a join table (not a JSON list) so `?tag=` filters with an index
    on SQLite and Postgres alike."""

    __tablename__ = "experiment_tags"

    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("experiment_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.QUEUED, index=True)
    epochs_done: Mapped[int] = mapped_column(Integer, default=0)
    epochs: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    worker: Mapped[str | None] = mapped_column(String(200), default=None)
    environment: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # versions, device, commit
    # what the run's weight does to its epoch objective, and the readouts it cannot record (name -> why):
    # known once the worker has built the training data (docs/readouts.md)
    effective_pos_weight: Mapped[float | None] = mapped_column(Float, default=None)
    missing_readouts: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # lifecycle: see worker/tasks.py (claim, heartbeat, cancel) and backend/maintenance.py (outbox, dead runs)
    attempts: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )  # claims by a worker since the last retry
    # the fence: the number of the latest claim, never reset (a retry keeps it), so a worker presumed
    # dead before a retry cannot write over the attempt that followed it
    attempt: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # outbox: NULL until the broker accepted the run's message; the dispatcher re-sends what is NULL
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None, index=True)
    experiment: Mapped[Experiment] = relationship(back_populates="runs")


class RunEvent(Base):
    """One status transition of a run, written in the transaction that made it (backend/lifecycle.py):
    the run row keeps only its latest state, and a retry resets it, so this is its history."""

    __tablename__ = "run_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    event: Mapped[str] = mapped_column(
        String(32)
    )  # queued | claimed | cancel_requested | succeeded | failed | cancelled | requeued | retried
    status: Mapped[str] = mapped_column(String(16))  # the run's status after it
    attempt: Mapped[int | None] = mapped_column(Integer, default=None)
    worker: Mapped[str | None] = mapped_column(String(200), default=None)
    detail: Mapped[str | None] = mapped_column(Text, default=None)


class Metric(Base):
    """One tidy row per (run, epoch, split, metric); the unique key makes re-delivered epochs idempotent."""

    __tablename__ = "metrics"
    __table_args__ = (UniqueConstraint("run_id", "epoch", "split", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    epoch: Mapped[int] = mapped_column(Integer)
    split: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)


class BoundaryGrid(Base):
    """The window a run's decision function is sampled on, and the training points drawn over it."""

    __tablename__ = "boundary_grids"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    xs: Mapped[list[float]] = mapped_column(JSON)
    ys: Mapped[list[float]] = mapped_column(JSON)
    points: Mapped[list[list[float]]] = mapped_column(JSON)


class BoundaryFrame(Base):
    """P(positive) on the grid at one epoch, quantised to uint8 and zlib-compressed (~1-4 KB a frame)."""

    __tablename__ = "boundary_frames"
    __table_args__ = (UniqueConstraint("run_id", "epoch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    epoch: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Checkpoint(Base):
    """The latest `Training.checkpoint()` of a run (torch.save bytes). Kept in the database, not on a
    disk, so a worker on another machine can resume it: the lab shares a database, not a filesystem."""

    __tablename__ = "checkpoints"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Worker(Base):
    """A worker process, as its own heartbeat reports it (worker/presence.py). A worker is alive while
    its heartbeat is younger than `IWLAB_DEAD_AFTER_SECONDS` and it has not said goodbye."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # the Celery node name, e.g. gpu0-4242@host
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[list[str]] = mapped_column(JSON)
    gpu: Mapped[str | None] = mapped_column(String(64), default=None)  # its CUDA_VISIBLE_DEVICES, if pinned
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    drain_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Dataset(Base):
    """A data set the lab's specs may name by id (backend/datasets.py): an uploaded file (a table or
    an image archive, its bytes in `dataset_blobs`), or a folder on the workers that an admin
    registered by name (`kind` "location", `path` set), the only paths a member may train on."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # table | images | location
    format: Mapped[str | None] = mapped_column(String(16), default=None)  # csv | parquet | npz | tar.gz
    sha256: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    path: Mapped[str | None] = mapped_column(Text, default=None)
    summary: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict
    )  # rows, columns, class counts, or why they are missing
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_datasets_owner_id_users"), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DatasetBlob(Base):
    """An uploaded file's bytes, keyed by their SHA-256 (one copy however often it is uploaded). In the
    database, like checkpoints, so a worker on any machine can read it: the lab shares a database."""

    __tablename__ = "dataset_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)

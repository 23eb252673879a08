"""Run state transitions: queued -> running -> succeeded | failed | cancelled.

Every transition is one conditional UPDATE (`... WHERE status = ? AND attempt = ?`) rather than a
read-modify-write, for two reasons:
- concurrency: two workers, a worker and the API, or two API replicas can race on a run; the
  condition makes exactly one of them win, on Postgres and on SQLite alike (a SQLite transaction
  that reads first and writes later fails instead of waiting when another process wrote meanwhile);
- fencing: `attempt` numbers the claims and only ever grows (a retry resets `attempts`, the count
  that `max_attempts` limits, but not `attempt`). A worker writes only while the run still carries
  the attempt number it claimed, so a worker that was presumed dead (and replaced, perhaps after a
  cancel and a retry) cannot overwrite its successor.

Liveness is judged on one clock, the database's (`db_now`): a worker's clock may be off by minutes.

Each transition also appends a `run_events` row in the same transaction (`_move`), so the history
can never disagree with the run: the UPDATE that loses a race writes no event either.

Over 300 lines on purpose: every status transition, and so every fence check, is in this one module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, delete, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from . import store
from .db import session_scope
from .models import BoundaryFrame, BoundaryGrid, Checkpoint, Metric, Run, RunEvent, utcnow
from .settings import Settings
from .status import TERMINAL, RunStatus

log = logging.getLogger(__name__)


class Conflict(ValueError):
    """The run is in a state that does not allow the request (answered as 409)."""


def aware(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t  # SQLite drops the zone


def db_now(session: Session) -> datetime:
    """The database's time, for every heartbeat and for judging one: workers and API replicas on
    other machines share the database, not a clock. SQLite is embedded, so its clock is this
    machine's. Read once per transaction (Postgres' now() is the transaction's start anyway)."""
    if "db_now" not in session.info:
        if session.get_bind().dialect.name == "postgresql":
            session.info["db_now"] = session.scalar(select(func.now()))
        else:
            session.info["db_now"] = utcnow()
    return session.info["db_now"]


def _set(session: Session, run_id: int, where: dict[str, Any], *extra: Any, **values: Any) -> bool:
    """UPDATE runs SET values WHERE id = run_id AND every `where` column equals its value (AND extra)."""
    conditions = [Run.id == run_id, *extra] + [getattr(Run, k) == v for k, v in where.items()]
    return session.execute(update(Run).where(*conditions).values(**values)).rowcount == 1  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult; execute() is typed as the base Result


def _move(
    session: Session,
    run_id: int,
    where: dict[str, Any],
    event: str,
    *extra: Any,
    detail: str | ColumnElement | None = None,
    **values: Any,
) -> bool:
    """`_set`, and when it wins, the event in the run's history with the run's attempt and worker as
    the update left them (the claimed attempt; the worker that finished, died or was cancelled).
    INSERT ... SELECT rather than a read first: see the module docstring on SQLite."""
    if not _set(session, run_id, where, *extra, **values):
        return False
    status = values.get("status", where.get("status"))
    detail = detail if isinstance(detail, ColumnElement) else literal(detail, RunEvent.detail.type)
    attempt = case(
        (Run.worker.is_(None), None), else_=func.nullif(Run.attempt, 0)
    )  # no worker involved (queued, retried): none
    session.execute(
        insert(RunEvent).from_select(
            ["run_id", "at", "event", "status", "attempt", "worker", "detail"],
            select(
                Run.id,
                literal(db_now(session), RunEvent.at.type),
                literal(event),
                literal(status),
                attempt,
                Run.worker,
                detail,
            ).where(Run.id == run_id),
        )
    )
    return True


def _resumed_from(run_id: int) -> ColumnElement:
    """'resumed from the checkpoint of epoch N', or NULL for a fresh start (a subquery: read at write time)."""
    text = literal("resumed from the checkpoint of epoch ") + cast(Checkpoint.epoch, String)
    return select(text).where(Checkpoint.run_id == run_id).scalar_subquery()


def error_summary(text: str | None, limit: int = 200) -> str | None:
    """An error's message without its traceback, on one line, for the history (the run keeps the
    whole text). The whole message, not its first line: a validation error names its field below."""
    message = " ".join(line.strip() for line in (text or "").strip().split("\n\n", 1)[0].splitlines() if line.strip())
    if not message:
        return None
    return message if len(message) <= limit else message[: limit - 1] + "…"


# --- the worker's side ----------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    attempt: int
    params: dict[str, Any]
    checkpoint: bytes | None  # torch.save bytes of the last checkpoint, if a previous attempt left one


def claim(settings: Settings, run_id: int, worker: str) -> tuple[Claim | None, str]:
    """Take a delivered run, or say why not. Duplicate deliveries (acks-late redelivery, outbox
    re-sends) find the run terminal or owned by a live worker and are dropped here."""
    url = settings.db_url
    for _ in range(10):  # retried only when another process changed the row between read and write
        with session_scope(url) as s:
            run = store.get_run(s, run_id)
            status, attempts, attempt, cancel = run.status, run.attempts, run.attempt, run.cancel_requested
            heartbeat, last_worker, params = aware(run.heartbeat_at), run.worker, run.params
            now = db_now(s)
        was = {"status": status, "attempt": attempt}
        if status in TERMINAL:
            return None, f"run is {status}"
        if (
            status == RunStatus.RUNNING
            and heartbeat
            and now - heartbeat < timedelta(seconds=settings.dead_after_seconds)
        ):
            return None, f"run is running on {last_worker} (heartbeat {heartbeat:%H:%M:%S})"
        with session_scope(url) as s:
            if cancel:
                if _move(
                    s,
                    run_id,
                    was,
                    "cancelled",
                    status=RunStatus.CANCELLED,
                    finished_at=now,
                    detail="cancelled before it started",
                ):
                    return None, "run was cancelled before it started"
                continue
            if attempts >= settings.max_attempts:
                error = gave_up(attempts, last_worker, heartbeat)
                if _move(
                    s,
                    run_id,
                    was,
                    "failed",
                    status=RunStatus.FAILED,
                    finished_at=now,
                    error=error,
                    detail=error_summary(error),
                ):
                    return None, "run failed: too many attempts"
                continue
            if _move(
                s,
                run_id,
                was,
                "claimed",
                status=RunStatus.RUNNING,
                attempts=attempts + 1,
                attempt=attempt + 1,
                worker=worker,
                heartbeat_at=now,
                started_at=func.coalesce(Run.started_at, now),
                finished_at=None,
                error=None,
                detail=_resumed_from(run_id),
            ):
                checkpoint = s.get(Checkpoint, run_id)
                return Claim(attempt + 1, params, checkpoint.data if checkpoint else None), "claimed"
    return None, "run kept changing under the claim"


def queued_siblings(settings: Settings, run_id: int) -> list[tuple[int, dict[str, Any]]]:
    """(id, params) of the other queued runs of `run_id`'s experiment that a group may claim, in
    run order: not flagged to cancel, and without a checkpoint (a run that can resume goes on alone)."""
    with session_scope(settings.db_url) as s:
        experiment_id = s.scalar(select(Run.experiment_id).where(Run.id == run_id))
        rows = s.execute(
            select(Run.id, Run.params)
            .where(
                Run.experiment_id == experiment_id,
                Run.status == RunStatus.QUEUED,
                Run.id != run_id,
                Run.cancel_requested.is_(False),
                ~exists().where(Checkpoint.run_id == Run.id),
            )
            .order_by(Run.index)
        ).all()
    return [(r.id, r.params) for r in rows]


def gave_up(attempts: int, worker: str | None, heartbeat: datetime | None) -> str:
    when = f"{heartbeat:%Y-%m-%d %H:%M:%S} UTC" if heartbeat else "never"
    return (
        f"gave up after {attempts} attempts: the worker running it died each time "
        f"(last worker {worker or 'unknown'}, last heartbeat {when})"
    )


def beat(settings: Settings, run_id: int, attempt: int) -> bool:
    """Refresh the heartbeat of the attempt this worker holds; False once another attempt owns the run."""
    with session_scope(settings.db_url) as s:
        return _set(s, run_id, {"status": RunStatus.RUNNING, "attempt": attempt}, heartbeat_at=db_now(s))


def record_environment(
    settings: Settings,
    run_id: int,
    attempt: int,
    environment: dict[str, Any],
    effective_pos_weight: float | None = None,
    missing_readouts: dict[str, str] | None = None,
) -> bool:
    """Note where this attempt trains (a resumed run shows its last worker's), the effective weight
    of its objective and the readouts it will not record, with the reason."""
    with session_scope(settings.db_url) as s:
        return _set(
            s,
            run_id,
            {"status": RunStatus.RUNNING, "attempt": attempt},
            environment=environment,
            effective_pos_weight=effective_pos_weight,
            missing_readouts=missing_readouts,
        )


def save_grid(settings: Settings, run_id: int, attempt: int, xs: list[float], ys: list[float], points) -> bool:
    """The window a 2-D run's frames are drawn on, written only while this attempt holds the run."""
    with session_scope(settings.db_url) as s:
        if not _set(s, run_id, {"status": RunStatus.RUNNING, "attempt": attempt}, heartbeat_at=db_now(s)):
            return False
        store.save_grid(s, run_id, xs, ys, points)
        return True


def flush(settings: Settings, run_id: int, attempt: int, records: list, checkpoint: tuple[int, bytes] | None) -> str:
    """One transaction per flush: heartbeat and epoch rows; then the optional checkpoint in a
    transaction of its own, so a checkpoint that cannot be written (a full disk: it is the largest
    row by far) never holds back the epochs. Returns "ok", "cancel" (stop now, keep the epochs) or
    "lost" (another attempt owns the run: write nothing)."""
    with session_scope(settings.db_url) as s:
        if not _set(s, run_id, {"status": RunStatus.RUNNING, "attempt": attempt}, heartbeat_at=db_now(s)):
            return "lost"  # nothing was written
        store.record_epochs(s, run_id, records)
        verdict = "cancel" if s.scalar(select(Run.cancel_requested).where(Run.id == run_id)) else "ok"
    if checkpoint is not None:
        save_checkpoint(settings, run_id, attempt, *checkpoint)
    return verdict


def save_checkpoint(settings: Settings, run_id: int, attempt: int, epoch: int, data: bytes) -> bool:
    """Store the attempt's latest checkpoint; a failure is logged with its real error and skipped
    (the run goes on; a resume starts from the previous checkpoint, or from scratch)."""
    try:
        with session_scope(settings.db_url) as s:
            if not _set(s, run_id, {"status": RunStatus.RUNNING, "attempt": attempt}, heartbeat_at=db_now(s)):
                return False
            s.merge(Checkpoint(run_id=run_id, epoch=epoch, data=data, saved_at=db_now(s)))
        return True
    except Exception as exc:  # noqa: BLE001 whatever failed, the run's epochs are safe: log it and train on
        log.warning(
            "run %s: checkpoint of epoch %s not saved (%s); its epochs are saved, training goes on",
            run_id,
            epoch,
            first_line(exc),
            extra={"run_id": run_id, "attempt": attempt, "event": "checkpoint_failed"},
        )
        return False


def first_line(exc: BaseException) -> str:
    """An exception's type and the first line of its message: the real error, for a log line."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def finish(settings: Settings, run_id: int, attempt: int, status: str, error: str | None = None) -> bool:
    """End an attempt; the checkpoint has served its purpose (retry starts afresh)."""
    with session_scope(settings.db_url) as s:
        if not _move(
            s,
            run_id,
            {"status": RunStatus.RUNNING, "attempt": attempt},
            status,
            status=status,
            error=error,
            finished_at=db_now(s),
            detail=error_summary(error),
        ):
            return False
        s.execute(delete(Checkpoint).where(Checkpoint.run_id == run_id))
        return True


# --- the API's side ---------------------------------------------------------------------------


def cancel(session: Session, run_id: int, by: str | None = None) -> Run:
    """Queued: cancelled at once (a delivery that comes later is dropped by `claim`).
    Running: flagged; the worker sees the flag at its next flush and stops, keeping its epochs."""
    now, who = db_now(session), f"by {by}" if by else None
    if not _move(
        session,
        run_id,
        {"status": RunStatus.QUEUED},
        "cancelled",
        status=RunStatus.CANCELLED,
        finished_at=now,
        detail=who,
    ):
        # only the first request is an event: a second one finds the flag already set
        _move(
            session,
            run_id,
            {"status": RunStatus.RUNNING, "cancel_requested": False},
            "cancel_requested",
            cancel_requested=True,
            detail=who,
        )
    run = store.get_run(session, run_id)
    session.refresh(run)
    if run.status not in (RunStatus.CANCELLED, RunStatus.RUNNING):
        raise Conflict(f"run {run_id} is {run.status}; only queued or running runs can be cancelled")
    return run


def retry(session: Session, run_id: int, by: str | None = None) -> Run:
    """A new attempt of the same spec, in the same row: its epochs, frames and checkpoint are
    deleted and it is queued again (the outbox sends it). The row, its id and URLs stay stable;
    its history keeps the attempts before the retry. `attempts` starts again from 0 (the retry has
    `max_attempts` of its own); the fence `attempt` does not, so a worker still holding an attempt
    from before the retry finds every write refused."""
    fresh = dict(
        status=RunStatus.QUEUED,
        epochs_done=0,
        error=None,
        worker=None,
        started_at=None,
        finished_at=None,
        attempts=0,
        heartbeat_at=None,
        cancel_requested=False,
        dispatched_at=None,
    )
    who = f"by {by}" if by else None
    if not any(
        _move(session, run_id, {"status": st}, "retried", detail=f"was {st}" + (f", {who}" if who else ""), **fresh)
        for st in (RunStatus.FAILED, RunStatus.CANCELLED)
    ):
        run = store.get_run(session, run_id)
        raise Conflict(f"run {run_id} is {run.status}; only failed or cancelled runs can be retried")
    for table in (Metric, BoundaryFrame, BoundaryGrid, Checkpoint):
        session.execute(delete(table).where(table.run_id == run_id))
    run = store.get_run(session, run_id)
    session.refresh(run)
    return run


def reap_dead(settings: Settings, reachable_since: datetime | None = None) -> dict[str, int]:
    """Runs whose heartbeat stopped lost their worker (kill -9, OOM, machine gone): put them back in
    the outbox to resume from their checkpoint, or end them as failed after `max_attempts`.

    `reachable_since`: when the caller last found the database back after an outage (database
    time). Until the database has been reachable for a whole `dead_after_seconds` since then, no
    run is judged: its worker could not beat while the database was away either."""
    counts = {"requeued": 0, "failed": 0, "cancelled": 0}
    with session_scope(settings.db_url) as s:
        cutoff = db_now(s) - timedelta(seconds=settings.dead_after_seconds)
        if reachable_since is not None and reachable_since > cutoff:
            return counts
        dead = s.execute(
            select(Run.id, Run.attempts, Run.attempt, Run.worker, Run.heartbeat_at, Run.cancel_requested).where(
                Run.status == RunStatus.RUNNING, Run.heartbeat_at < cutoff
            )
        ).all()
    for run_id, attempts, attempt, worker, heartbeat, cancel in dead:
        # still the same attempt, still silent: a heartbeat that arrived since the select keeps the run
        was, silent = {"status": RunStatus.RUNNING, "attempt": attempt}, Run.heartbeat_at < cutoff
        with session_scope(settings.db_url) as s:
            lost, now = f"worker {worker} stopped sending heartbeats", db_now(s)
            if cancel:
                outcome = (
                    "cancelled",
                    _move(
                        s, run_id, was, "cancelled", silent, status=RunStatus.CANCELLED, finished_at=now, detail=lost
                    ),
                )
            elif attempts >= settings.max_attempts:
                error = gave_up(attempts, worker, aware(heartbeat))
                outcome = (
                    "failed",
                    _move(
                        s,
                        run_id,
                        was,
                        "failed",
                        silent,
                        status=RunStatus.FAILED,
                        finished_at=now,
                        error=error,
                        detail=error_summary(error),
                    ),
                )
            else:
                outcome = (
                    "requeued",
                    _move(s, run_id, was, "requeued", silent, status=RunStatus.QUEUED, dispatched_at=None, detail=lost),
                )
        if outcome[1]:
            counts[outcome[0]] += 1
            log.warning(
                "run %s: its worker stopped sending heartbeats",
                outcome[0],
                extra={"run_id": run_id, "attempt": attempt, "worker": worker, "event": outcome[0]},
            )
    return counts

"""The Celery task: a thin adapter that claims a run, runs the engine, and persists each epoch.

Every flush (at most `IWLAB_FLUSH_SECONDS` apart, or after each epoch when epochs are slower) is
one transaction that writes the new epoch rows, refreshes the run's heartbeat, checks its cancel
flag and, every `IWLAB_CHECKPOINT_SECONDS`, stores a checkpoint. Between flushes a thread keeps the
heartbeat fresh, so a slow start (imports, loading a data set) or a long epoch is not mistaken
for a dead worker; the thread dies with the process, which is what the heartbeat must detect. A run whose worker dies is found
by its stale heartbeat (backend/maintenance.py), queued again, and resumed here from the
checkpoint; the epochs after the checkpoint are recomputed identically and upserted, so none is
duplicated or lost.

A database that goes away (restart, failover) does not fail the run: the epochs wait in memory and
the flush is retried with backoff while training goes on; claim, the final flush and finish retry
until the database answers again (`IWLAB_DB_RETRY_SECONDS`). Upserts make a retried flush harmless.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from backend import lifecycle, store
from backend.db import session_scope
from backend.queue import TRAIN_TASK
from backend.settings import get_settings

from .celery_app import app
from .environment import describe

log = logging.getLogger(__name__)
T = TypeVar("T")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@app.task(name=TRAIN_TASK, bind=True)
def train_run(self, run_id: int) -> str:
    settings = get_settings()
    worker = self.request.hostname or worker_name()  # the node name the registry knows it by
    event = {"run_id": run_id, "worker": worker}
    try:
        claim, why = persist(lambda: lifecycle.claim(settings, run_id, worker), f"run {run_id}: claim")
    except store.NotFound:
        log.warning("run dropped: it does not exist (deleted?)", extra=event | {"event": "dropped"})
        return "missing"
    if claim is None:
        log.info("run skipped: %s", why, extra=event | {"event": "skipped"})
        return "skipped"
    event["attempt"] = claim.attempt
    log.info("run claimed%s", " (resuming from a checkpoint)" if claim.checkpoint else "",
             extra=event | {"event": "claimed", "resumed": claim.checkpoint is not None})
    try:
        with heartbeat(run_id, claim.attempt):
            outcome = execute(run_id, claim)
    except Exception as exc:  # the run fails and keeps its error text; the worker lives on
        log.exception("run failed", extra=event | {"event": "failed"})
        error = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc(limit=6)}"
        persist(lambda: lifecycle.finish(settings, run_id, claim.attempt, "failed", error), f"run {run_id}: finish")
        return "failed"
    if outcome != "lost":
        persist(lambda: lifecycle.finish(settings, run_id, claim.attempt, outcome), f"run {run_id}: finish")
    log.info("run %s", outcome if outcome != "lost" else "lost to another attempt", extra=event | {"event": outcome})
    return outcome


def transient(exc: BaseException) -> bool:
    """The database is unreachable or restarting (not: the statement is wrong)."""
    return isinstance(exc, OperationalError | InterfaceError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def persist(call: Callable[[], T], what: str) -> T:
    """`call()`, retried with exponential backoff (0.25 s doubling to 10 s) while the database is
    unreachable, for at most `IWLAB_DB_RETRY_SECONDS`; other errors propagate at once."""
    deadline, delay = time.monotonic() + get_settings().db_retry_seconds, 0.25
    while True:
        try:
            return call()
        except Exception as exc:
            if not transient(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: database unreachable, retrying in %.1f s", what, delay, extra={"error": str(exc).splitlines()[0]})
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


@contextmanager
def heartbeat(run_id: int, attempt: int):
    """Beat every quarter of the dead-run timeout while the block runs."""
    settings, done = get_settings(), threading.Event()

    def beat() -> None:
        while not done.wait(settings.dead_after_seconds / 4):
            try:
                if not lifecycle.beat(settings, run_id, attempt):
                    return  # finished, cancelled or superseded: the training loop learns it at its next flush
            except Exception:  # a database hiccup: the next beat retries
                log.warning("run %s: heartbeat failed", run_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=10)


def execute(run_id: int, claim: lifecycle.Claim) -> str:
    """Train to the end ("succeeded"), or stop early: "cancelled", or "lost" when another attempt
    took the run over (this worker was presumed dead; it must not write any more)."""
    import torch

    from .engine.spec import RunSpec
    from .engine.train import train  # torch is imported here, in the worker, never by the API

    settings = get_settings()
    resume = torch.load(io.BytesIO(claim.checkpoint), weights_only=True) if claim.checkpoint else None
    training = train(RunSpec.model_validate(claim.params), device=settings.device, resume=resume)
    env = describe(str(training.device))
    persist(lambda: lifecycle.record_environment(settings, run_id, claim.attempt, env), f"run {run_id}: environment")
    if training.grid is not None:  # 2-D runs: the window the boundary frames are drawn on
        grid = training.grid

        def save_grid() -> None:
            with session_scope(settings.db_url) as session:
                store.save_grid(session, run_id, grid.xs, grid.ys, grid.points)

        persist(save_grid, f"run {run_id}: grid")
    pending, next_flush, last_checkpoint, backoff = [], time.monotonic() + settings.flush_seconds, time.monotonic(), 0.0
    for result in training:
        pending.append(result)
        now = time.monotonic()
        if now < next_flush:
            continue  # small models finish an epoch in milliseconds: write in batches
        checkpoint = None
        if now - last_checkpoint >= settings.checkpoint_seconds:
            buffer = io.BytesIO()
            torch.save(training.checkpoint(), buffer)
            checkpoint = (result.epoch, buffer.getvalue())
        try:
            verdict = lifecycle.flush(settings, run_id, claim.attempt, pending, checkpoint)
        except Exception as exc:
            if not transient(exc):
                raise
            # keep the epochs in memory and go on training; the next flush writes them all
            backoff = min(max(2 * backoff, settings.flush_seconds), 10.0)
            next_flush = time.monotonic() + backoff
            log.warning("run flush failed: database unreachable; %d epochs buffered, retrying in %.1f s", len(pending), backoff,
                        extra={"run_id": run_id, "attempt": claim.attempt, "event": "flush_retry"})
            continue
        pending, backoff, next_flush = [], 0.0, time.monotonic() + settings.flush_seconds
        last_checkpoint = now if checkpoint is not None else last_checkpoint
        if verdict == "lost":
            log.warning("run superseded by a later attempt; stopping without writing",
                        extra={"run_id": run_id, "attempt": claim.attempt, "event": "superseded"})
            return "lost"
        if verdict == "cancel":
            return "cancelled"
    # the last epochs (the run may also have stopped early): written even if a cancel arrived meanwhile
    verdict = persist(lambda: lifecycle.flush(settings, run_id, claim.attempt, pending, None), f"run {run_id}: last flush")
    return "lost" if verdict == "lost" else "succeeded"

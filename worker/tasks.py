"""The Celery task: a thin adapter that claims a run, runs the engine, and persists each epoch.

Every flush (at most `IWLAB_FLUSH_SECONDS` apart, or after each epoch when epochs are slower) is
one transaction that writes the new epoch rows, refreshes the run's heartbeat, checks its cancel
flag and, every `IWLAB_CHECKPOINT_SECONDS`, stores a checkpoint. Between flushes a thread keeps the
heartbeat fresh, so a slow start (imports, loading a data set) or a long epoch is not mistaken
for a dead worker; the thread dies with the process, which is what the heartbeat must detect. A run whose worker dies is found
by its stale heartbeat (backend/maintenance.py), queued again, and resumed here from the
checkpoint; the epochs after the checkpoint are recomputed identically and upserted, so none is
duplicated or lost.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
import time
import traceback
from contextlib import contextmanager

from backend import lifecycle, store
from backend.db import session_scope
from backend.queue import TRAIN_TASK
from backend.settings import get_settings

from .celery_app import app

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@app.task(name=TRAIN_TASK)
def train_run(run_id: int) -> str:
    settings = get_settings()
    try:
        claim, why = lifecycle.claim(settings, run_id, worker_name())
    except store.NotFound:
        log.warning("run %s does not exist (deleted?); dropping its message", run_id)
        return "missing"
    if claim is None:
        log.info("run %s: not training it: %s", run_id, why)
        return "skipped"
    log.info("run %s: attempt %d%s", run_id, claim.attempt, " (resuming from a checkpoint)" if claim.checkpoint else "")
    try:
        with heartbeat(run_id, claim.attempt):
            outcome = execute(run_id, claim)
    except Exception as exc:  # the run fails and keeps its error text; the worker lives on
        log.exception("run %s failed", run_id)
        error = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc(limit=6)}"
        lifecycle.finish(settings, run_id, claim.attempt, "failed", error)
        return "failed"
    if outcome != "lost":
        lifecycle.finish(settings, run_id, claim.attempt, outcome)
    log.info("run %s: %s", run_id, outcome)
    return outcome


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
    if training.grid is not None:  # 2-D runs: the window the boundary frames are drawn on
        with session_scope(settings.db_url) as session:
            store.save_grid(session, run_id, training.grid.xs, training.grid.ys, training.grid.points)
    pending, last_flush, last_checkpoint = [], time.monotonic(), time.monotonic()
    for result in training:
        pending.append(result)
        now = time.monotonic()
        if now - last_flush < settings.flush_seconds:
            continue  # small models finish an epoch in milliseconds: write in batches
        checkpoint = None
        if now - last_checkpoint >= settings.checkpoint_seconds:
            buffer = io.BytesIO()
            torch.save(training.checkpoint(), buffer)
            checkpoint, last_checkpoint = (result.epoch, buffer.getvalue()), now
        verdict = lifecycle.flush(settings, run_id, claim.attempt, pending, checkpoint)
        pending, last_flush = [], time.monotonic()
        if verdict == "lost":
            log.warning("run %s: attempt %d was superseded; stopping without writing", run_id, claim.attempt)
            return "lost"
        if verdict == "cancel":
            return "cancelled"
    # the last epochs (the run may also have stopped early): written even if a cancel arrived meanwhile
    return "lost" if lifecycle.flush(settings, run_id, claim.attempt, pending, None) == "lost" else "succeeded"

"""The Celery task: a thin adapter that claims a run, runs the engine, and persists each epoch.

Every flush (`writer.write_epochs`: at most `IWLAB_FLUSH_SECONDS` apart, or after each epoch when
epochs are slower) is one transaction that writes the new epoch rows, refreshes the run's
heartbeat, checks its cancel flag and, every `IWLAB_CHECKPOINT_SECONDS`, stores a checkpoint. Between flushes a thread keeps the
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
import traceback
from functools import partial

from backend import lifecycle, store
from backend.datasets import local_data
from backend.queue import TRAIN_TASK
from backend.settings import get_settings

from . import siblings
from .celery_app import app
from .durable import heartbeat, persist
from .environment import describe
from .writer import record_setup, write_epochs

log = logging.getLogger(__name__)


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
    log.info(
        "run claimed%s",
        " (resuming from a checkpoint)" if claim.checkpoint else "",
        extra=event | {"event": "claimed", "resumed": claim.checkpoint is not None},
    )
    claims = {run_id: claim}
    try:
        with heartbeat(
            {run_id: claim.attempt}
        ) as beating:  # from here on: importing torch alone can outlast a short dead-run timeout
            if claim.checkpoint is None and settings.batch_runs > 1:  # a resumed run goes on alone, from its checkpoint
                claims = claims | siblings.claim_siblings(settings, run_id, claim, worker)
                beating.update({rid: c.attempt for rid, c in claims.items()})
            outcomes = siblings.execute_siblings(claims, event) if len(claims) > 1 else {run_id: execute(run_id, claim)}
    except Exception as exc:  # the runs fail and keep the error text; the worker lives on
        log.exception("run failed", extra=event | {"event": "failed", "runs": sorted(claims)})
        error = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc(limit=6)}"
        for rid, c in claims.items():
            persist(partial(lifecycle.finish, settings, rid, c.attempt, "failed", error), f"run {rid}: finish")
        return "failed"
    for rid, outcome in outcomes.items():
        if outcome == "succeeded":  # the others were finished when they stopped (or are another attempt's)
            persist(partial(lifecycle.finish, settings, rid, claims[rid].attempt, outcome), f"run {rid}: finish")
        log.info(
            "run %s",
            outcome if outcome != "lost" else "lost to another attempt",
            extra=event | {"event": outcome, "run_id": rid},
        )
    return outcomes[run_id]


def execute(run_id: int, claim: lifecycle.Claim) -> str:
    """Train to the end ("succeeded"), or stop early: "cancelled", "failed" (diverged), or "lost"
    when another attempt took the run over (this worker was presumed dead; it must not write any
    more). The epochs are written by `writer.write_epochs`, with a checkpoint now and then."""
    import torch

    from .engine.spec import RunSpec
    from .engine.train import (
        train,  # torch is imported here, in the worker, never by the API
    )

    settings = get_settings()
    resume = torch.load(io.BytesIO(claim.checkpoint), weights_only=True) if claim.checkpoint else None
    training = train(
        local_data(settings, RunSpec.model_validate(claim.params)),
        device=settings.device,
        resume=resume,
        threads=settings.threads,
        datasets=settings.datasets_dir,
    )
    claims = {run_id: claim}
    record_setup(
        settings,
        claims,
        describe(str(training.device)),
        [training.effective_pos_weight],
        training.missing,
        training.grid,
    )
    return write_epochs(settings, claims, ([result] for result in training), checkpoint=training.checkpoint)[run_id]

"""The Celery task: a thin adapter that runs the engine and persists each epoch as it finishes."""

from __future__ import annotations

import logging
import socket
import time
import traceback

from backend import store
from backend.db import session_scope
from backend.queue import TRAIN_TASK
from backend.settings import get_settings

from .celery_app import app

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5  # how stale the dashboard's view of a training run may get


@app.task(name=TRAIN_TASK)
def train_run(run_id: int) -> str:
    url = get_settings().db_url
    with session_scope(url) as session:
        run = store.get_run(session, run_id)
        if run.status not in store.ACTIVE:
            log.info("run %s is %s; nothing to do", run_id, run.status)
            return run.status
        params = run.params
        store.start_run(session, run_id, worker=socket.gethostname())
    try:
        execute(run_id, params, url)
    except Exception as exc:  # the run fails and keeps its error text; the worker lives on
        log.exception("run %s failed", run_id)
        with session_scope(url) as session:
            store.finish_run(session, run_id, error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc(limit=6)}")
        return "failed"
    with session_scope(url) as session:
        store.finish_run(session, run_id)
    return "succeeded"


def execute(run_id: int, params: dict, url: str) -> None:
    from .engine.spec import RunSpec
    from .engine.train import train  # torch is imported here, in the worker, never by the API

    training = train(RunSpec.model_validate(params), device=get_settings().device)
    if training.grid is not None:
        with session_scope(url) as session:
            store.save_grid(session, run_id, training.grid.xs, training.grid.ys, training.grid.points)
    pending, last_flush = [], time.monotonic()
    for result in training:
        pending.append(result)
        # small models finish an epoch in milliseconds: write in batches, at most FLUSH_SECONDS apart
        if time.monotonic() - last_flush >= FLUSH_SECONDS:
            with session_scope(url) as session:
                store.record_epochs(session, run_id, pending)
            pending, last_flush = [], time.monotonic()
    with session_scope(url) as session:
        store.record_epochs(session, run_id, pending)

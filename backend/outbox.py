"""The outbox: a run is committed with `dispatched_at = NULL` and sent to the broker afterwards.

`dispatch_pending` sends what has not been sent and stamps it; the API calls it right after a
submission (fast path) and the maintenance loop calls it every few seconds (the path that re-sends
what the broker never got, e.g. while Redis was down). Sending and stamping are two steps, so a
crash between them sends a run twice; that is harmless, because the worker's claim drops a
delivery for a run that is already running or finished (backend/lifecycle.py).
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select, update

from .db import session_scope
from .models import Run, utcnow
from .queue import queue_for, send
from .settings import Settings
from .workers import live_gpu_worker

log = logging.getLogger(__name__)

BATCH = 500
BACKOFF_SECONDS = 5.0  # after a failed send, submissions skip the fast path for this long

_lock = threading.Lock()  # one sender per process, so the fast path and the loop never send the same run
_broker_down_until = 0.0


def dispatch_pending(settings: Settings, run_ids: list[int] | None = None, fast_path: bool = False) -> int:
    """Send queued, undispatched runs (all of them, or only `run_ids`); return how many were sent."""
    global _broker_down_until
    if fast_path and time.monotonic() < _broker_down_until:
        return 0  # the broker just failed: answer the submission now, the loop sends it later
    with _lock:
        query = select(Run.id, Run.params).where(Run.dispatched_at.is_(None), Run.status == "queued").order_by(Run.id).limit(BATCH)
        if run_ids is not None:
            query = query.where(Run.id.in_(run_ids))
        with session_scope(settings.db_url) as s:
            pending = s.execute(query).all()
            gpu = bool(pending) and live_gpu_worker(s, settings)
        sent = []
        for run_id, params in pending:
            try:
                send(settings, run_id, queue_for(params, gpu))
            except Exception as exc:  # broker down or unreachable: keep the rest for later
                _broker_down_until = time.monotonic() + BACKOFF_SECONDS
                log.warning("broker refused run %s (%s); %d runs wait in the outbox", run_id, exc, len(pending) - len(sent))
                break
            sent.append(run_id)
        if sent:
            with session_scope(settings.db_url) as s:
                s.execute(update(Run).where(Run.id.in_(sent)).values(dispatched_at=utcnow()))
        return len(sent)

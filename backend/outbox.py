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

_in_flight: set[int] = set()  # runs a sender of this process is sending right now
_in_flight_lock = threading.Lock()
_broker_down_until = 0.0


def dispatch_pending(settings: Settings, run_ids: list[int] | None = None, fast_path: bool = False) -> int:
    """Send queued, undispatched runs (all of them, or only `run_ids`); return how many were sent.

    Senders run concurrently (every submission sends its own runs at once; one global lock made
    200 concurrent submissions queue behind each other, bench/load.py) but never send the same run
    twice: each first reserves its runs in `_in_flight`, then re-reads which of them are still
    unsent. (API replicas do not share the reservations; a run sent twice is dropped by the claim.)"""
    if fast_path and time.monotonic() < _broker_down_until:
        return 0  # the broker just failed: answer the submission now, the loop sends it later
    if run_ids is None:
        with session_scope(settings.db_url) as s:
            run_ids = list(s.scalars(unsent().with_only_columns(Run.id)))
    reserved = _reserve(run_ids)
    try:
        return _send_and_stamp(settings, reserved) if reserved else 0
    finally:
        _release(reserved)


def unsent():
    return select(Run.id, Run.params).where(Run.dispatched_at.is_(None), Run.status == "queued").order_by(Run.id).limit(BATCH)


def _reserve(run_ids: list[int]) -> list[int]:
    with _in_flight_lock:
        mine = [r for r in run_ids if r not in _in_flight]
        _in_flight.update(mine)
        return mine


def _release(run_ids: list[int]) -> None:
    with _in_flight_lock:
        _in_flight.difference_update(run_ids)


def _send_and_stamp(settings: Settings, reserved: list[int]) -> int:
    global _broker_down_until
    with session_scope(settings.db_url) as s:
        pending = s.execute(unsent().where(Run.id.in_(reserved))).all()  # still unsent, now that they are ours
        gpu = bool(pending) and live_gpu_worker(s, settings)
    sent: list[int] = []
    for run_id, params in pending:
        try:
            send(settings, run_id, queue_for(params, gpu))
        except Exception as exc:  # noqa: BLE001 broker down or unreachable: keep the rest for later
            _broker_down_until = time.monotonic() + BACKOFF_SECONDS
            log.warning("broker refused run %s (%s); %d runs wait in the outbox", run_id, exc, len(pending) - len(sent))
            break
        sent.append(run_id)
    if sent:
        with session_scope(settings.db_url) as s:
            s.execute(update(Run).where(Run.id.in_(sent)).values(dispatched_at=utcnow()))
    return len(sent)

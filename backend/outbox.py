"""The outbox: a run is committed with `dispatched_at = NULL` and sent to the broker afterwards.

`dispatch_pending` sends what has not been sent and stamps it; the API calls it right after a
submission (fast path) and the maintenance loop calls it every few seconds (the path that re-sends
what the broker never got, e.g. while Redis was down). Sending and stamping are two steps, so a
crash between them sends a run twice; that is harmless, because the worker's claim drops a
delivery for a run that is already running or finished (backend/lifecycle.py).

A broker can also lose a message it accepted (Redis without persistence, restarted). So a run
that is still queued `IWLAB_RESEND_AFTER_SECONDS` after it was sent is sent again, and again each
such interval while it waits: a long backlog gets a spare copy per interval, which its claim drops.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from .db import session_scope
from .lifecycle import db_now
from .models import Run
from .queue import queue_for, send
from .settings import Settings
from .status import RunStatus
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
    with session_scope(settings.db_url) as s:
        lost_before = db_now(s) - timedelta(seconds=settings.resend_after_seconds)
        if run_ids is None:
            run_ids = list(s.scalars(unsent(lost_before).with_only_columns(Run.id)))
    reserved = _reserve(run_ids)
    try:
        return _send_and_stamp(settings, reserved, lost_before) if reserved else 0
    finally:
        _release(reserved)


def unsent(lost_before: datetime):
    """Queued runs never sent, or sent before `lost_before` and still not claimed."""
    waiting = or_(Run.dispatched_at.is_(None), Run.dispatched_at < lost_before)
    return (
        select(Run.id, Run.params, Run.dispatched_at)
        .where(waiting, Run.status == RunStatus.QUEUED)
        .order_by(Run.id)
        .limit(BATCH)
    )


def _reserve(run_ids: list[int]) -> list[int]:
    with _in_flight_lock:
        mine = [r for r in run_ids if r not in _in_flight]
        _in_flight.update(mine)
        return mine


def _release(run_ids: list[int]) -> None:
    with _in_flight_lock:
        _in_flight.difference_update(run_ids)


def _send_and_stamp(settings: Settings, reserved: list[int], lost_before: datetime) -> int:
    global _broker_down_until
    with session_scope(settings.db_url) as s:
        pending = s.execute(
            unsent(lost_before).where(Run.id.in_(reserved))
        ).all()  # still unsent, now that they are ours
        gpu = bool(pending) and live_gpu_worker(s, settings)
    sent: list[int] = []
    for run_id, params, dispatched_at in pending:
        try:
            send(settings, run_id, queue_for(params, gpu))
        except Exception as exc:  # noqa: BLE001 broker down or unreachable: keep the rest for later
            _broker_down_until = time.monotonic() + BACKOFF_SECONDS
            log.warning("broker refused run %s (%s); %d runs wait in the outbox", run_id, exc, len(pending) - len(sent))
            break
        sent.append(run_id)
        if dispatched_at is not None:
            log.warning(
                "run %s sent again: still queued %.0f s after it was sent (lost by the broker?)",
                run_id,
                settings.resend_after_seconds,
                extra={"run_id": run_id, "event": "resent"},
            )
    if sent:
        with session_scope(settings.db_url) as s:
            s.execute(update(Run).where(Run.id.in_(sent)).values(dispatched_at=db_now(s)))
    return len(sent)

"""A training worker's lifeline to the database: calls retried while it is away, and heartbeats
that keep its runs from being taken for dead."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from backend import lifecycle
from backend.settings import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def transient(exc: BaseException) -> bool:
    """The database is unreachable or restarting (not: the statement is wrong)."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


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
            log.warning(
                "%s: database unreachable, retrying in %.1f s", what, delay, extra={"error": str(exc).splitlines()[0]}
            )
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


@contextmanager
def heartbeat(attempts: dict[int, int]):
    """Beat every quarter of the dead-run timeout for each run (run id -> the attempt this worker
    holds) while the block runs; the block may add runs to the dict it is given. A thread, so a slow
    start (imports, loading a data set) or a long epoch is not mistaken for a dead worker; it dies
    with the process, which is what the heartbeat must show."""
    settings, done, beating = get_settings(), threading.Event(), dict(attempts)

    def beat() -> None:
        while not done.wait(settings.dead_after_seconds / 4):
            for run_id, attempt in list(beating.items()):
                try:
                    if not lifecycle.beat(settings, run_id, attempt):
                        del beating[
                            run_id
                        ]  # finished, cancelled or superseded: its training loop learns it at its next flush
                except Exception:  # a database hiccup: the next beat retries
                    log.warning("run %s: heartbeat failed", run_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{next(iter(attempts))}", daemon=True)
    thread.start()
    try:
        yield beating
    finally:
        done.set()
        thread.join(timeout=10)

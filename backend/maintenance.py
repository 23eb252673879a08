"""The API's background loop: re-queue runs whose worker died, then send what waits in the outbox.

It lives in the API process because the API is always up in both modes and is where submissions
land; a thread is enough (each tick is two small queries). With several API replicas every replica
runs it: the state changes are conditional updates (one replica wins) and a run sent twice is
dropped by the worker's claim, so the loops need no coordination.
"""

from __future__ import annotations

import logging
import threading

from .db import session_scope
from .lifecycle import reap_dead
from .outbox import dispatch_pending
from .settings import Settings
from .workers import forget_gone

log = logging.getLogger(__name__)


def tick(settings: Settings) -> None:
    reap_dead(settings)  # logs each run it re-queues or ends
    dispatch_pending(settings)
    with session_scope(settings.db_url) as s:
        forget_gone(s)


class MaintenanceLoop:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="iwlab-maintenance", daemon=True)

    def start(self) -> MaintenanceLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.settings.maintenance_seconds):
            try:
                tick(self.settings)
            except Exception:  # a database or broker hiccup must not end the loop
                log.exception("maintenance tick failed; retrying in %.0f s", self.settings.maintenance_seconds)

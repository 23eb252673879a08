"""The API's background loop: re-queue runs whose worker died, then send what waits in the outbox.

It lives in the API process because the API is always up in both modes and is where submissions
land; a thread is enough (each tick is two small queries). With several API replicas every replica
runs it: the state changes are conditional updates (one replica wins) and a run sent twice is
dropped by the worker's claim, so the loops need no coordination.

A tick that fails (the database is away) makes the loop wait, once the database answers again, a
whole dead-worker timeout before it judges any run dead: workers could not send heartbeats either
while it was away, and their runs are alive (`lifecycle.reap_dead(reachable_since=...)`).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from .db import session_scope
from .lifecycle import db_now, reap_dead
from .outbox import dispatch_pending
from .settings import Settings
from .workers import forget_gone

log = logging.getLogger(__name__)


def tick(settings: Settings, reachable_since: datetime | None = None) -> None:
    reap_dead(settings, reachable_since)  # logs each run it re-queues or ends
    dispatch_pending(settings)
    with session_scope(settings.db_url) as s:
        forget_gone(s)


class MaintenanceLoop:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="iwlab-maintenance", daemon=True)
        self._failed = False  # the last tick failed: the database may have been away
        self.reachable_since: datetime | None = None  # database time it answered again after a failed tick

    def start(self) -> MaintenanceLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.settings.maintenance_seconds):
            try:
                if self._failed:
                    with session_scope(self.settings.db_url) as s:
                        self.reachable_since = db_now(s)
                    self._failed = False
                    log.info(
                        "database reachable again; no run is judged dead for %.0f s", self.settings.dead_after_seconds
                    )
                tick(self.settings, self.reachable_since)
            except Exception:  # a database or broker hiccup must not end the loop
                self._failed = True
                log.exception("maintenance tick failed; retrying in %.0f s", self.settings.maintenance_seconds)

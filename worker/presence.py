"""A worker's presence in the registry (backend/workers.py): a heartbeat thread upserts its row,
says goodbye at shutdown, and turns a drain request into Celery's warm shutdown.

Drain = SIGTERM to itself: Celery's warm shutdown lets the run in progress finish (the solo pool
runs it in this process; prefork waits for its children) and hands every message it has not
started back to the broker, so a drained worker takes no more runs. The heartbeat runs in the
worker's main process, so it keeps beating while a run trains.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading

from celery.signals import worker_ready, worker_shutdown

from backend import workers
from backend.db import session_scope
from backend.settings import get_settings

log = logging.getLogger(__name__)


class Presence:
    def __init__(self, queues: list[str]):
        self.queues = queues
        self.gpu = os.environ.get("CUDA_VISIBLE_DEVICES")  # set by `iwlab worker --gpus`, one GPU per process
        self.name: str | None = None
        self._done = threading.Event()
        self._draining = False

    def install(self) -> Presence:
        worker_ready.connect(self._ready, weak=False)
        worker_shutdown.connect(self._shutdown, weak=False)
        return self

    def _ready(self, sender=None, **_kw) -> None:
        self.name = sender.hostname  # the Celery node name, which tasks see as `request.hostname`
        self._beat()
        threading.Thread(target=self._loop, name="iwlab-presence", daemon=True).start()
        log.info("worker registered", extra={"worker": self.name, "queues": self.queues, "gpu": self.gpu})

    def _loop(self) -> None:
        while not self._done.wait(get_settings().dead_after_seconds / 4):
            self._beat()

    def _beat(self) -> None:
        assert self.name is not None, "the worker names itself in _ready, before the first beat"
        try:
            with session_scope(get_settings().db_url) as s:
                drain = workers.beat(s, self.name, socket.gethostname(), os.getpid(), self.queues, self.gpu)
        except Exception:  # a database hiccup: the next beat retries
            log.warning("worker heartbeat failed", exc_info=True, extra={"worker": self.name})
            return
        if drain and not self._draining:
            self._draining = True
            log.info("worker draining: finishing the current run, taking no more", extra={"worker": self.name})
            os.kill(os.getpid(), signal.SIGTERM)  # Celery's warm shutdown

    def _shutdown(self, **_kw) -> None:
        self._done.set()
        if self.name is None:
            return
        try:
            with session_scope(get_settings().db_url) as s:
                workers.goodbye(s, self.name)
        except Exception:
            log.warning(
                "worker could not deregister; it will show as dead after its heartbeat times out", exc_info=True
            )
        log.info("worker stopped", extra={"worker": self.name})

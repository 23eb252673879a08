"""The worker's Celery app; its configuration is the backend's, so both sides agree on the queue."""

from __future__ import annotations

from celery import Celery

from backend.queue import celery_config
from backend.settings import get_settings

app = Celery("iwlab-worker", include=["worker.tasks"])
app.conf.update(celery_config(get_settings()))

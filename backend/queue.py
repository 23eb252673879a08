"""The Celery side of the backend: configuration shared with the worker, and dispatch by task name
(so importing the backend never imports torch)."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery

from worker.engine.spec import IMAGE_DATASETS

from .settings import Settings

log = logging.getLogger(__name__)

TRAIN_TASK = "iwlab.train_run"
QUEUES = ("cpu", "gpu")
GPU_MODELS = ("convnet", "resnet")


def needs_gpu(params: dict[str, Any]) -> bool:
    """Image data or a convolutional model; 2-D data and small models train as fast on a CPU core."""
    return params.get("dataset") in IMAGE_DATASETS or params.get("model") in GPU_MODELS


def queue_for(params: dict[str, Any], gpu_worker_alive: bool) -> str:
    """`gpu` only while a GPU worker is there to take it, so an image run never waits on an empty queue."""
    return "gpu" if gpu_worker_alive and needs_gpu(params) else "cpu"


def celery_config(settings: Settings) -> dict:
    config: dict[str, Any] = {
        "broker_url": settings.broker,
        "task_default_queue": "cpu",
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,  # history lives in SQL, not in Celery results
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
    }
    if config["broker_url"].startswith("filesystem"):
        folder = settings.broker_folder
        for sub in ("messages", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        config["broker_transport_options"] = {
            "data_folder_in": str(folder / "messages"),
            "data_folder_out": str(folder / "messages"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
        }
    elif config["broker_url"].startswith("redis"):
        # longer than the longest run, so an unacknowledged run is not redelivered while it trains
        config["broker_transport_options"] = {"visibility_timeout": 7 * 24 * 3600}
    return config


_clients: dict[tuple[str, str], Celery] = {}


def client(settings: Settings) -> Celery:
    key = (settings.broker, str(settings.broker_folder))
    if key not in _clients:
        app = Celery("iwlab-backend")
        config = celery_config(settings)
        # the sender fails fast when the broker is down: the outbox (backend/outbox.py) re-sends later
        config["broker_connection_timeout"] = 2
        if config["broker_url"].startswith("redis"):
            config["broker_transport_options"] |= {"socket_connect_timeout": 2, "socket_timeout": 5}
        app.conf.update(config)
        _clients[key] = app
    return _clients[key]


def send(settings: Settings, run_id: int, queue: str = "cpu") -> None:
    """One message per run; raises when the broker does not take it (no retries here)."""
    client(settings).send_task(TRAIN_TASK, args=[run_id], queue=queue, retry=False)


def dispatch(settings: Settings, run_ids: list[int]) -> None:
    """Send without the outbox's bookkeeping (tests use it to feed a worker directly)."""
    for run_id in run_ids:
        send(settings, run_id)

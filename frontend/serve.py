"""The dashboard served by gunicorn, a production WSGI server, instead of Flask's development one.

One process with threads: Dash callbacks are short calls to the API, and one process keeps the
embedded stack's in-memory sessions (a lab server keeps them in Redis, see `auth.RedisSessions`)."""

from __future__ import annotations

from flask import Flask
from gunicorn.app.base import BaseApplication

THREADS = 16  # requests served at once: the dashboard mostly waits on the API


class _Dashboard(BaseApplication):
    def __init__(self, server: Flask, options: dict):
        self.server, self.options = server, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.server


def serve(server: Flask, host: str, port: int) -> None:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    _Dashboard(server, {"bind": bind, "workers": 1, "worker_class": "gthread", "threads": THREADS,
                        "accesslog": None, "timeout": 120}).run()

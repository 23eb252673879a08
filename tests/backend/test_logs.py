"""Structured logs: JSON lines carry the context given in `extra=`; every API request is logged."""

import io
import json
import logging

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.logs import configure


@pytest.fixture
def captured(settings):
    """Logs of the app under `settings` (format json) written to a buffer; the root logger restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure(settings.model_copy(update={"log_format": "json"}), stream=buffer)
    yield buffer
    root.handlers[:], root.level = handlers, level


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_json_line_holds_the_message_level_and_context(captured):
    logging.getLogger("iwlab.test").warning("run %s stalled", 7, extra={"run_id": 7, "attempt": 2, "worker": "w@box"})
    (line,) = [rec for rec in lines(captured) if rec["logger"] == "iwlab.test"]
    assert line["message"] == "run 7 stalled" and line["level"] == "warning"
    assert (line["run_id"], line["attempt"], line["worker"]) == (7, 2, "w@box") and line["ts"].endswith("+00:00")


def test_exceptions_are_one_line_with_their_traceback(captured):
    try:
        _ = 1 / 0
    except ZeroDivisionError:
        logging.getLogger("iwlab.test").exception("boom")
    (line,) = [rec for rec in lines(captured) if rec["logger"] == "iwlab.test"]
    assert "ZeroDivisionError" in line["exception"]


def test_every_request_is_logged_with_its_status_and_duration(settings, captured):
    with TestClient(create_app(settings)) as client:
        client.get("/api/v1/experiments")
        client.get("/api/v1/runs/999")
    access = [rec for rec in lines(captured) if rec["logger"] == "iwlab.access"]
    assert [(rec["method"], rec["path"], rec["status"]) for rec in access] == [
        ("GET", "/api/v1/experiments", 200),
        ("GET", "/api/v1/runs/999", 404),
    ]
    assert all(rec["duration_ms"] >= 0 for rec in access)


def test_text_format_appends_the_context(settings):
    buffer = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure(settings.model_copy(update={"log_format": "text"}), stream=buffer)
        logging.getLogger("iwlab.test").info("claimed", extra={"run_id": 3})
    finally:
        root.handlers[:], root.level = handlers, level
    assert "claimed" in buffer.getvalue() and "run_id=3" in buffer.getvalue()

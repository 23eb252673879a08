"""Liveness across the reaper's own database outage, and checkpoints that cannot be written, on a
real Postgres (issue 14, items 7 and 8)."""

import logging
import time

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from backend import lifecycle
from backend.app import create_app
from backend.db import session_scope
from backend.models import Checkpoint, Metric, Run, RunEvent
from backend.settings import Settings

from .test_lifecycle import record, submit


@pytest.fixture
def pg(postgres_server, postgres_url, tmp_path):
    settings = Settings(home=tmp_path, database_url=postgres_url, dead_after_seconds=2.0, maintenance_seconds=0.2)
    with TestClient(create_app(settings)) as client:
        yield client, settings, postgres_server


def admin(server):
    url = make_url(server.url("postgres"))
    return psycopg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname="postgres", autocommit=True
    )


def outage(server, db_url: str, allow: bool) -> None:
    """Refuse (or allow again) every connection to this test's database, dropping the open ones."""
    name = make_url(db_url).database
    with admin(server) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allow else "false"}')
        if not allow:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )


def test_a_database_outage_longer_than_the_timeout_does_not_make_live_workers_dead(pg):
    client, settings, server = pg
    _, runs = submit(client)
    run_id = runs[0]["id"]
    claim, _ = lifecycle.claim(settings, run_id, "w1")
    outage(server, settings.db_url, allow=False)
    try:
        time.sleep(settings.dead_after_seconds * 1.5)  # the worker cannot beat either
    finally:
        outage(server, settings.db_url, allow=True)
    time.sleep(settings.dead_after_seconds / 4)  # the worker's next beat, as its heartbeat thread sends it
    assert lifecycle.beat(settings, run_id, claim.attempt)
    time.sleep(settings.dead_after_seconds)  # the loop ticks every 0.2 s meanwhile
    with session_scope(settings.db_url) as s:
        run = s.get(Run, run_id)
        events = list(s.scalars(select(RunEvent.event).where(RunEvent.run_id == run_id)))
    assert (run.status, run.attempts) == ("running", 1) and "requeued" not in events
    # and a worker that really died after the outage is still found
    time.sleep(settings.dead_after_seconds + 1)
    with session_scope(settings.db_url) as s:
        assert s.get(Run, run_id).status == "queued"


FULL_DISK = """
CREATE FUNCTION full_disk() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'could not extend file "base/16384/16999": No space left on device' USING ERRCODE = 'disk_full'; END
$$ LANGUAGE plpgsql;
CREATE TRIGGER full_disk BEFORE INSERT OR UPDATE ON checkpoints FOR EACH ROW EXECUTE FUNCTION full_disk();
"""


def test_a_checkpoint_that_cannot_be_written_does_not_hold_back_the_epochs(pg, caplog):
    client, settings, _ = pg
    _, runs = submit(client)
    run_id = runs[0]["id"]
    claim, _ = lifecycle.claim(settings, run_id, "w1")
    with session_scope(settings.db_url) as s:
        s.connection().exec_driver_sql(FULL_DISK)
    with caplog.at_level(logging.WARNING, logger="backend.lifecycle"):
        verdict = lifecycle.flush(settings, run_id, claim.attempt, [record(0), record(1)], (1, b"x" * 100_000))
    assert verdict == "ok"
    with session_scope(settings.db_url) as s:
        assert s.scalar(select(func.count()).select_from(Metric).where(Metric.run_id == run_id)) == 2
        assert s.get(Run, run_id).epochs_done == 1 and s.get(Checkpoint, run_id) is None
    (warning,) = [r for r in caplog.records if getattr(r, "event", None) == "checkpoint_failed"]
    assert "No space left on device" in warning.getMessage() and "unreachable" not in warning.getMessage()

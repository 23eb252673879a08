"""Postgres stopped and restarted while a real worker trains: the worker keeps its epochs in memory
and retries its writes, the API answers 503 while the database is away and reconnects after; the
run finishes in its first attempt with every epoch once."""

import time
from collections import Counter

import pytest

from tests.services import ThrowawayPostgres, find_pg_bin, missing, wait_for

SPEC = {"name": "outage", "base": {"epochs": 2000, "frames": 4}, "sweep": {}}


@pytest.fixture
def own_postgres():
    """A Postgres of this test's own: stopping it must not disturb the session's shared one."""
    pg_bin = find_pg_bin()
    if pg_bin is None:
        missing("PostgreSQL server binaries (initdb, pg_ctl)", "postgresql")
    server = ThrowawayPostgres(pg_bin)
    try:
        yield server
    finally:
        server.stop()


def test_a_run_survives_a_database_restart_without_losing_or_repeating_an_epoch(
    make_lab, isolated_redis_url, own_postgres
):
    # dead_after well above the outage: the run must survive in its first attempt, not be resumed
    lab = make_lab(isolated_redis_url, database_url=own_postgres.create_database(), dead_after_seconds=60.0)
    lab.start_worker("worker")
    exp = lab.client.post("/api/v1/experiments", json=SPEC).json()
    run_id = lab.client.get(f"/api/v1/experiments/{exp['id']}/runs").json()[0]["id"]
    wait_for(
        lambda: lab.client.get(f"/api/v1/runs/{run_id}").json()["epochs_done"] >= 20,
        timeout=90,
        what="training to start",
        interval=0.2,
    )

    own_postgres.halt()
    try:
        assert lab.client.get("/api/v1/health").status_code == 503
        down = lab.client.get(f"/api/v1/runs/{run_id}")
        assert down.status_code == 503 and "database" in down.json()["detail"]
        time.sleep(10 * lab.settings.flush_seconds)  # the worker tries (and fails) to flush several times
    finally:
        own_postgres.restart()

    run = wait_for(
        lambda: (r := lab.client.get(f"/api/v1/runs/{run_id}").json())["status"] not in ("queued", "running") and r,
        timeout=180,
        what="the run to finish",
        interval=0.5,
    )
    assert run["status"] == "succeeded" and run["attempts"] == 1 and run["epochs_done"] == SPEC["base"]["epochs"]
    rows = lab.client.get(f"/api/v1/runs/{run_id}/metrics", params={"split": "train", "metric": "loss"}).json()
    epochs = Counter(row["epoch"] for row in rows)
    assert sorted(epochs) == list(range(SPEC["base"]["epochs"] + 1)) and set(epochs.values()) == {1}

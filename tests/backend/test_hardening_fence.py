"""The fence across retries, and liveness on the database's clock (issue 14, items 2 and 6).

A worker stopped with SIGSTOP keeps the attempt number it claimed; when it wakes after its run was
cancelled, retried and claimed by another worker, none of its writes may land, and the history must
name the worker that really finished the run."""

from datetime import timedelta

import pytest

from backend import lifecycle
from backend.db import session_scope
from backend.models import BoundaryGrid, Run, utcnow

from .test_lifecycle import metric_count, record, silence, submit
from .test_run_history import steps


def test_a_worker_presumed_dead_before_a_retry_cannot_write_after_it(client, settings):
    _, runs = submit(client)
    run_id = runs[0]["id"]
    stale, _ = lifecycle.claim(settings, run_id, "w1")
    assert lifecycle.flush(settings, run_id, stale.attempt, [record(0), record(1)], None) == "ok"
    # w1 stops (SIGSTOP): cancelled, its heartbeat goes stale, the reaper ends it, a member retries it
    assert client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 202
    silence(settings, run_id, settings.dead_after_seconds + 1)
    assert lifecycle.reap_dead(settings)["cancelled"] == 1
    retried = client.post(f"/api/v1/runs/{run_id}/retry").json()
    assert retried["attempts"] == 0  # the retry has max_attempts of its own
    fresh, _ = lifecycle.claim(settings, run_id, "w2")
    assert fresh.attempt > stale.attempt
    # w1 wakes up: every write it tries is refused
    assert lifecycle.flush(settings, run_id, stale.attempt, [record(2), record(3)], (3, b"stale")) == "lost"
    assert not lifecycle.beat(settings, run_id, stale.attempt)
    assert not lifecycle.record_environment(settings, run_id, stale.attempt, {"worker": "w1"})
    assert not lifecycle.save_grid(settings, run_id, stale.attempt, [0.0], [0.0], [[0.0, 0.0, 1]])
    assert not lifecycle.finish(settings, run_id, stale.attempt, "succeeded")
    assert metric_count(settings, run_id) == 0  # the retry deleted w1's epochs; none came back
    with session_scope(settings.db_url) as s:
        assert s.get(BoundaryGrid, run_id) is None
        assert s.get(Run, run_id).status == "running"
    # w2 finishes, and the history says so
    assert lifecycle.flush(settings, run_id, fresh.attempt, [record(0)], None) == "ok"
    assert lifecycle.finish(settings, run_id, fresh.attempt, "succeeded")
    history = steps(client, run_id)
    assert history[-1] == ("succeeded", "succeeded", fresh.attempt, "w2")
    claims = [attempt for event, _, attempt, _ in history if event == "claimed"]
    assert claims == sorted(set(claims))  # attempt numbers only ever grow


def test_max_attempts_counts_the_attempts_since_the_retry(client, settings):
    _, runs = submit(client)
    run_id = runs[0]["id"]
    for _ in range(settings.max_attempts):
        lifecycle.claim(settings, run_id, "w1")
        silence(settings, run_id, settings.dead_after_seconds + 1)
        lifecycle.reap_dead(settings)
    assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "failed"
    assert client.post(f"/api/v1/runs/{run_id}/retry").status_code == 202
    claim, why = lifecycle.claim(settings, run_id, "w2")
    assert claim is not None, why
    assert claim.attempt == settings.max_attempts + 1


@pytest.fixture
def pg_settings(postgres_url, tmp_path):
    from backend.settings import Settings

    return Settings(home=tmp_path, database_url=postgres_url, dead_after_seconds=20)


@pytest.fixture
def pg_client(pg_settings):
    from fastapi.testclient import TestClient

    from backend.app import create_app

    with TestClient(create_app(pg_settings)) as c:
        yield c


@pytest.mark.parametrize("skew", [-30, 60])
def test_a_worker_whose_clock_is_off_is_judged_on_the_database_clock(pg_client, pg_settings, monkeypatch, skew):
    """A worker 30 s behind used to look dead within seconds; one 60 s ahead looked alive for a
    minute after dying. The heartbeat is stamped with Postgres' now(), whatever the worker's clock."""
    _, runs = submit(pg_client)
    run_id = runs[0]["id"]
    with monkeypatch.context() as worker_clock:  # the worker's process: its clock is off by `skew`
        worker_clock.setattr(lifecycle, "utcnow", lambda: utcnow() + timedelta(seconds=skew))
        claim, _ = lifecycle.claim(pg_settings, run_id, "skewed")
        assert lifecycle.beat(pg_settings, run_id, claim.attempt)
    with session_scope(pg_settings.db_url) as s:
        stamped = s.get(Run, run_id).heartbeat_at
    assert abs((stamped - utcnow()).total_seconds()) < 5
    assert lifecycle.reap_dead(pg_settings) == {"requeued": 0, "failed": 0, "cancelled": 0}

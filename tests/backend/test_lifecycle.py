"""Run lifecycle through the API and the worker-side transitions, on SQLite and on Postgres.

The worker's half (claim, flush, finish) is called directly here, as the Celery task calls it;
tests/worker/ drives the same code from real worker processes.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from backend import lifecycle
from backend.db import session_scope
from backend.models import Checkpoint, Metric, Run, utcnow
from backend.outbox import dispatch_pending

SPEC = {"name": "life", "base": {"epochs": 5}, "sweep": {"pos_weight": [0.1, 10]}}


def submit(client) -> tuple[dict, list[dict]]:
    exp = client.post("/api/v1/experiments", json=SPEC).json()
    return exp, client.get(f"/api/v1/experiments/{exp['id']}/runs").json()


def record(epoch: int) -> SimpleNamespace:
    return SimpleNamespace(epoch=epoch, metrics={"train": {"loss": 1.0 / (epoch + 1)}}, boundary=None)


def metric_count(settings, run_id: int) -> int:
    with session_scope(settings.db_url) as s:
        return s.scalars(select(func.count()).select_from(Metric).where(Metric.run_id == run_id)).one()


def test_submission_is_stamped_dispatched_and_never_resent(client, settings):
    _, runs = submit(client)
    with session_scope(settings.db_url) as s:
        assert all(s.get(Run, r["id"]).dispatched_at is not None for r in runs)
    assert dispatch_pending(settings) == 0
    assert len(list((settings.broker_folder / "messages").iterdir())) == 2


def test_cancel_a_queued_run_at_once_and_its_delivery_is_dropped(client, settings):
    _, runs = submit(client)
    resp = client.post(f"/api/v1/runs/{runs[0]['id']}/cancel")
    assert resp.status_code == 202 and resp.json()["status"] == "cancelled" and resp.json()["finished_at"]
    claim, why = lifecycle.claim(settings, runs[0]["id"], "w1")
    assert claim is None and "cancelled" in why
    assert client.get(f"/api/v1/runs/{runs[1]['id']}").json()["status"] == "queued"


def test_cancel_a_running_run_flags_it_and_the_next_flush_stops_it_keeping_its_epochs(client, settings):
    _, runs = submit(client)
    run_id = runs[0]["id"]
    claim, _ = lifecycle.claim(settings, run_id, "w1")
    assert claim.attempt == 1 and claim.checkpoint is None
    assert lifecycle.flush(settings, run_id, 1, [record(0), record(1)], None) == "ok"
    body = client.post(f"/api/v1/runs/{run_id}/cancel").json()
    assert body["status"] == "running" and body["cancel_requested"]
    assert lifecycle.flush(settings, run_id, 1, [record(2)], None) == "cancel"
    assert lifecycle.finish(settings, run_id, 1, "cancelled")
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert run["status"] == "cancelled" and run["epochs_done"] == 2 and metric_count(settings, run_id) == 3


def test_cancel_of_a_finished_run_is_409(client, settings):
    _, runs = submit(client)
    run_id = runs[0]["id"]
    lifecycle.claim(settings, run_id, "w1")
    lifecycle.finish(settings, run_id, 1, "succeeded")
    resp = client.post(f"/api/v1/runs/{run_id}/cancel")
    assert resp.status_code == 409 and "succeeded" in resp.json()["detail"]
    assert client.post(f"/api/v1/runs/{run_id}/retry").status_code == 409


def test_cancel_an_experiment_cancels_its_active_runs_only(client, settings):
    exp, runs = submit(client)
    lifecycle.claim(settings, runs[0]["id"], "w1")
    lifecycle.finish(settings, runs[0]["id"], 1, "succeeded")
    body = client.post(f"/api/v1/experiments/{exp['id']}/cancel").json()
    assert body["status_counts"] == {"succeeded": 1, "cancelled": 1} and body["status"] == "cancelled"
    assert client.post("/api/v1/experiments/999/cancel").status_code == 404


def test_retry_resets_the_row_deletes_its_epochs_and_sends_it_again(client, settings):
    _, runs = submit(client)
    run_id = runs[0]["id"]
    lifecycle.claim(settings, run_id, "w1")
    lifecycle.flush(settings, run_id, 1, [record(0), record(1)], (1, b"state"))
    lifecycle.finish(settings, run_id, 1, "failed", "boom")
    before = len(list((settings.broker_folder / "messages").iterdir()))
    resp = client.post(f"/api/v1/runs/{run_id}/retry")
    assert resp.status_code == 202
    run = resp.json()
    assert (run["status"], run["epochs_done"], run["attempts"], run["error"]) == ("queued", 0, 0, None)
    assert metric_count(settings, run_id) == 0
    assert len(list((settings.broker_folder / "messages").iterdir())) == before + 1
    claim, _ = lifecycle.claim(settings, run_id, "w2")
    assert claim.attempt == 2 and claim.checkpoint is None  # a retry starts afresh, under a new attempt number


def test_a_duplicate_delivery_of_a_live_run_is_dropped(client, settings):
    _, runs = submit(client)
    assert lifecycle.claim(settings, runs[0]["id"], "w1")[0] is not None
    claim, why = lifecycle.claim(settings, runs[0]["id"], "w2")
    assert claim is None and "w1" in why


def silence(settings, run_id: int, seconds: float) -> None:
    with session_scope(settings.db_url) as s:
        s.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow() - timedelta(seconds=seconds)))


def test_a_dead_run_is_requeued_resumes_from_its_checkpoint_and_fences_the_old_worker(client, settings):
    _, runs = submit(client)
    run_id = runs[0]["id"]
    lifecycle.claim(settings, run_id, "w1")
    lifecycle.flush(settings, run_id, 1, [record(0), record(1), record(2)], (2, b"state at 2"))
    silence(settings, run_id, settings.dead_after_seconds + 1)
    assert lifecycle.reap_dead(settings) == {"requeued": 1, "failed": 0, "cancelled": 0}
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert run["status"] == "queued" and run["epochs_done"] == 2
    assert dispatch_pending(settings) == 1  # back through the outbox
    claim, _ = lifecycle.claim(settings, run_id, "w2")
    assert claim.attempt == 2 and claim.checkpoint == b"state at 2"
    # the first worker was only slow, not dead: it must not write over its successor
    assert lifecycle.flush(settings, run_id, 1, [record(3)], None) == "lost"
    assert not lifecycle.beat(settings, run_id, 1) and lifecycle.beat(settings, run_id, 2)
    assert not lifecycle.finish(settings, run_id, 1, "succeeded")
    assert lifecycle.flush(settings, run_id, 2, [record(3)], None) == "ok"
    assert lifecycle.finish(settings, run_id, 2, "succeeded")
    with session_scope(settings.db_url) as s:
        assert s.get(Checkpoint, run_id) is None


def test_a_run_that_keeps_dying_fails_with_the_reason(client, settings):
    _, runs = submit(client)
    run_id = runs[0]["id"]
    for attempt in range(1, settings.max_attempts + 1):
        claim, _ = lifecycle.claim(settings, run_id, f"w{attempt}")
        assert claim.attempt == attempt
        silence(settings, run_id, settings.dead_after_seconds + 1)
        lifecycle.reap_dead(settings)
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert run["status"] == "failed" and f"gave up after {settings.max_attempts} attempts" in run["error"]
    assert f"w{settings.max_attempts}" in run["error"]


def test_a_live_heartbeat_is_not_reaped(client, settings):
    _, runs = submit(client)
    lifecycle.claim(settings, runs[0]["id"], "w1")
    assert lifecycle.reap_dead(settings) == {"requeued": 0, "failed": 0, "cancelled": 0}


@pytest.mark.parametrize(
    "path", ["/runs/0", "/runs/2147483648", "/runs/1/boundary/-1", "/experiments/99999999999999999999"]
)
def test_out_of_range_ids_are_422_naming_the_parameter(client, path):
    resp = client.get("/api/v1" + path)
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"][0] == "path"


def test_a_requeued_run_is_logged_with_its_id_attempt_and_worker(client, settings, caplog):
    _, runs = submit(client)
    run_id = runs[0]["id"]
    lifecycle.claim(settings, run_id, "w1@box")
    silence(settings, run_id, settings.dead_after_seconds + 1)
    with caplog.at_level("WARNING", logger="backend.lifecycle"):
        lifecycle.reap_dead(settings)
    (record,) = [r for r in caplog.records if getattr(r, "event", None) == "requeued"]
    assert (record.run_id, record.attempt, record.worker) == (run_id, 1, "w1@box")

"""Each run's status history (`GET /runs/{id}/history`), written with every transition, on SQLite
and on Postgres. The worker's half is called directly, as the Celery task calls it; the real
workers' history is checked in tests/worker/."""

from datetime import datetime

from backend import lifecycle

from .test_lifecycle import record, silence, submit


def history(client, run_id: int) -> list[dict]:
    resp = client.get(f"/api/v1/runs/{run_id}/history")
    assert resp.status_code == 200, resp.text
    return resp.json()


def steps(client, run_id: int) -> list[tuple]:
    return [(e["event"], e["status"], e["attempt"], e["worker"]) for e in history(client, run_id)]


def test_a_run_that_dies_resumes_fails_and_is_retried_has_every_step_in_order(client, settings):
    _, runs = submit(client)
    run_id = runs[0]["id"]
    lifecycle.claim(settings, run_id, "w1")
    lifecycle.flush(settings, run_id, 1, [record(0), record(1), record(2)], (2, b"state at 2"))
    silence(settings, run_id, settings.dead_after_seconds + 1)
    lifecycle.reap_dead(settings)
    claim, _ = lifecycle.claim(settings, run_id, "w2")
    lifecycle.finish(
        settings, run_id, claim.attempt, "failed", "ValidationError: 1 error\nlr\n  must be > 0\n\nTraceback ..."
    )
    assert client.post(f"/api/v1/runs/{run_id}/retry").status_code == 202
    claim, _ = lifecycle.claim(settings, run_id, "w3")
    lifecycle.finish(settings, run_id, claim.attempt, "succeeded")

    assert steps(client, run_id) == [
        ("queued", "queued", None, None),
        ("claimed", "running", 1, "w1"),
        ("requeued", "queued", 1, "w1"),
        ("claimed", "running", 2, "w2"),
        ("failed", "failed", 2, "w2"),
        ("retried", "queued", None, None),
        ("claimed", "running", 3, "w3"),  # attempt numbers only ever grow
        ("succeeded", "succeeded", 3, "w3"),
    ]
    events = history(client, run_id)
    details = [e["detail"] for e in events]
    assert "w1 stopped sending heartbeats" in details[2]
    assert details[3] == "resumed from the checkpoint of epoch 2"
    assert (
        details[4] == "ValidationError: 1 error lr must be > 0"
    )  # the message on one line; the run keeps the traceback too
    assert details[5] == "was failed, by local" and details[6] is None  # a retry starts afresh
    times = [datetime.fromisoformat(e["at"]) for e in events]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert datetime.fromisoformat(run["finished_at"]) >= times[-2]


def test_cancelling_is_recorded_once_where_it_happens(client, settings):
    _, runs = submit(client)
    queued, running = runs[0]["id"], runs[1]["id"]
    client.post(f"/api/v1/runs/{queued}/cancel")
    lifecycle.claim(settings, running, "w1")
    client.post(f"/api/v1/runs/{running}/cancel")
    client.post(f"/api/v1/runs/{running}/cancel")  # a second request changes nothing
    assert lifecycle.flush(settings, running, 1, [record(0)], None) == "cancel"
    lifecycle.finish(settings, running, 1, "cancelled")
    assert steps(client, queued) == [("queued", "queued", None, None), ("cancelled", "cancelled", None, None)]
    assert [(e["event"], e["status"], e["detail"]) for e in history(client, running)] == [
        ("queued", "queued", None),
        ("claimed", "running", None),
        ("cancel_requested", "running", "by local"),
        ("cancelled", "cancelled", None),
    ]


def test_a_transition_that_loses_its_race_writes_no_event(client, settings):
    _, runs = submit(client)
    run_id = runs[0]["id"]
    lifecycle.claim(settings, run_id, "w1")
    assert lifecycle.claim(settings, run_id, "w2")[0] is None  # a duplicate delivery
    silence(settings, run_id, settings.dead_after_seconds + 1)
    lifecycle.reap_dead(settings)
    lifecycle.claim(settings, run_id, "w2")
    assert not lifecycle.finish(settings, run_id, 1, "succeeded")  # the presumed-dead worker is fenced off
    assert client.post(f"/api/v1/runs/{run_id}/retry").status_code == 409
    assert [e for e, *_ in steps(client, run_id)] == ["queued", "claimed", "requeued", "claimed"]


def test_a_run_that_keeps_dying_ends_with_the_reason_in_its_history(client, settings):
    _, runs = submit(client)
    run_id = runs[0]["id"]
    for attempt in range(1, settings.max_attempts + 1):
        lifecycle.claim(settings, run_id, f"w{attempt}")
        silence(settings, run_id, settings.dead_after_seconds + 1)
        lifecycle.reap_dead(settings)
    last = history(client, run_id)[-1]
    assert (last["event"], last["attempt"], last["worker"]) == (
        "failed",
        settings.max_attempts,
        f"w{settings.max_attempts}",
    )
    assert last["detail"].startswith(f"gave up after {settings.max_attempts} attempts")


def test_history_of_an_unknown_run_is_404(client):
    assert client.get("/api/v1/runs/999/history").status_code == 404
    assert client.get("/api/v1/runs/0/history").status_code == 422

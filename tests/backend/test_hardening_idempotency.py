"""`Idempotency-Key` on POST /experiments (issue 14, item 10): a client that retries after a dropped
response gets the experiment its first request made, not a second one."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from backend.db import get_engine
from backend.migrate import upgrade

SPEC = {"name": "once", "base": {"epochs": 2}, "sweep": {"seed": [0, 1]}, "tags": ["b", "a"]}


def post(client, spec=SPEC, key=None):
    return client.post("/api/v1/experiments", json=spec, headers={"Idempotency-Key": key} if key else {})


def test_a_retry_with_the_same_key_returns_the_first_experiment(client):
    first, again = post(client, key="k-1"), post(client, key="k-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert client.get("/api/v1/experiments").json()["total"] == 1
    assert (
        client.get(f"/api/v1/experiments/{first.json()['id']}/runs").headers["x-total-count"] == "2"
    )  # runs made once
    assert post(client, key="k-2").json()["id"] != first.json()["id"]
    assert post(client).json()["id"] != post(client).json()["id"]  # without a key every request is new


def test_the_same_key_with_another_body_is_409_and_a_bad_key_is_422(client):
    post(client, key="k-1")
    resp = post(client, SPEC | {"name": "other"}, key="k-1")
    assert resp.status_code == 409 and "Idempotency-Key" in resp.json()["detail"]
    bad = client.post("/api/v1/experiments", json=SPEC, headers={"Idempotency-Key": "x" * 201})
    assert bad.status_code == 422 and "Idempotency-Key" in str(bad.json()["detail"])
    assert client.get("/api/v1/experiments").json()["total"] == 1


def test_concurrent_retries_with_one_key_make_one_experiment(client):
    client.get(
        "/api/v1/me"
    )  # the embedded mode's local user first (its creation races on its own; not what this tests)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: post(client, key="burst"), range(8)))
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["id"] for a in answers}) == 1
    assert client.get("/api/v1/experiments").json()["total"] == 1


def test_the_migration_sets_the_fence_above_every_attempt_a_retried_run_used(db_url):
    upgrade(db_url, "0006")
    with get_engine(db_url).begin() as conn:
        conn.execute(
            text("INSERT INTO experiments (id, name, spec, created_at) VALUES (1, 'old', '{}', CURRENT_TIMESTAMP)")
        )
        conn.execute(
            text(
                'INSERT INTO runs (id, experiment_id, "index", params, status, epochs_done, epochs, created_at, attempts) '
                "VALUES (1, 1, 0, '{}', 'queued', 0, 5, CURRENT_TIMESTAMP, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO run_events (run_id, at, event, status, attempt, worker) VALUES "
                "(1, CURRENT_TIMESTAMP, 'claimed', 'running', 2, 'w1')"
            )
        )
    upgrade(db_url)
    with get_engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT attempt FROM runs")).scalar_one() == 2

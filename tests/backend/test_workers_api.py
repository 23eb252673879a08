"""The worker registry through the API, on SQLite and on Postgres: what `GET /workers` reports from
the heartbeats workers write, who may drain one, and where runs are routed."""

from datetime import timedelta

from sqlalchemy import update

from backend import auth, workers
from backend.db import session_scope
from backend.models import Run, Worker, utcnow
from backend.outbox import dispatch_pending

CIFAR = {"name": "images", "base": {"dataset": "cifar10", "model": "convnet", "epochs": 1}, "sweep": {}}
BLOBS = {"name": "blobs", "base": {"epochs": 1}, "sweep": {}}


def register(settings, name: str, queues=("cpu",), gpu=None, age_seconds: float = 0.0) -> None:
    with session_scope(settings.db_url) as s:
        workers.beat(s, name, "box", 4242, list(queues), gpu)
        s.execute(
            update(Worker).where(Worker.name == name).values(heartbeat_at=utcnow() - timedelta(seconds=age_seconds))
        )


def listed(client) -> dict[str, dict]:
    return {w["name"]: w for w in client.get("/api/v1/workers").json()["items"]}


def test_a_fresh_heartbeat_is_alive_a_stale_one_or_a_goodbye_is_not(client, settings):
    register(settings, "fresh@box")
    register(settings, "silent@box", age_seconds=settings.dead_after_seconds + 1)
    register(settings, "gone@box")
    with session_scope(settings.db_url) as s:
        workers.goodbye(s, "gone@box")
    seen = listed(client)
    assert seen["fresh@box"]["alive"] and not seen["silent@box"]["alive"] and not seen["gone@box"]["alive"]
    assert seen["gone@box"]["stopped_at"] is not None and seen["fresh@box"]["stopped_at"] is None


def test_a_worker_is_busy_with_the_runs_that_name_it(client, settings):
    register(settings, "a@box")
    register(settings, "b@box")
    exp = client.post("/api/v1/experiments", json={**BLOBS, "sweep": {"seed": [0, 1]}}).json()
    first, second = (r["id"] for r in client.get(f"/api/v1/experiments/{exp['id']}/runs").json())
    with session_scope(settings.db_url) as s:
        s.execute(update(Run).where(Run.id == first).values(status="running", worker="a@box"))
        s.execute(update(Run).where(Run.id == second).values(status="succeeded", worker="b@box"))
    seen = listed(client)
    assert seen["a@box"]["busy"] and seen["a@box"]["current_runs"] == [first]
    assert not seen["b@box"]["busy"] and seen["b@box"]["current_runs"] == []  # finished runs do not count


def test_workers_are_paginated_newest_heartbeat_first(client, settings):
    for i in range(5):
        register(settings, f"w{i}@box", age_seconds=i)
    page = client.get("/api/v1/workers", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 5 and [w["name"] for w in page["items"]] == ["w1@box", "w2@box"]
    assert client.get("/api/v1/workers", params={"limit": 501}).status_code == 422


def test_only_an_admin_may_drain_and_the_worker_sees_the_flag(settings):
    from fastapi.testclient import TestClient

    from backend.app import create_app

    settings = settings.model_copy(update={"auth": "required"})
    with TestClient(create_app(settings)) as client:
        with session_scope(settings.db_url) as s:
            auth.create_user(s, "ada", "admin")
            auth.create_user(s, "mia", "member")
            headers = {n: {"Authorization": f"Bearer {auth.create_token(s, n)[1]}"} for n in ("ada", "mia")}
        register(settings, "w@box")
        assert client.post("/api/v1/workers/w@box/drain").status_code == 401
        assert client.post("/api/v1/workers/w@box/drain", headers=headers["mia"]).status_code == 403
        assert client.post("/api/v1/workers/nobody@box/drain", headers=headers["ada"]).status_code == 404
        assert not listed_with(client, headers["ada"])["w@box"]["draining"]
        resp = client.post("/api/v1/workers/w@box/drain", headers=headers["ada"])
        assert resp.status_code == 202 and resp.json()["draining"]
        with session_scope(settings.db_url) as s:
            assert workers.beat(s, "w@box", "box", 4242, ["cpu"], None) is True  # what the worker's heartbeat reads


def listed_with(client, headers) -> dict[str, dict]:
    return {w["name"]: w for w in client.get("/api/v1/workers", headers=headers).json()["items"]}


def queued_on(settings) -> list[str]:
    """The queue of every message in the filesystem broker (its file name ends in .<queue>.msg)."""
    return sorted(p.name.split(".")[-2] for p in (settings.broker_folder / "messages").iterdir())


def test_image_runs_go_to_gpu_only_while_a_live_gpu_worker_takes_them(client, settings):
    client.post("/api/v1/experiments", json=CIFAR)
    client.post("/api/v1/experiments", json=BLOBS)
    assert queued_on(settings) == ["cpu", "cpu"]  # no GPU worker: everything on cpu

    register(settings, "gpu0@box", queues=("gpu",), gpu="0")
    client.post("/api/v1/experiments", json=CIFAR)
    client.post("/api/v1/experiments", json=BLOBS)
    assert queued_on(settings) == ["cpu", "cpu", "cpu", "gpu"]  # the image run goes to the GPU

    with session_scope(settings.db_url) as s:
        workers.request_drain(s, "gpu0@box")  # a draining GPU worker takes no more
    client.post("/api/v1/experiments", json=CIFAR)
    assert queued_on(settings).count("gpu") == 1


def test_a_dead_gpu_worker_does_not_attract_runs(client, settings):
    register(settings, "gpu0@box", queues=("gpu",), gpu="0", age_seconds=settings.dead_after_seconds + 1)
    client.post("/api/v1/experiments", json=CIFAR)
    assert queued_on(settings) == ["cpu"]
    assert dispatch_pending(settings) == 0


def test_a_worker_silent_for_a_day_is_forgotten(client, settings):
    from backend.maintenance import tick

    register(settings, "yesterday@box", age_seconds=25 * 3600)
    register(settings, "an-hour-ago@box", age_seconds=3600)
    tick(settings)
    assert set(listed(client)) == {"an-hour-ago@box"}

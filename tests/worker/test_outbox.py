"""The outbox over a real Redis that goes away: submissions still answer 202, nothing is lost when
it comes back, and nothing runs twice."""

import shutil

from sqlalchemy import select

from backend.db import session_scope
from backend.models import Run
from tests.services import APT_HINT, free_port, missing, redis_ping, spawn, stop, wait_for

N = 20


def start_redis(port: int, workdir):
    binary = shutil.which("redis-server")
    if not binary:
        missing("redis-server", APT_HINT["redis"])  # under CI=true: a failure, not a skip
    proc = spawn(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        log=workdir / "redis.log",
    )
    wait_for(lambda: redis_ping("127.0.0.1", port), timeout=20, what=f"redis on {port}")
    return proc


def test_submissions_while_the_broker_is_down_all_run_once_it_is_back(make_lab, tmp_path):
    port = free_port()
    redis = start_redis(port, tmp_path)
    lab = make_lab(f"redis://127.0.0.1:{port}/0")
    lab.start_worker("worker")
    stop(redis)  # an empty Redis comes back later: whatever it held is gone

    ids = []
    for i in range(N):
        resp = lab.client.post(
            "/api/v1/experiments", json={"name": f"e{i}", "base": {"epochs": 3, "frames": 2, "seed": i}, "sweep": {}}
        )
        assert resp.status_code == 202
        ids.append(resp.json()["id"])
    with session_scope(lab.settings.db_url) as s:
        runs = s.scalars(select(Run)).all()
        assert len(runs) == N and all(r.dispatched_at is None for r in runs), "nothing reached the broker"

    redis = start_redis(port, tmp_path)
    try:

        def all_done():
            states = [lab.client.get(f"/api/v1/experiments/{i}").json()["status"] for i in ids]
            return all(st not in ("queued", "running") for st in states) and states

        assert set(wait_for(all_done, timeout=180, what="all experiments to finish", interval=0.5)) == {"succeeded"}
        with session_scope(lab.settings.db_url) as s:
            runs = s.scalars(select(Run)).all()
        assert len(runs) == N and all(r.attempts == 1 and r.dispatched_at is not None for r in runs), (
            "each ran exactly once"
        )
        for exp_id in ids:
            rows = lab.client.get(
                f"/api/v1/experiments/{exp_id}/metrics", params={"split": "test", "metric": "acc"}
            ).json()
            assert [r["epoch"] for r in rows] == [0, 1, 2, 3]
    finally:
        stop(redis)

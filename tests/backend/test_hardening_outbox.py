"""A run whose message the broker lost is sent again (issue 14, item 4): Redis without persistence
restarted, so the queue it held is gone; the run is still queued and nothing would ever train it."""

import json
import random
import time

import pytest
import redis
from fastapi.testclient import TestClient

from backend import lifecycle
from backend.app import create_app
from backend.settings import Settings
from tests.services import wait_for


@pytest.fixture
def lab(redis_url, postgres_url, tmp_path):
    broker = redis_url.rsplit("/", 1)[0] + f"/{random.randint(1, 15)}"
    settings = Settings(
        home=tmp_path, database_url=postgres_url, broker_url=broker, maintenance_seconds=0.2, resend_after_seconds=1.0
    )
    r = redis.Redis.from_url(broker)
    r.flushdb()
    with TestClient(create_app(settings)) as client:
        yield client, r


def test_a_run_lost_by_the_broker_is_sent_again_and_a_claimed_one_is_not(lab):
    client, r = lab
    exp = client.post(
        "/api/v1/experiments", json={"name": "lost", "base": {"epochs": 2}, "sweep": {"seed": [0, 1]}}
    ).json()
    wait_for(lambda: r.llen("cpu") == 2, timeout=10, what="both runs sent", interval=0.1)
    r.flushdb()  # the broker restarts without persistence: both messages are gone
    runs = client.get(f"/api/v1/experiments/{exp['id']}/runs").json()
    settings = client.app.state.settings
    assert lifecycle.claim(settings, runs[1]["id"], "w1")[0] is not None  # one was taken before the loss
    wait_for(lambda: r.llen("cpu") >= 1, timeout=10, what="the lost run sent again", interval=0.1)
    time.sleep(1.5)  # another re-send interval: the running run is never sent again
    sent = [json.loads(m)["headers"]["argsrepr"] for m in r.lrange("cpu", 0, -1)]
    assert sent and set(sent) == {f"[{runs[0]['id']}]"}, sent

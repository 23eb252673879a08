"""Rate limits on a lab server (issue 14, item 5): one budget per member across every API process
(counters in Redis), whatever the headers that carry the token look like."""

import random

import pytest
import redis
from fastapi.testclient import TestClient

from backend import auth
from backend.app import create_app
from backend.db import session_scope
from backend.settings import Settings

SPEC = {"name": "flood", "base": {"epochs": 1}, "sweep": {}}
BURST = 4


@pytest.fixture
def two_apis(redis_url, postgres_url, tmp_path):
    broker = redis_url.rsplit("/", 1)[0] + f"/{random.randint(1, 15)}"
    redis.Redis.from_url(broker).flushdb()
    settings = Settings(
        home=tmp_path,
        database_url=postgres_url,
        broker_url=broker,
        auth="required",
        rate_limit_per_minute=1,
        rate_limit_burst=BURST,
    )
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        with session_scope(settings.db_url) as s:
            auth.create_user(s, "owen")
            token = auth.create_token(s, "owen")[1]
        yield a, b, token


def test_two_api_processes_share_one_budget_per_member(two_apis):
    a, b, token = two_apis
    headers = {"Authorization": f"Bearer {token}"}
    statuses = [
        (a if i % 2 else b).post("/api/v1/experiments", json=SPEC, headers=headers).status_code
        for i in range(2 * BURST)
    ]
    assert statuses.count(202) == BURST and statuses[BURST:] == [429] * BURST


@pytest.mark.parametrize("variant", ["lower-case scheme", "second header", "extra spaces"])
def test_the_spelling_of_the_header_does_not_reset_the_budget(two_apis, variant):
    a, _, token = two_apis
    for _ in range(BURST):
        assert a.post("/api/v1/experiments", json=SPEC, headers={"Authorization": f"Bearer {token}"}).status_code == 202
    headers = {
        "lower-case scheme": [("authorization", f"bearer {token}")],
        "second header": [("authorization", f"Bearer {token}"), ("authorization", "Bearer x")],
        "extra spaces": [("authorization", f"Bearer  {token}")],
    }[variant]
    resp = a.post("/api/v1/experiments", json=SPEC, headers=headers)
    assert resp.status_code in (401, 429) and resp.status_code != 202, resp.text

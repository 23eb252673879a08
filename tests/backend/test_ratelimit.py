"""Per-token rate limit on mutating requests: a burst, then 429 with Retry-After; other tokens,
other addresses and reads are not affected."""

import pytest
from fastapi.testclient import TestClient

from backend import auth
from backend.app import create_app
from backend.db import session_scope

SPEC = {"name": "flood", "base": {"epochs": 1}, "sweep": {}}
BURST = 3


@pytest.fixture
def lab(settings):
    # one request a minute after the burst: the refill cannot hide a missed 429 in a slow test
    settings = settings.model_copy(update={"auth": "required", "rate_limit_per_minute": 1, "rate_limit_burst": BURST})
    with TestClient(create_app(settings)) as client:
        with session_scope(settings.db_url) as s:
            for name in ("owen", "mia"):
                auth.create_user(s, name)
            headers = {n: {"Authorization": f"Bearer {auth.create_token(s, n)[1]}"} for n in ("owen", "mia")}
        yield client, headers


def test_a_token_gets_its_burst_then_429_with_retry_after(lab):
    client, headers = lab
    statuses = [
        client.post("/api/v1/experiments", json=SPEC, headers=headers["owen"]).status_code for _ in range(BURST + 1)
    ]
    assert statuses == [202] * BURST + [429]
    refused = client.post("/api/v1/experiments", json=SPEC, headers=headers["owen"])
    window = BURST * 60  # BURST changes in any BURST / per_minute minutes
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= window
    assert "rate limit" in refused.json()["detail"]
    total = client.get("/api/v1/experiments", headers=headers["owen"]).json()["total"]
    assert total == BURST  # refused submissions stored nothing


def test_other_tokens_and_reads_are_not_limited(lab):
    client, headers = lab
    for _ in range(BURST + 1):
        client.post("/api/v1/experiments", json=SPEC, headers=headers["owen"])
    assert client.post("/api/v1/experiments", json=SPEC, headers=headers["mia"]).status_code == 202
    assert all(client.get("/api/v1/experiments", headers=headers["owen"]).status_code == 200 for _ in range(2 * BURST))


def test_anonymous_requests_share_their_address_bucket(lab):
    client, _ = lab
    statuses = [client.post("/api/v1/experiments", json=SPEC).status_code for _ in range(BURST + 1)]
    assert statuses == [401] * BURST + [429]  # limited before authentication: a token guesser is slowed too

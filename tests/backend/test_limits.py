"""Limits: oversized bodies, strings a database column cannot hold, query filters; all 4xx naming the field."""

from sqlalchemy import func, select

from backend.db import session_scope
from backend.models import Experiment


def experiments(settings) -> int:
    with session_scope(settings.db_url) as s:
        return s.scalars(select(func.count()).select_from(Experiment)).one()


def test_a_body_over_the_limit_is_413_and_writes_nothing(client, settings):
    big = {"name": "x" * (settings.max_body_bytes + 1)}
    resp = client.post("/api/v1/experiments", json=big)
    assert resp.status_code == 413 and resp.json()["detail"][0]["loc"] == ["body"]
    assert experiments(settings) == 0


def test_a_chunked_body_is_cut_off_at_the_limit(client, settings):
    def chunks():
        yield b'{"name": "'
        for _ in range(settings.max_body_bytes // 1000 + 1):
            yield b"x" * 1000
        yield b'"}'

    resp = client.post("/api/v1/experiments", content=chunks(), headers={"content-type": "application/json"})
    assert resp.status_code == 413
    assert experiments(settings) == 0


def test_a_nul_in_the_name_is_422_on_every_database(client, settings):
    resp = client.post("/api/v1/experiments", json={"name": "a\x00b"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "name"]
    assert experiments(settings) == 0


def test_metric_filters_must_be_identifiers(client):
    exp = client.post("/api/v1/experiments", json={"base": {"epochs": 2}}).json()
    assert (
        client.get(f"/api/v1/experiments/{exp['id']}/metrics", params={"split": "test", "metric": ""}).status_code
        == 200
    )
    resp = client.get(f"/api/v1/experiments/{exp['id']}/metrics", params={"split": "te\x00st"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["query", "split"]

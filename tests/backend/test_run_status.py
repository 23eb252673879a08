"""Run statuses are defined once (backend/status.py) and served by /catalog: the list there is
exactly what the lifecycle makes runs go through, and `terminal` marks the ones it calls finished."""

from backend import lifecycle

SPEC = {"name": "statuses", "base": {"epochs": 5}, "sweep": {"pos_weight": [0.1, 1.0, 10.0]}}


def status(client, run_id: int) -> str:
    return client.get(f"/api/v1/runs/{run_id}").json()["status"]


def test_the_catalog_lists_every_status_a_run_goes_through(client, settings):
    exp = client.post("/api/v1/experiments", json=SPEC).json()
    a, b, c = (r["id"] for r in client.get(f"/api/v1/experiments/{exp['id']}/runs").json())
    seen = {status(client, a)}
    claims = {rid: lifecycle.claim(settings, rid, "w1")[0] for rid in (a, b)}
    seen.add(status(client, a))
    lifecycle.finish(settings, a, claims[a].attempt, "succeeded")
    lifecycle.finish(settings, b, claims[b].attempt, "failed", "boom")
    client.post(f"/api/v1/runs/{c}/cancel")
    seen |= {status(client, rid) for rid in (a, b, c)}

    listed = client.get("/api/v1/catalog").json()["statuses"]
    assert [s["name"] for s in listed] == ["queued", "running", "succeeded", "failed", "cancelled"]
    assert {s["name"] for s in listed} == seen
    assert {s["name"] for s in listed if s["terminal"]} == set(lifecycle.TERMINAL)

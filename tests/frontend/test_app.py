"""The client against a fake API (httpx.MockTransport), the page helpers, and import isolation."""

import json
import subprocess
import sys

import httpx
import pytest

from frontend.app import create_app, query
from frontend.client import ApiClient, ApiError
from frontend.pages import experiment, new


def fake_api(runs, calls):
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        calls.append(path)
        if path.startswith("/runs/") and path.endswith("/boundary"):
            run_id = int(path.split("/")[2])
            if run_id == 6:
                return httpx.Response(404, json={"detail": "no frames yet"})
            return httpx.Response(
                200,
                json={
                    "run_id": run_id,
                    "xs": [0, 1],
                    "ys": [0, 1],
                    "points": [[0, 0, 0], [1, 1, 1]],
                    "epochs": [0, 1, 2],
                },
            )
        if "/boundary/" in path:
            run_id, epoch = int(path.split("/")[2]), int(path.split("/")[4])
            return httpx.Response(200, json={"run_id": run_id, "epoch": min(epoch, 2), "z": [[0.4, 0.6], [0.3, 0.7]]})
        if path == "/experiments" and request.method == "POST":
            body = json.loads(request.content)
            if body["base"]["epochs"] < 1:
                return httpx.Response(422, json={"detail": [{"loc": ["body", "base", "epochs"], "msg": "too small"}]})
            return httpx.Response(202, json={"id": 7})
        if path == "/experiments/1/runs":
            return httpx.Response(200, json=runs)
        return httpx.Response(404, json={"detail": "Not Found"})

    return handler


@pytest.fixture
def client(runs):
    runs[-1]["status"] = "running"  # run 6 (w=1, seed 1) has not recorded a frame yet (404)
    calls: list[str] = []
    c = ApiClient("http://api.test", transport=httpx.MockTransport(fake_api(runs, calls)))
    c.calls = calls
    return c


def test_client_errors_carry_status_and_detail(client):
    with pytest.raises(ApiError) as err:
        client.create_experiment({"name": "x", "base": {"epochs": 0}, "sweep": {}})
    assert err.value.status == 422 and err.value.detail[0]["loc"][-1] == "epochs"
    assert client.create_experiment({"name": "x", "base": {"epochs": 3}, "sweep": {}}) == {"id": 7}
    with pytest.raises(ApiError, match="cannot reach"):
        ApiClient("http://127.0.0.1:9").health()


def test_frames_are_cached_only_when_exact(client):
    client.boundary_frame(1, 2)
    client.boundary_frame(1, 2)
    client.boundary_frame(1, 5)  # answered with epoch 2: a later frame may still come, so not cached
    client.boundary_frame(1, 5)
    assert client.calls.count("/runs/1/boundary/2") == 1 and client.calls.count("/runs/1/boundary/5") == 2


def test_panels_pick_the_selected_seed_per_weight(client, runs):
    meta = experiment.panels_for(client, runs, seed=1)
    # run 6 (w = 1, seed 1) has no frame yet: seed 0 of that weight stands in, and says so
    assert [(p["label"], p["run_id"]) for p in meta["panels"]] == [("w = 0.1", 4), ("w = 1 (seed 0)", 5), ("w = 10", 2)]
    assert meta["epochs"] == [0, 1, 2]
    meta = experiment.panels_for(client, runs, seed=0)
    assert [p["run_id"] for p in meta["panels"]] == [3, 5, 1]


def test_panels_skip_groups_where_nothing_started(client, runs):
    for r in runs:
        r["status"] = "queued"
    meta = experiment.panels_for(client, runs, seed=0)
    assert meta["panels"] == [] and meta["epochs"] == []
    assert "queued" in meta["empty"] and "not started" in meta["empty"]


def test_curves_average_seeds_per_weight(runs):
    rows = [
        {"run_id": r["id"], "epoch": 1, "split": "test", "metric": "frac_pred_pos", "value": r["params"]["seed"] * 0.5}
        for r in runs
    ]
    curves = experiment.curves_for(rows, runs)
    assert [c["label"] for c in curves] == ["w = 0.1", "w = 1", "w = 10"]
    assert all(c["mean"] == [0.25] and c["n"] == [2] for c in curves)


def test_new_page_falls_back_when_the_catalog_is_unreachable():
    page = new.layout(ApiClient("http://127.0.0.1:9"))
    assert "Cannot load the catalog" in str(page)


def test_create_app_and_query():
    app = create_app("http://127.0.0.1:9", poll_seconds=0.5)
    assert app.title == "iwlab"
    ids = {k.split(".")[0].lstrip(".") for k in app.callback_map}
    assert any("boundary-graph" in k for k in app.callback_map) and ids
    assert query("?seed=1&epoch=12&logx=1") == {"seed": "1", "epoch": "12", "logx": "1"}


def test_frontend_imports_neither_torch_nor_the_backend():
    code = "import sys, frontend.app; bad = [m for m in ('torch', 'backend', 'worker', 'sqlalchemy', 'celery') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_client_sends_the_lab_token():
    import httpx

    from frontend.client import ApiClient

    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json={"status": "ok"})

    ApiClient("http://lab", transport=httpx.MockTransport(handler), token="t0k").health()
    assert seen == ["Bearer t0k"]

"""GET /api/v1/presets: the gallery's data, and each spec is one POST /experiments accepts."""

import subprocess
import sys

from worker.engine.presets import PRESETS


def test_presets_list_every_preset_with_both_variants(client):
    resp = client.get("/api/v1/presets")
    assert resp.status_code == 200
    items = resp.json()
    assert [p["name"] for p in items] == list(PRESETS)
    digits = next(p for p in items if p["name"] == "digits-pair")
    assert set(digits) == {
        "name",
        "title",
        "claim",
        "source",
        "needs",
        "needs_met",
        "tags",
        "expected",
        "quick",
        "full",
    }
    assert digits["needs"] is None and digits["tags"] == ["real data"]
    assert digits["expected"] == [c.claim for c in PRESETS["digits-pair"].expected] and all(
        isinstance(c, str) for c in digits["expected"]
    )
    assert (digits["quick"]["runs"], digits["quick"]["epochs"]) == (6, 300)  # 3 weights x 2 seeds
    assert (digits["full"]["runs"], digits["full"]["epochs"]) == (27, 1000)  # 9 weights x 3 seeds
    assert digits["quick"]["spec"]["base"]["dataset"] == "digits"
    cifar = next(p for p in items if p["name"] == "bl-cifar-cnn")
    assert cifar["needs"] == "cifar10"


def test_a_quick_spec_posts_as_is(client):
    digits = next(p for p in client.get("/api/v1/presets").json() if p["name"] == "digits-pair")
    resp = client.post("/api/v1/experiments", json=digits["quick"]["spec"])
    assert resp.status_code == 202, resp.text
    assert resp.json()["runs_total"] == digits["quick"]["runs"]


def test_the_presets_router_does_not_import_torch():
    code = "import sys, backend.api.presets; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_lab_mode_needs_a_token_like_the_catalog(settings):
    from fastapi.testclient import TestClient

    from backend.app import create_app

    with TestClient(create_app(settings.model_copy(update={"auth": "required"}))) as lab:
        resp = lab.get("/api/v1/presets")
        assert resp.status_code == 401 and resp.headers["www-authenticate"] == "Bearer"

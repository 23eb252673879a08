"""Accounts in lab mode (IWLAB_AUTH=required), on SQLite and on Postgres: who may do what."""

import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from backend import auth
from backend.app import create_app
from backend.db import session_scope
from backend.settings import Settings

SPEC = {"name": "mine", "base": {"epochs": 2}, "sweep": {"pos_weight": [1, 10]}}


@pytest.fixture
def lab(settings):
    """A lab-mode API with three accounts: an admin, the owner of the experiments, another member."""
    settings = settings.model_copy(update={"auth": "required"})
    tokens = {}
    with TestClient(create_app(settings)) as client:  # migrates
        with session_scope(settings.db_url) as s:
            for name, role in (("ada", "admin"), ("owen", "member"), ("mia", "member")):
                auth.create_user(s, name, role)
                tokens[name] = auth.create_token(s, name)[1]
        yield client, {"anonymous": {}} | {n: {"Authorization": f"Bearer {t}"} for n, t in tokens.items()}


def owned_experiment(client, headers) -> tuple[int, int]:
    resp = client.post("/api/v1/experiments", json=SPEC, headers=headers["owen"])
    assert resp.status_code == 202
    exp_id = resp.json()["id"]
    return exp_id, client.get(f"/api/v1/experiments/{exp_id}/runs", headers=headers["owen"]).json()[0]["id"]


# who: anonymous / another member (mia) / owner (owen) / admin (ada)
EXPECTED = {"anonymous": 401, "mia": 403, "owen": 202, "ada": 202}


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("action", ["cancel experiment", "cancel run", "retry run"])
def test_authorization_matrix_for_changes(lab, action, who):
    client, headers = lab
    exp_id, run_id = owned_experiment(client, headers)
    if action == "retry run":
        assert client.post(f"/api/v1/runs/{run_id}/cancel", headers=headers["owen"]).status_code == 202
    path = {
        "cancel experiment": f"/experiments/{exp_id}/cancel",
        "cancel run": f"/runs/{run_id}/cancel",
        "retry run": f"/runs/{run_id}/retry",
    }[action]
    before = client.get(f"/api/v1/runs/{run_id}", headers=headers["owen"]).json()["status"]
    resp = client.post("/api/v1" + path, headers=headers[who])
    assert resp.status_code == EXPECTED[who], resp.text
    after = client.get(f"/api/v1/runs/{run_id}", headers=headers["owen"]).json()["status"]
    assert (after != before) == (EXPECTED[who] == 202), "a refused request changes nothing"


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("mia", 202), ("owen", 202), ("ada", 202)])
def test_any_member_may_submit_and_owns_what_they_submit(lab, who, status):
    client, headers = lab
    resp = client.post("/api/v1/experiments", json=SPEC, headers=headers[who])
    assert resp.status_code == status
    if status == 202:
        me = client.get("/api/v1/me", headers=headers[who]).json()
        assert me["name"] == who and resp.json()["owner_id"] == me["id"]


def test_every_route_but_health_needs_a_token_and_every_member_reads_everything(lab):
    client, headers = lab
    exp_id, run_id = owned_experiment(client, headers)
    assert client.get("/api/v1/health").status_code == 200
    for path in (
        "/catalog",
        "/experiments",
        f"/experiments/{exp_id}",
        f"/runs/{run_id}",
        f"/runs/{run_id}/metrics",
        "/me",
    ):
        resp = client.get("/api/v1" + path)
        assert resp.status_code == 401 and resp.headers["www-authenticate"] == "Bearer", path
        assert client.get("/api/v1" + path, headers=headers["mia"]).status_code == 200, path
    bad = client.get("/api/v1/experiments", headers={"Authorization": "Bearer iwl_not-a-token"})
    assert bad.status_code == 401 and "invalid" in bad.json()["detail"]


def test_a_revoked_token_is_refused(lab, settings):
    client, headers = lab
    with session_scope(settings.db_url) as s:
        row, token = auth.create_token(s, "mia", "laptop")
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=h).status_code == 200
    with session_scope(settings.db_url) as s:
        auth.revoke_token(s, row.id)
    assert client.get("/api/v1/me", headers=h).status_code == 401


def test_tokens_are_stored_hashed(lab, settings):
    with session_scope(settings.db_url) as s:
        row, token = auth.create_token(s, "mia")
        assert row.token_hash == auth.hash_token(token) and token not in row.token_hash


def test_embedded_mode_is_one_local_admin_without_tokens(client):
    assert client.get("/api/v1/me").json() == {"id": 1, "name": auth.LOCAL_USER, "role": "admin"}


def test_auth_auto_follows_the_bound_address(settings):
    assert not settings.model_copy(update={"auth": "auto", "host": "127.0.0.1"}).auth_required
    assert settings.model_copy(update={"auth": "auto", "host": "0.0.0.0"}).auth_required
    assert not settings.model_copy(update={"auth": "off", "host": "0.0.0.0"}).auth_required


def test_cli_creates_users_and_tokens_and_revokes_them(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IWLAB_")} | {"IWLAB_HOME": str(tmp_path)}

    def iwlab(*args):
        return subprocess.run(
            [sys.executable, "-m", "backend.cli", *args], capture_output=True, text=True, env=env, timeout=120
        )

    assert "owen (member)" in iwlab("user", "create", "owen").stdout
    dup = iwlab("user", "create", "owen")
    assert dup.returncode == 2 and "already exists" in dup.stderr
    assert iwlab("user", "create", "x", "--role", "boss").returncode == 2
    made = iwlab("token", "create", "owen", "--name", "laptop")
    token = made.stdout.strip()
    assert made.returncode == 0 and token.startswith(auth.PREFIX) and "shown only now" in made.stderr
    url = Settings(home=tmp_path).db_url
    with session_scope(url) as s:
        assert auth.user_for_token(s, token).name == "owen"
    assert iwlab("token", "revoke", "1").returncode == 0
    with session_scope(url) as s:
        assert auth.user_for_token(s, token) is None
    assert iwlab("token", "revoke", "99").returncode == 2

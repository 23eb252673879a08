"""Lab-mode downloads through the dashboard carry the signed-in member's token (issue 14, item 10):
they were 401 for everyone. Real processes: `iwlab api` and `iwlab dashboard` with IWLAB_AUTH=required."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import httpx
import pytest

from tests.services import free_port, tail, wait_for_http

IWLAB = [sys.executable, "-m", "backend.cli"]


@pytest.fixture
def lab_stack(tmp_path, spawn):
    home = tmp_path / "iwlab-home"
    home.mkdir()
    api_port, dash_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    env = {k: v for k, v in os.environ.items() if k not in ("IWLAB_DATABASE_URL", "IWLAB_BROKER_URL", "IWLAB_TOKEN")}
    env |= {"IWLAB_HOME": str(home), "IWLAB_API_URL": api_url, "IWLAB_AUTH": "required"}
    run = lambda *args: subprocess.run([*IWLAB, *args], env=env, cwd=tmp_path, capture_output=True, text=True, check=True)  # noqa: E731
    run("user", "create", "ada")
    token = run("token", "create", "ada").stdout.strip().splitlines()[-1]
    logs = {name: tmp_path / f"{name}.log" for name in ("api", "dashboard")}
    spawn([*IWLAB, "api", "--port", str(api_port)], log=logs["api"], env=env, cwd=tmp_path)
    spawn([*IWLAB, "dashboard", "--port", str(dash_port)], log=logs["dashboard"], env=env, cwd=tmp_path)
    try:
        wait_for_http(f"{api_url}/api/v1/health", timeout=90)
        wait_for_http(f"http://127.0.0.1:{dash_port}/login", timeout=90)
    except TimeoutError:
        raise RuntimeError("\n".join(f"--- {n}\n{tail(p)}" for n, p in logs.items())) from None
    resp = httpx.post(f"{api_url}/api/v1/experiments", json={"name": "ada's sweep", "base": {"epochs": 2}, "sweep": {}},
                      headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 202
    yield f"http://127.0.0.1:{dash_port}", token, resp.json()["id"]


def test_a_signed_in_member_downloads_the_exports_through_the_dashboard(lab_stack):
    base, token, exp_id = lab_stack
    with httpx.Client(base_url=base) as browser:
        assert browser.get(f"/download/experiments/{exp_id}.csv").status_code in (302, 401)  # no session: no download
        login = browser.post("/login", data={"username": "ada", "token": token}, headers={"Origin": base})
        assert login.status_code == 302
        resp = browser.get(f"/download/experiments/{exp_id}.csv")
        assert resp.status_code == 200, resp.text
        assert next(csv.reader(io.StringIO(resp.text)))[-5:] == ["run_id", "epoch", "split", "metric", "value"]
        assert browser.get(f"/download/experiments/{exp_id}.json").json()["experiment"]["name"] == "ada's sweep"

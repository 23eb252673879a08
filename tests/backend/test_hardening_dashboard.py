"""The dashboard on a lab server (issue 14, item 10): downloads carry the signed-in member's token
(they were 401 for everyone); sessions live in Redis, so they outlive a dashboard restart; it is
served by gunicorn as docker-compose serves it. Real processes: `iwlab api` and gunicorn's
`backend.cli:dashboard_wsgi()` with IWLAB_AUTH=required."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import httpx
import pytest

from tests.services import free_port, stop, tail, wait_for_http

IWLAB = [sys.executable, "-m", "backend.cli"]


@pytest.fixture
def lab_stack(tmp_path, spawn, redis_url):
    home = tmp_path / "iwlab-home"
    home.mkdir()
    api_port, dash_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    env = {k: v for k, v in os.environ.items() if k not in ("IWLAB_DATABASE_URL", "IWLAB_BROKER_URL", "IWLAB_TOKEN")}
    env |= {
        "IWLAB_HOME": str(home),
        "IWLAB_API_URL": api_url,
        "IWLAB_AUTH": "required",
        "IWLAB_BROKER_URL": redis_url,
        "IWLAB_DASHBOARD_SECRET": "a fixed secret, so cookies outlive a restart",
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*IWLAB, *args], env=env, cwd=tmp_path, capture_output=True, text=True, check=True)

    run("user", "create", "ada")
    token = run("token", "create", "ada").stdout.strip().splitlines()[-1]
    logs = {name: tmp_path / f"{name}.log" for name in ("api", "dashboard")}
    spawn([*IWLAB, "api", "--port", str(api_port)], log=logs["api"], env=env, cwd=tmp_path)

    def dashboard():
        gunicorn = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{dash_port}",
            "--workers",
            "1",
            "--threads",
            "4",
        ]
        proc = spawn([*gunicorn, "backend.cli:dashboard_wsgi()"], log=logs["dashboard"], env=env, cwd=tmp_path)
        try:
            wait_for_http(f"http://127.0.0.1:{dash_port}/login", timeout=90)
        except TimeoutError:
            raise RuntimeError("\n".join(f"--- {n}\n{tail(p)}" for n, p in logs.items())) from None
        return proc

    wait_for_http(f"{api_url}/api/v1/health", timeout=90)
    resp = httpx.post(
        f"{api_url}/api/v1/experiments",
        json={"name": "ada's sweep", "base": {"epochs": 2}, "sweep": {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 202
    yield f"http://127.0.0.1:{dash_port}", token, resp.json()["id"], dashboard


def test_a_member_downloads_through_the_dashboard_and_stays_signed_in_across_a_restart(lab_stack):
    base, token, exp_id, dashboard = lab_stack
    served = dashboard()
    with httpx.Client(base_url=base) as browser:
        assert browser.get(f"/download/experiments/{exp_id}.csv").status_code in (302, 401)  # no session: no download
        login = browser.post("/login", data={"username": "ada", "token": token}, headers={"Origin": base})
        assert login.status_code == 302
        resp = browser.get(f"/download/experiments/{exp_id}.csv")
        assert resp.status_code == 200, resp.text
        assert next(csv.reader(io.StringIO(resp.text)))[-5:] == ["run_id", "epoch", "split", "metric", "value"]

        stop(served)
        dashboard()  # a new process: the session is in Redis, not in the old one's memory
        again = browser.get(f"/download/experiments/{exp_id}.json")
        assert again.status_code == 200, again.text
        assert again.json()["experiment"]["name"] == "ada's sweep"

"""Dashboard login in a real headless Chromium against a lab-mode stack (IWLAB_AUTH=required):
every page asks for a login; a wrong token is refused; the right one shows the experiments as that
member sees them; the session cookie is HttpOnly and SameSite=Lax; logout ends the session."""

from __future__ import annotations

import os
import subprocess

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DOCS, IWLAB
from tests.services import free_port, tail, wait_for_http


@pytest.fixture
def lab_stack(tmp_path, spawn):
    """API and dashboard in lab mode, a member `ada` with a token and one experiment of hers."""
    home = tmp_path / "iwlab-home"
    home.mkdir()
    api_port, dash_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    env = {k: v for k, v in os.environ.items() if k not in ("IWLAB_DATABASE_URL", "IWLAB_BROKER_URL", "IWLAB_TOKEN")}
    env |= {"IWLAB_HOME": str(home), "IWLAB_API_URL": api_url, "IWLAB_AUTH": "required"}
    run = lambda *args: subprocess.run(
        [IWLAB, *args], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )  # noqa: E731
    run("user", "create", "ada")
    token = run("token", "create", "ada").stdout.strip().splitlines()[-1]
    logs = {name: tmp_path / f"{name}.log" for name in ("api", "dashboard")}
    spawn([IWLAB, "api", "--port", str(api_port)], log=logs["api"], env=env, cwd=tmp_path)
    spawn([IWLAB, "dashboard", "--port", str(dash_port)], log=logs["dashboard"], env=env, cwd=tmp_path)
    try:
        wait_for_http(f"{api_url}/api/v1/health", timeout=60)
        wait_for_http(f"http://127.0.0.1:{dash_port}/login", timeout=60)
    except TimeoutError:
        raise RuntimeError("\n".join(f"--- {n}\n{tail(p)}" for n, p in logs.items())) from None
    resp = httpx.post(
        f"{api_url}/api/v1/experiments",
        json={"name": "ada's sweep", "base": {"epochs": 2}, "sweep": {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 202
    yield f"http://127.0.0.1:{dash_port}", token


def test_login_see_experiments_logout(lab_stack, page):
    base, token = lab_stack
    page.goto(base + "/experiments?limit=5&x=1")
    page.wait_for_url(
        base + "/login?next=%2Fexperiments%3Flimit%3D5%26x%3D1"
    )  # no session: every page asks for a login

    page.fill("#username", "ada")
    page.fill("#token", token[:-2] + "xx")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("Unknown user name or API token")
    page.screenshot(path=str(DOCS / "login-page.png"), full_page=True)

    page.fill("#token", token)
    page.click("#login-submit")
    page.wait_for_url(base + "/experiments?limit=5&x=1")  # back to the view that was asked for
    expect(page.locator("#experiments-table")).to_contain_text("ada's sweep")  # the API answered as ada
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "iwlab_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and token not in cookie["value"]

    # the experiment page asks the API several things side by side (a thread pool): each as ada
    page.goto(base + "/experiments/1")
    expect(page.locator("#run-table")).to_contain_text("queued")
    expect(page.locator("body")).not_to_contain_text("Cannot load")

    page.click("#logout")
    page.wait_for_url(base + "/login")
    page.goto(base + "/")
    page.wait_for_url(base + "/login?next=%2F")
    assert not page.errors


def test_a_cross_site_post_is_refused(lab_stack):
    base, token = lab_stack
    forged = httpx.post(
        f"{base}/login", data={"username": "ada", "token": token}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    same = httpx.post(f"{base}/login", data={"username": "ada", "token": token}, headers={"Origin": base})
    assert same.status_code == 302 and same.headers["location"] == "/"

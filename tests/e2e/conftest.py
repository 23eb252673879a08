"""The full stack and a headless Chromium page for the browser tests.

`stack` starts `iwlab api`, `iwlab worker` and `iwlab dashboard` as subprocesses in a throwaway
IWLAB_HOME (SQLite + Celery's filesystem broker); `page` is a fresh Chromium page that records
JavaScript errors in `page.errors`. With CI=true a missing Chromium fails instead of skipping.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright  # a test dependency: `make test` installs it

from tests.services import free_port, tail, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
# Where the browser tests save their screenshots: an ignored folder, so a test run leaves the
# tracked docs/*.png (the README's pictures) alone; `make screenshots` points it at docs/.
DOCS = Path(os.environ.get("IWLAB_SCREENSHOTS") or ROOT / "test-artifacts" / "screenshots")
IWLAB = str(Path(sys.executable).with_name("iwlab"))
WIDTH = 1400

# Playwright's 5 s default is short for a chain of Dash callbacks on 2 shared cores under load
# (measured: 5-15 s between a click and the figure it redraws at a load average of 10)
expect.set_options(timeout=30_000)


@pytest.fixture
def stack(tmp_path: Path, spawn):
    """API, one worker and the dashboard on free ports; yields the dashboard's URL."""
    home = tmp_path / "iwlab-home"
    home.mkdir()
    api_port, dash_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    env = {k: v for k, v in os.environ.items() if k not in ("IWLAB_DATABASE_URL", "IWLAB_BROKER_URL")}
    env |= {
        "IWLAB_HOME": str(home),
        "IWLAB_API_URL": api_url,
        "IWLAB_DEVICE": "cpu",
        "IWLAB_POLL_SECONDS": "0.5",
        "PYTHONUNBUFFERED": "1",
    }
    logs = {name: tmp_path / f"{name}.log" for name in ("api", "worker", "dashboard")}
    procs = {
        "api": spawn(
            [IWLAB, "api", "--host", "127.0.0.1", "--port", str(api_port)], log=logs["api"], env=env, cwd=tmp_path
        )
    }
    try:
        wait_for_http(f"{api_url}/api/v1/health", timeout=60)
        procs["worker"] = spawn([IWLAB, "worker"], log=logs["worker"], env=env, cwd=tmp_path)
        procs["dashboard"] = spawn(
            [IWLAB, "dashboard", "--host", "127.0.0.1", "--port", str(dash_port), "--api-url", api_url],
            log=logs["dashboard"],
            env=env,
            cwd=tmp_path,
        )
        wait_for_http(f"http://127.0.0.1:{dash_port}/", timeout=60)
    except Exception as err:
        raise RuntimeError(
            "the stack did not start:\n" + "\n".join(f"--- {n}\n{tail(p)}" for n, p in logs.items())
        ) from err
    yield f"http://127.0.0.1:{dash_port}", procs, logs


def run_field(page, name: str):
    """The /new form's control for run parameter `name`: its id is a Dash pattern-matching dict,
    which the page writes as sorted-key JSON."""
    return page.locator(f"""[id='{{"name":"{name}","type":"run-field"}}']""")


def logs_of(logs: dict) -> str:
    return "\n".join(f"--- {name}.log\n{tail(path, 30)}" for name, path in logs.items())


@pytest.fixture
def page(chromium_path, chromium_args):
    DOCS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=chromium_args)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.errors = []
            page.on("pageerror", lambda exc: page.errors.append(str(exc)))
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()

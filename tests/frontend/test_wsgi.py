"""The dashboard as docker-compose serves it: gunicorn loading `backend.cli:dashboard_wsgi()`,
configured from IWLAB_* alone. A lab-server address means a sign-in page."""

import os
import sys
from pathlib import Path

import httpx

from tests.services import free_port, tail, wait_for_http

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def test_gunicorn_serves_the_dashboard_from_the_factory(spawn, tmp_path):
    port = free_port()
    env = os.environ | {
        "IWLAB_HOME": str(tmp_path),
        "IWLAB_API_URL": f"http://127.0.0.1:{free_port()}",
        "IWLAB_HOST": "0.0.0.0",
    }
    log = tmp_path / "gunicorn.log"
    spawn(
        [GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2", "backend.cli:dashboard_wsgi()"],
        log=log,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/login", timeout=60)
    except TimeoutError:
        raise AssertionError(tail(log)) from None
    home = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=False, timeout=10)
    # IWLAB_HOST=0.0.0.0 with IWLAB_AUTH=auto: nobody gets in without signing in
    assert home.status_code in (302, 303) and "/login" in home.headers["location"]
    assert home.headers["server"] == "gunicorn"  # Flask's development server says Werkzeug/...

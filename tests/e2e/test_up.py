"""`iwlab up` as a process manager: Drain on its only worker (from the Workers page, in a real
Chromium) leaves the API and dashboard up; SIGTERM leaves no process behind, and the open page says
the server is gone; a port that is taken stops it before it starts anything. And a page notices a
lost API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import IWLAB
from tests.services import free_port, wait_for, wait_for_http


def processes_of(home: Path) -> list[int]:
    """Every process started with this IWLAB_HOME (the stack's children inherit it)."""
    mark = f"IWLAB_HOME={home}".encode()
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if mark in (d / "environ").read_bytes().split(b"\0"):
                    pids.append(int(d.name))
            except OSError:
                continue
    return pids


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("IWLAB_DATABASE_URL", "IWLAB_BROKER_URL", "IWLAB_API_URL")}
    return env | {"IWLAB_HOME": str(home), "IWLAB_DEVICE": "cpu", "PYTHONUNBUFFERED": "1"}


def test_draining_the_last_worker_keeps_the_stack_up_and_sigterm_leaves_no_process(tmp_path, page):
    home = (tmp_path / "home").resolve()
    api_port, dash_port = free_port(), free_port()
    up = subprocess.Popen(
        [IWLAB, "up", "--host", "127.0.0.1", "--api-port", str(api_port), "--dashboard-port", str(dash_port)],
        env=environment(home),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        api = f"http://127.0.0.1:{api_port}/api/v1"
        wait_for_http(f"http://127.0.0.1:{dash_port}/", timeout=90)
        wait_for(
            lambda: [w for w in httpx.get(f"{api}/workers").json()["items"] if w["alive"]],
            timeout=90,
            what="the worker's heartbeat",
        )
        worker = next(w for w in httpx.get(f"{api}/workers").json()["items"] if w["alive"])
        page.goto(f"http://127.0.0.1:{dash_port}/workers")
        page.locator(".worker-drain").click()
        expect(page.locator("#drain-last")).to_contain_text("The API and this dashboard stay up")
        page.click("#drain-yes")
        wait_for(lambda: worker["pid"] not in processes_of(home), timeout=60, what="the drained worker to exit")
        expect(page.locator("#workers-table")).to_contain_text(
            "stopped", timeout=30_000
        )  # the page still loads from the API
        time.sleep(1.5)  # `up` notices within a second
        assert up.poll() is None
        assert httpx.get(f"{api}/health").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{dash_port}/").status_code == 200
        assert len(processes_of(home)) >= 3  # up, the API and the dashboard

        assert page.locator("#alive-banner").is_hidden()
        up.send_signal(signal.SIGTERM)
        out, _ = up.communicate(timeout=30)
        expect(page.locator("#alive-banner")).to_contain_text("The dashboard server is not answering")
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0, out
    assert "the worker stopped; the API and dashboard stay up" in out
    assert processes_of(home) == []
    for port in (api_port, dash_port):  # nothing listens any more
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_a_taken_port_stops_up_before_it_starts_anything(tmp_path):
    home = (tmp_path / "home").resolve()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [IWLAB, "up", "--host", "127.0.0.1", "--api-port", str(free_port()), "--dashboard-port", str(port)],
            env=environment(home),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode != 0
    assert f"port {port} (dashboard)" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert processes_of(home) == []


def test_a_page_says_when_the_api_has_gone(stack, page):
    base, procs, _logs = stack
    page.goto(base + "/experiments")
    expect(page.locator("#empty-state")).to_be_visible()
    assert page.locator("#alive-banner").is_hidden()
    procs["api"].terminate()
    procs["api"].wait(30)
    expect(page.locator("#alive-banner")).to_contain_text("The API is not answering")
    assert not page.errors, page.errors

"""`iwlab up` as a process manager: a drained worker leaves the API and dashboard up, SIGTERM leaves
no process behind, and a port that is taken stops it before it starts anything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

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


def test_a_drained_worker_leaves_the_stack_up_and_sigterm_leaves_no_process(tmp_path):
    home = (tmp_path / "home").resolve()
    api_port, dash_port = free_port(), free_port()
    up = subprocess.Popen([IWLAB, "up", "--host", "127.0.0.1", "--api-port", str(api_port), "--dashboard-port", str(dash_port)],
                          env=environment(home), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        api = f"http://127.0.0.1:{api_port}/api/v1"
        wait_for_http(f"http://127.0.0.1:{dash_port}/", timeout=90)
        wait_for(lambda: [w for w in httpx.get(f"{api}/workers").json()["items"] if w["alive"]], timeout=90, what="the worker's heartbeat")
        worker = next(w for w in httpx.get(f"{api}/workers").json()["items"] if w["alive"])
        assert httpx.post(f"{api}/workers/{worker['name']}/drain").status_code == 202
        wait_for(lambda: worker["pid"] not in processes_of(home), timeout=60, what="the drained worker to exit")
        time.sleep(1.5)  # `up` notices within a second
        assert up.poll() is None
        assert httpx.get(f"{api}/health").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{dash_port}/").status_code == 200
        assert len(processes_of(home)) >= 3  # up, the API and the dashboard

        up.send_signal(signal.SIGTERM)
        out, _ = up.communicate(timeout=30)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0, out
    assert "the worker stopped; the API and dashboard stay up" in out
    assert processes_of(home) == []
    for port in (api_port, dash_port):
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # free again


def test_a_taken_port_stops_up_before_it_starts_anything(tmp_path):
    home = (tmp_path / "home").resolve()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([IWLAB, "up", "--host", "127.0.0.1", "--api-port", str(free_port()), "--dashboard-port", str(port)],
                              env=environment(home), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"port {port} (dashboard)" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert processes_of(home) == []

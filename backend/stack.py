"""`iwlab up`'s process manager: the API, the dashboard and one worker as children, each in its own
process group so that stopping one stops whatever it started (Celery's pool, a launcher's children).

SIGTERM and SIGINT stop them all. The worker may stop on its own (a drain from the Workers page, or a
crash) while the API and dashboard stay up: the runs wait in the queue for the next `iwlab worker`.
The API or the dashboard dying stops the stack, with the tail of its log.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

STOP_SECONDS = 10  # a warm shutdown's grace before the group is killed
OPTIONAL = ("worker",)  # children whose exit leaves the rest up


class Stopped(Exception):
    """SIGTERM (or SIGINT) asked the stack to stop."""


def port_in_use(host: str, port: int) -> bool:
    """Whether binding (host, port) fails now: something listens on it (another `iwlab up`?)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        # as the servers bind: a port a stopped server left in TIME_WAIT is free to them
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Stack:
    def __init__(self, env: dict[str, str], logs: Path):
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, cmd: list[str]) -> subprocess.Popen:
        with open(self.logs / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(
                cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self.procs[name]

    def watch(self, say: Callable[[str], None], poll: float = 1.0) -> int:
        """Until a required child dies (exit 1) or a signal stops the stack (exit 0)."""
        while True:
            for name, proc in list(self.procs.items()):
                code = proc.poll()
                if code is None:
                    continue
                del self.procs[name]
                log = self.logs / f"{name}.log"
                if name in OPTIONAL:
                    how = "stopped" if code == 0 else f"exited with code {code}"
                    say(
                        f"the {name} {how}; the API and dashboard stay up (start another with `iwlab worker`). "
                        f"The end of {log}:\n{tail(log)}"
                    )
                    continue
                say(f"the {name} exited with code {code}; stopping the stack. The end of {log}:\n{tail(log)}")
                return 1
            time.sleep(poll)

    def stop(self) -> None:
        """SIGTERM to every child's group, then SIGKILL to what is left after the grace period."""
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc, signal.SIGKILL)  # the group may outlive its leader (a pool child)
            proc.wait()
        self.procs.clear()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def raise_on_signals() -> None:
    """SIGTERM (a service manager, `kill`) stops the stack like Ctrl-C does."""

    def stop(signum, _frame):
        raise Stopped(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

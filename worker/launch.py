"""Starting worker processes. `iwlab worker --gpus 0,1` runs one child per GPU, each pinned with
CUDA_VISIBLE_DEVICES, and waits on them. The parent only spawns (fresh interpreters, not forks) and
never imports torch, so no CUDA context exists before a child picks its device."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from backend.queue import QUEUES


def parse_queues(text: str) -> list[str]:
    queues = [q.strip() for q in text.split(",") if q.strip()]
    unknown = [q for q in queues if q not in QUEUES]
    if not queues or unknown:
        raise ValueError(f"--queues: choose from {', '.join(QUEUES)} (comma-separated), not {text!r}")
    return queues


def parse_gpus(text: str) -> list[str]:
    gpus = [g.strip() for g in text.split(",") if g.strip()]
    if not gpus or not all(g.isdigit() for g in gpus) or len(set(gpus)) != len(gpus):
        raise ValueError(f"--gpus: distinct GPU indices, comma-separated (e.g. 0,1), not {text!r}")
    return gpus


def node_name(queues: list[str], gpu: str | None = None) -> str:
    """Unique per process (two workers on one host must not share a Celery node name)."""
    role = f"gpu{gpu}" if gpu is not None else "-".join(queues)
    return f"{role}-{os.getpid()}@{socket.gethostname()}"


def gpu_children(
    gpus: list[str], queues: list[str], concurrency: int, loglevel: str | None
) -> list[tuple[list[str], dict[str, str]]]:
    """(command, environment) of each per-GPU worker process."""
    children = []
    for gpu in gpus:
        cmd = [
            sys.executable,
            "-m",
            "backend.cli",
            "worker",
            "--queues",
            ",".join(queues),
            "--concurrency",
            str(concurrency),
        ]
        cmd += ["--loglevel", loglevel] if loglevel else []
        env = os.environ | {"CUDA_VISIBLE_DEVICES": gpu, "IWLAB_DEVICE": os.environ.get("IWLAB_DEVICE", "cuda")}
        children.append((cmd, env))
    return children


def supervise(children: list[tuple[list[str], dict[str, str]]]) -> int:
    """Start the children, pass SIGTERM / SIGINT on to them (a warm shutdown each), wait for all;
    the exit code is the first non-zero one of a child, else 0."""
    procs = [subprocess.Popen(cmd, env=env) for cmd, env in children]

    def forward(signum, _frame):
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    codes = [p.wait() for p in procs]
    return next((c for c in codes if c), 0)

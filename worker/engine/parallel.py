"""Train independent runs side by side in child processes on a CPU.

The per-run engine keeps each process to one intra-op thread (`setup.limit_threads`: OpenMP
threads spin against each other on shared cores), so one run at a time leaves the other cores idle.
A ConvNet run on CIFAR takes minutes, so a spawned process (~3 s to import torch) pays for itself;
2-D runs take seconds and are batched anyway (`batched.py`), so they stay in-process.

Each run seeds itself from its spec and draws on its own generators, so its metrics do not depend
on which process trains it or what trains beside it (tested against the in-process loop).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
from collections.abc import Iterator
from pathlib import Path

from .setup import resolve_device
from .spec import IMAGE_DATASETS, RunSpec
from .train import EpochResult, train

_DONE = "done"


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def auto_jobs(runs: list[RunSpec], device: str = "auto") -> int:
    """Processes for `runs` (each trained alone): for image runs on a CPU, one per run up to two
    per core, else 1. One-thread processes beyond the cores only time-slice, and they keep the last
    round from leaving cores idle: 3 runs on 2 cores finish in 1.5 runs' time, not 2."""
    on_cpu = resolve_device(device).type == "cpu"
    if not on_cpu or len(runs) < 2 or not all(r.dataset in IMAGE_DATASETS for r in runs):
        return 1
    return min(2 * cores(), len(runs))


def _worker(tasks, results, device: str, threads: int, datasets: Path | None, parent: int) -> None:
    for key, run in iter(tasks.get, None):
        try:
            for result in train(run, device, None, threads, datasets):
                if os.getppid() != parent:  # the caller was killed (SIGTERM/SIGKILL skip its cleanup): stop too
                    return
                results.put((key, result))
        except BaseException as err:  # noqa: BLE001 - handed to the parent, which re-raises it
            results.put((key, err))
            return
        results.put((key, _DONE))


def train_side_by_side(
    runs: dict[int, RunSpec], jobs: int, device: str = "auto", threads: int = 1, datasets: Path | None = None
) -> Iterator[tuple[int, EpochResult]]:
    """(key, result) pairs as epochs finish, interleaved across runs; each run's own results arrive
    in epoch order. A run that raises stops the rest and the error is raised here. `device`,
    `threads`, `datasets`: the caller's configuration, handed to every process (`setup.build_setup`)."""
    if jobs <= 1:
        for key, run in runs.items():
            yield from ((key, r) for r in train(run, device, None, threads, datasets))
        return
    ctx = mp.get_context("spawn")  # fork after torch has started its thread pool can deadlock
    tasks, results = ctx.Queue(), ctx.Queue()
    for item in runs.items():
        tasks.put(item)
    procs = [
        ctx.Process(target=_worker, args=(tasks, results, device, threads, datasets, os.getpid()), daemon=True)
        for _ in range(jobs)
    ]
    for _ in procs:
        tasks.put(None)
    for p in procs:
        p.start()
    try:
        left = set(runs)
        while left:
            try:
                key, item = results.get(timeout=5)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):  # killed (e.g. out of memory) without a word
                    codes = ", ".join(str(p.exitcode) for p in procs)
                    raise RuntimeError(
                        f"training processes exited ({codes}) with runs {sorted(left)} unfinished; a script that "
                        "calls write_results needs `if __name__ == '__main__':` (processes are spawned)"
                    ) from None
                continue
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, str) and item == _DONE:
                left.discard(key)
                continue
            yield key, item
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join(timeout=10)

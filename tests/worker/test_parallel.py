"""Runs trained side by side in child processes give exactly the in-process loop's metrics, and a
child's error reaches the caller."""

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from tests.services import wait_for
from tests.worker.test_batched import _metrics_csv
from tests.worker.test_datasets import write_cifar_tree
from worker.engine.export import write_results
from worker.engine.images import DatasetError
from worker.engine.parallel import auto_jobs, cores
from worker.engine.spec import ExperimentSpec, RunSpec

SMALL_CNN = {
    "dataset": "cifar10",
    "model": "convnet",
    "width": 4,
    "n_train": 6,
    "n_test": 3,
    "ood": 4,
    "epochs": 3,
    "batch_size": 4,
}


def test_side_by_side_equals_one_at_a_time(tmp_path):
    write_cifar_tree(tmp_path / "data", per_class=8)
    exp = ExperimentSpec(
        base=RunSpec(**SMALL_CNN, data_path=str(tmp_path / "data")), sweep={"pos_weight": [0.25, 1.0, 4.0]}
    )
    ticks = []
    _, serial = write_results(exp, tmp_path / "serial", "cpu", jobs=1)
    _, parallel = write_results(exp, tmp_path / "parallel", "cpu", on_epoch=lambda: ticks.append(1), jobs=2)
    assert len(ticks) == 3 * 3  # every epoch of every run reported once
    assert [s for s, _ in parallel.runs] == [s for s, _ in serial.runs]  # spec order, whoever finished first
    a, b = _metrics_csv(tmp_path / "serial"), _metrics_csv(tmp_path / "parallel")
    assert a.keys() == b.keys() and len(a) > 50
    assert a == b  # same seeds, one thread each: bit-identical


def test_a_failing_run_raises_in_the_caller(tmp_path):
    (tmp_path / "empty").mkdir()
    exp = ExperimentSpec(base=RunSpec(**SMALL_CNN, data_path=str(tmp_path / "empty")), sweep={"pos_weight": [0.5, 2.0]})
    with pytest.raises(DatasetError, match="CIFAR-10"):
        write_results(exp, tmp_path / "out", "cpu", jobs=2)


def test_auto_uses_processes_only_for_image_runs_on_a_cpu():
    images = [RunSpec(**SMALL_CNN, pos_weight=w) for w in (0.5, 2.0, 8.0)]
    assert auto_jobs(images, "cpu") == min(3, 2 * cores())
    assert auto_jobs(images[:1], "cpu") == 1
    assert auto_jobs([RunSpec(pos_weight=w) for w in (0.5, 2.0)], "cpu") == 1  # 2-D runs take seconds


def _marked(mark: str) -> list[int]:
    pids = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"IWLAB_TEST_MARK={mark}".encode() in environ.read_bytes().split(b"\0"):
                pids.append(int(environ.parent.name))
        except OSError:
            continue
    return pids


def test_training_processes_stop_when_their_caller_is_killed(tmp_path):
    write_cifar_tree(tmp_path / "data", per_class=8)
    script = tmp_path / "long.py"
    script.write_text(
        textwrap.dedent(f"""
        from pathlib import Path
        from worker.engine.export import write_results
        from worker.engine.spec import ExperimentSpec, RunSpec
        if __name__ == "__main__":
            base = RunSpec(**{SMALL_CNN!r} | {{"epochs": 100000, "data_path": {str(tmp_path / "data")!r}}})
            write_results(ExperimentSpec(base=base, sweep={{"pos_weight": [0.5, 2.0]}}), Path({str(tmp_path / "out")!r}), "cpu", jobs=2)
    """)
    )
    mark = uuid.uuid4().hex
    env = os.environ | {"IWLAB_TEST_MARK": mark, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    caller = subprocess.Popen([sys.executable, str(script)], env=env)
    try:
        wait_for(
            lambda: (
                (tmp_path / "out" / "metrics.csv").exists()
                and len((tmp_path / "out" / "metrics.csv").read_text().splitlines()) > 100
            ),
            timeout=120,
            what="both runs to train",
        )
        children = [pid for pid in _marked(mark) if pid != caller.pid]
        assert len(children) >= 2
        caller.kill()  # SIGKILL: no cleanup runs in the caller
        caller.wait(timeout=10)
        wait_for(
            lambda: not [pid for pid in _marked(mark) if pid in children],
            timeout=30,
            what="the orphaned training processes to stop",
        )
    finally:
        caller.kill()
        for pid in _marked(mark):
            os.kill(pid, signal.SIGKILL)

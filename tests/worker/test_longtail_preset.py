"""The cifar10-lt preset: listed like the others, its training set is the long-tailed profile it
describes, and its checks pair the arms over seeds and read the tail classes it names. Its quick
variant's checks run on the real images in test_presets.py (needs == "cifar10")."""

import os
import subprocess
import sys

import pytest

from worker.engine import presets
from worker.engine.data import make_data
from worker.engine.outcome import Outcome
from worker.engine.presets.longtail import CIFAR10_LT, TAIL, gain
from worker.engine.spec import CIFAR10_CLASSES, RunSpec


def test_iwlab_presets_lists_it_with_its_run_counts():
    quick, full = len(CIFAR10_LT.quick.runs()), len(CIFAR10_LT.full.runs())
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", "presets"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"COLUMNS": "250"},  # wide enough for the table to keep each row on one line
    )
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "cifar10-lt" in line)
    assert f"{quick} / {full}" in row and "cifar10" in row.split("│")[-2]
    assert presets.get("cifar10-lt") is CIFAR10_LT and CIFAR10_LT.needs == "cifar10"


def test_the_quick_training_set_is_the_long_tail_it_describes(cifar_jpeg):
    spec = CIFAR10_LT.quick.runs()[0].model_copy(update={"data_path": str(cifar_jpeg)})
    data = make_data(spec)
    counts = data.counts.tolist()
    # class c keeps round(300 * 10 ** (-c / 9)): airplane 300 ... truck 30, 1,226 in all
    assert counts == [300, 232, 180, 139, 108, 83, 65, 50, 39, 30] and sum(counts) == 1226
    assert [c for c, n in zip(data.classes, counts) if n <= 50] == list(TAIL)
    test_labels = data.y_test.tolist()
    assert [test_labels.count(c) for c in range(10)] == [500] * 10  # balanced test set


def _runs(rows):
    """An outcome of hand-made histories: (loss, drw_epoch, seed, balanced_acc, tail recalls)."""
    o = Outcome()
    for loss, drw, seed, balanced, tail in rows:
        test = {"balanced_acc": balanced} | {f"acc_{c}": r for c, r in zip(TAIL, tail)}
        spec = RunSpec(dataset="cifar10", classes=list(CIFAR10_CLASSES), loss=loss, drw_epoch=drw, seed=seed)
        o.add(spec, {1: {"test": {"balanced_acc": 0.1}}, 20: {"test": test}})
    return o


def test_gain_pairs_an_arm_with_ce_over_seeds_and_reads_the_tail_classes():
    o = _runs(
        [
            ("ce", None, 0, 0.30, (0.1, 0.1, 0.1)),
            ("ce", None, 1, 0.32, (0.2, 0.1, 0.0)),
            ("ce", 12, 0, 0.33, (0.4, 0.4, 0.4)),  # CE-DRW: not CE, though its loss is ce
            ("ce", 12, 1, 0.33, (0.3, 0.3, 0.3)),
            ("la", None, 0, 0.34, (0.3, 0.3, 0.3)),
            ("la", None, 1, 0.35, (0.5, 0.2, 0.2)),
        ]
    )
    ok, measured = gain("LA", "balanced_acc", 0.035).run(o)  # differences +0.04, +0.03
    assert ok and measured.startswith("+0.035 [") and measured.n == 2
    assert not gain("LA", "balanced_acc", 0.036).run(o)[0]
    ok, measured = gain("CE-DRW", "tail_acc", 0.2).run(o)  # +0.3 and +0.2
    assert ok and measured.startswith("+0.250 [")
    # a stated interval: mean 0.25, sd 0.0707 over n = 2, t(0.975, 1) = 12.706
    assert "[-0.385, +0.885], n = 2" in measured and measured.interval == pytest.approx((-0.3853, 0.8853), abs=1e-4)
    assert not gain("CE-DRW", "balanced_acc", 0.021).run(o)[0]  # +0.03 and +0.01


@pytest.mark.parametrize("variant", ["quick", "full"])
def test_every_arm_of_both_variants_is_there_and_shares_its_seeds_with_ce(variant):
    runs = getattr(CIFAR10_LT, variant).runs()
    arms = {(r.loss, r.drw_epoch is not None) for r in runs}
    assert {("ce", False), ("ce", True), ("ldam", True), ("la", False)} <= arms
    keys = lambda loss, drw: sorted(  # noqa: E731
        (r.imbalance, r.data_seed, r.seed) for r in runs if r.loss == loss and (r.drw_epoch is not None) == drw
    )
    assert keys("ce", False) == keys("ce", True) == keys("ldam", True) == keys("la", False)
    assert len(keys("ce", False)) >= 3 and all(len(r.classes) == 10 for r in runs)

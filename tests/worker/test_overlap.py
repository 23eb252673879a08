"""Every model on every data family, overlapping data included, trains and records finite metrics.

Overlapping data are the study's control (PAPER.md, corrections): a line on moons, blobs with
flipped labels. They used to end the run in the max-margin solver (issue 11); a readout that is
not defined there must be missing with its reason, never a crash and never a NaN.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pytest
from PIL import Image

from worker.engine.engines import batched_training
from worker.engine.geometry import NOT_SEPARABLE
from worker.engine.spec import RunSpec
from worker.engine.train import SVM_READOUTS, train

WEIGHTS = (0.1, 1.0, 10.0)
SMALL = dict(n_train=30, n_test=40, epochs=3, frames=2, grid=8, batch_size=8)

# (data family, overlapping?) -> spec fields; moons and flipped labels cannot be split by a line
DATA: dict[str, dict[str, Any]] = {
    "blobs": dict(dataset="blobs"),
    "blobs-label-noise": dict(dataset="blobs", label_noise=0.1),
    "wang_gaussians": dict(dataset="wang_gaussians"),
    "moons": dict(dataset="moons"),
    "moons-noisy": dict(dataset="moons", noise=3.0, label_noise=0.1),
    "digits-label-noise": dict(dataset="digits", label_noise=0.1),
}
OVERLAPPING = {"blobs-label-noise", "moons", "moons-noisy"}


def assert_finite(results) -> None:
    for result in results:
        for split, values in result.metrics.items():
            bad = {k: v for k, v in values.items() if not math.isfinite(v)}
            assert not bad, f"epoch {result.epoch}, {split}: {bad}"


def check_missing(training, spec: RunSpec, name: str) -> None:
    if spec.model == "logreg" and name in OVERLAPPING:
        assert training.missing == dict.fromkeys(SVM_READOUTS, NOT_SEPARABLE)
    elif spec.model == "logreg" and spec.is_2d:
        assert training.missing == {}  # separable: the reference exists
    else:
        assert training.missing == {}  # not defined for this model at all, nothing to explain


@pytest.mark.parametrize("model", ["logreg", "mlp"])
@pytest.mark.parametrize("name", list(DATA))
def test_linear_and_mlp_runs_complete_on_every_family(name: str, model: str):
    specs = [RunSpec(model=model, pos_weight=w, hidden=[16], lr=0.1, **SMALL, **DATA[name]) for w in WEIGHTS]
    # the per-run engine on one weight, the batched engine on all three (what `iwlab run` picks)
    training = train(specs[2])
    results = list(training)
    assert [r.epoch for r in results] == [0, 1, 2, 3]
    assert_finite(results)
    check_missing(training, specs[2], name)
    batched = batched_training(specs)
    per_epoch = list(batched)
    assert len(per_epoch) == 4
    for epoch_results in zip(*per_epoch):
        assert_finite(epoch_results)
    check_missing(batched, specs[0], name)
    if specs[0].is_2d:
        assert all("offset" in r.metrics["geometry"] for r in per_epoch[-1])
        svm = {k for r in per_epoch[-1] for k in r.metrics["geometry"] if k.startswith("svm")}
        assert svm == (set() if batched.missing or model != "logreg" else set(SVM_READOUTS))


def test_overlap_control_keeps_an_ordered_effect():
    """Classical weighted ERM on data no line separates: each weight has its own minimiser, so the
    boundary offset stays ordered by weight (a larger positive weight, a smaller offset)."""
    specs = [
        RunSpec(
            dataset="moons",
            model="logreg",
            pos_weight=w,
            lr=0.1,
            n_train=100,
            epochs=60,
            eval_points=5,
            frames=2,
            grid=8,
        )
        for w in WEIGHTS
    ]
    final = list(batched_training(specs))[-1]
    offsets = [r.metrics["geometry"]["offset"] for r in final]
    fracs = [r.metrics["test"]["frac_pred_pos"] for r in final]
    assert offsets[0] > offsets[1] > offsets[2], offsets
    assert fracs[0] < fracs[1] < fracs[2], fracs


def noisy_tree(root, n: int = 4):
    """Two classes of uniform-noise JPEGs: nothing tells them apart, like fully flipped labels."""
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for cls in ("ant", "bee"):
            (root / split / cls).mkdir(parents=True)
            for k in range(n):
                buf = io.BytesIO()
                Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buf, "JPEG")
                (root / split / cls / f"{k:04d}.jpg").write_bytes(buf.getvalue())
    return root


@pytest.mark.parametrize("model", ["convnet", "resnet"])
def test_image_models_complete_on_data_they_cannot_separate(tmp_path, model: str):
    tree = noisy_tree(tmp_path / "tree")
    spec = RunSpec(dataset="folder", data_path=str(tree), classes=["ant", "bee"], model=model, width=4, pos_weight=10.0,
                   n_train=4, n_test=4, ood=0, noise_images=3, epochs=2, batch_size=4, lr=0.05)  # fmt: skip
    training = train(spec)
    results = list(training)
    assert [r.epoch for r in results] == [0, 1, 2] and training.missing == {}
    assert_finite(results)

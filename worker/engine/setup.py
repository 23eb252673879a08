"""A run's set-up before its first epoch, one definition for both engines: the per-run one
(`train.Training`) and the batched one (`batched.BatchedTraining`, M runs on one data set).

`build_setup` makes what the runs share (device, data, validation split, recorded epochs, the
boundary grid, the references the readouts compare with); the methods give what each run has of its
own (weights, initial model, effective positive weight), from its spec. The batched engine keeps
only its stacked models and their update.

Where the per-run engine's set-up depends on something a batched group could not share (early
stopping's validation split, group labels, a cosine or step schedule), `batched.why_not_batchable` refuses the group: that refusal is what
makes one shared set-up exact for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import geometry, group_labels, intended
from .boundary import Grid
from .data import Data, Eval, make_data, split_validation
from .losses import EFFECTIVE_MISSING, example_weights, run_class_weights, run_effective_pos_weight
from .models import make_model
from .probe import Probe, recorder
from .shift import effective_sample_size
from .spec import FEATURE_DATASETS, RunSpec, frame_epochs

# weights whose intended effect (log w added to the unweighted model's positive logit) is logged
INTENDED_WEIGHTS = sorted({4.0**k for k in range(-4, 5)} | {0.1, 10.0})
SVM_READOUTS = ("svm_cosine", "svm_angle")


def resolve_device(name: str = "auto") -> torch.device:
    """auto: CUDA when present, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device cuda: no CUDA device is available")
    return torch.device(name)


def limit_threads(threads: int = 1) -> None:
    """Intra-op threads of this process (0 = torch's default); the caller's setting, one by default.

    Measured here on 2 shared cores: a ConvNet step took 20 ms on one thread and 275-475 ms on two
    while other processes were busy (OpenMP threads spin against each other). Scale with more
    worker processes instead, one per core."""
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def max_margin_reference(spec: RunSpec, data: Data) -> tuple[torch.Tensor | None, dict[str, str]]:
    """The max-margin normal the svm_* readouts compare a 2-D linear model with, and the readouts
    that are missing (name -> the reason, for the run's record and its exports)."""
    if not (spec.is_2d and spec.model == "logreg" and not spec.cosine_head):
        return None, {}  # the readouts are not defined for this run at all
    normal, reason = geometry.max_margin_reference(data.x_train, data.y_train)
    return normal, {} if reason is None else dict.fromkeys(SVM_READOUTS, reason)


def references(spec: RunSpec, data: Data) -> tuple[torch.Tensor | None, dict[str, str]]:
    """The max-margin normal (where defined) and every readout these data leave undefined -> why:
    the svm_* readouts off separable data, worst-group accuracy on a table without groups."""
    svm, missing = max_margin_reference(spec, data)
    return svm, group_labels.missing(spec, data) | missing


def carries_intended(spec: RunSpec, data: Data) -> bool:
    """Whether the run records the intended effect of every weight: the unweighted binary run."""
    return spec.pos_weight == 1 and not spec.class_weights and len(data.classes) == 2


@dataclass(frozen=True)
class RunSetup:
    spec: RunSpec  # the data, architecture and schedule (a batched group's first run: all share them)
    device: torch.device
    data: Data  # the training data (less the validation split) and the evaluation sets
    val: Eval | None  # early stopping's validation split
    grid: Grid | Probe | None  # 2-D: the boundary grid; images: a strip of test images (two classes only)
    x: torch.Tensor  # the training data on the device
    y: torch.Tensor
    counts: torch.Tensor
    snapshots: frozenset[int]  # epochs that record a boundary frame
    evaluated: frozenset[int]  # epochs that record metrics
    svm: torch.Tensor | None  # the max-margin normal of the svm_* readouts
    missing: dict[str, str]  # readouts the data leave undefined -> why
    centres: tuple[torch.Tensor, torch.Tensor] | None  # 2-D: the class centres of the geometry readouts
    bayes: dict[str, float]  # the Bayes reference of the intended effect ({} where unknown or unused)

    def weights(self, spec: RunSpec) -> torch.Tensor:
        """Each training example's weight in `spec`'s objective: its class weight, times its own
        weight (tables, covariate shift) tempered like the class weights."""
        w = example_weights(self.y, run_class_weights(spec, self.data.counts, self.data.classes).to(self.device))
        if self.data.w_train is not None:
            w = w * self.data.w_train.to(self.device) ** spec.weight_power
        return w

    def effective_sample_size(self, weights: torch.Tensor) -> float | None:
        """What per-example weights are worth in equally weighted examples (None without them)."""
        return effective_sample_size(weights.cpu()) if self.data.w_train is not None else None

    def effective_pos_weight(self, spec: RunSpec) -> float | None:
        """What `spec`'s nominal weight does on these data (`losses.effective_pos_weight`)."""
        return run_effective_pos_weight(spec, tuple(int(c) for c in self.data.counts.tolist()), self.data.classes)

    def missing_for(self, spec: RunSpec) -> dict[str, str]:
        """The readouts `spec`'s run will not record -> why."""
        if self.effective_pos_weight(spec) is None:
            return self.missing | {"effective_pos_weight": EFFECTIVE_MISSING}
        return self.missing

    def intended(self, spec: RunSpec) -> bool:
        return carries_intended(spec, self.data)

    def model(self, spec: RunSpec) -> nn.Module:
        """`spec`'s initial model, on the CPU: seeded by the run, so equal in either engine."""
        torch.manual_seed(spec.seed)
        return make_model(spec, tuple(self.data.x_train.shape[1:]), len(self.data.classes))


def build_setup(
    specs: Sequence[RunSpec], device: str = "auto", threads: int = 1, datasets: Path | None = None
) -> RunSetup:
    """The shared set-up of `specs` (one run, or a batched group: `specs[0]` stands for them all).
    `device`, `threads` (on a CPU) and `datasets` (the data folder, `data.make_data`'s root) are
    the caller's configuration: the engine reads none of its own."""
    spec = specs[0]
    dev = resolve_device(device)
    if dev.type == "cpu":
        limit_threads(threads)
    data, val = make_data(spec, datasets), None
    if spec.patience:
        data, val = split_validation(data, spec.val_fraction, spec.data_seed)
    # a table's rows are neither a grid nor images; a strip shows P(positive), so two classes only
    grid = None if spec.dataset in FEATURE_DATASETS or len(data.classes) > 2 else recorder(data, spec)
    snapshots = frozenset(frame_epochs(spec.epochs, spec.frames))
    evaluated = frozenset(frame_epochs(spec.epochs, spec.eval_points) if spec.eval_points else range(spec.epochs + 1))
    svm, missing = references(spec, data)
    return RunSetup(
        spec=spec,
        device=dev,
        data=data,
        val=val,
        grid=grid,
        x=data.x_train.to(dev),
        y=data.y_train.to(dev),
        counts=data.counts.to(dev),
        snapshots=snapshots,
        evaluated=evaluated | snapshots,
        svm=svm,
        missing=missing,
        centres=geometry.class_centres(data.x_train, data.y_train) if spec.is_2d else None,
        bayes=intended.reference(spec, data, INTENDED_WEIGHTS) if any(carries_intended(s, data) for s in specs) else {},
    )

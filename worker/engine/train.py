"""Train one run: iterating `train(spec)` yields an `EpochResult` per epoch (epoch 0 is the initial model).

Pure PyTorch: no Celery, database or HTTP here, so the CLI, the worker and the tests all drive the
same loop. Data stay tensors on the device; images are converted to float one batch at a time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from . import geometry, group_labels, intended
from .data import as_input, make_data, split_validation
from .losses import (
    EFFECTIVE_MISSING,
    example_weights,
    per_example_loss,
    reduce_weighted,
    run_class_weights,
    run_effective_pos_weight,
)
from .metrics import group_metrics, intended_frac_pos, normalised_margin, param_norm, split_metrics
from .models import make_model
from .probe import recorder
from .shift import effective_sample_size
from .spec import FEATURE_DATASETS, RunSpec, frame_epochs

EVAL_BATCH = 1024
# weights whose intended effect (log w added to the unweighted model's positive logit) is logged
INTENDED_WEIGHTS = sorted({4.0**k for k in range(-4, 5)} | {0.1, 10.0})


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    epochs: int
    metrics: dict[str, dict[str, float]]  # split -> metric -> value
    boundary: np.ndarray | None = None  # 2-D: P(positive) on the grid, shape (len(ys), len(xs)), at frame epochs
    stopped: bool = False  # the last result of a run that stopped early


def step_lr_factor(epoch: int, epochs: int) -> float:
    """Cao et al.'s schedule (LDAM-DRW, 200 epochs: linear warm-up over 5, x0.01 from 160, x0.0001
    from 180), in proportion for other lengths: the factor of the base lr while training `epoch`
    (0-based) of `epochs`."""
    warm = round(epochs / 40)
    if epoch < warm:
        return (epoch + 1) / warm
    if epoch >= 0.9 * epochs:
        return 1e-4
    return 0.01 if epoch >= 0.8 * epochs else 1.0


def max_margin_reference(spec: RunSpec, data) -> tuple[torch.Tensor | None, dict[str, str]]:
    """The max-margin normal the svm_* readouts compare a 2-D linear model with, and the readouts
    that are missing (name -> the reason, for the run's record and its exports)."""
    missing = group_labels.missing(spec, data)  # the set-up's one list of missing readouts
    if not (spec.is_2d and spec.model == "logreg" and not spec.cosine_head):
        return None, missing  # the svm readouts are not defined for this run at all
    normal, reason = geometry.max_margin_reference(data.x_train, data.y_train)
    return normal, missing if reason is None else missing | dict.fromkeys(SVM_READOUTS, reason)


SVM_READOUTS = ("svm_cosine", "svm_angle")


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("IWLAB_DEVICE=cuda but no CUDA device is available")
    return torch.device(name)


def limit_threads() -> None:
    """One intra-op thread per process unless IWLAB_THREADS says otherwise (0 = torch's default).

    Measured here on 2 shared cores: a ConvNet step took 20 ms on one thread and 275-475 ms on two
    while other processes were busy (OpenMP threads spin against each other). Scale with more
    worker processes instead, one per core."""
    threads = int(os.environ.get("IWLAB_THREADS", "1"))
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


class Training:
    """One run, set up and ready to iterate: `for result in train(spec): ...`.

    `grid` (the 2-D boundary grid, or an image run's strip of test images) is known before the first epoch, so a caller can store it before the frames.
    `checkpoint()` after any epoch, and `train(spec, resume=that)` continues exactly where it
    stopped: same minibatch order, same random state, so the metrics equal an uninterrupted run's."""

    def __init__(self, spec: RunSpec, device: str | None = None, resume: dict[str, Any] | None = None):
        self.spec = spec
        self.device = dev = resolve_device(device or os.environ.get("IWLAB_DEVICE", "auto"))
        if dev.type == "cpu":
            limit_threads()
        data = make_data(spec)
        self.val = None
        if spec.patience:
            data, self.val = split_validation(data, spec.val_fraction, spec.data_seed)
        self.data = data
        # 2-D: the boundary grid; images: a strip of test images, of P(positive), so only for two
        # classes; a table's rows are neither
        self.grid = None if spec.dataset in FEATURE_DATASETS or len(data.classes) > 2 else recorder(data, spec)
        self._x, self._y = data.x_train.to(dev), data.y_train.to(dev)
        self._counts = data.counts.to(dev)
        self._weights = example_weights(self._y, run_class_weights(spec, data.counts, data.classes).to(dev))
        if data.w_train is not None:  # per-example weights, tempered like the class weights
            self._weights = self._weights * data.w_train.to(dev) ** spec.weight_power
        # what the weights are worth in equally weighted examples, recorded with the train metrics
        self.effective_sample_size = effective_sample_size(self._weights.cpu()) if data.w_train is not None else None
        self._snapshots = set(frame_epochs(spec.epochs, spec.frames))
        every = range(spec.epochs + 1)
        self._evaluated = (
            set(frame_epochs(spec.epochs, spec.eval_points) if spec.eval_points else every) | self._snapshots
        )

        torch.manual_seed(spec.seed)
        self.model = make_model(spec, tuple(data.x_train.shape[1:]), len(data.classes)).to(dev)
        self.opt = torch.optim.SGD(
            self.model.parameters(), lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay
        )
        self.sched: torch.optim.lr_scheduler.LRScheduler | None = None
        if spec.schedule == "cosine":
            self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt, spec.epochs)
        elif spec.schedule == "step":
            self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, lambda epoch: step_lr_factor(epoch, spec.epochs))
        self._order = torch.Generator().manual_seed(spec.seed)
        self.epoch = 0  # epochs finished
        self.best_val, self.since_best = math.inf, 0
        self._svm, self.missing = max_margin_reference(spec, data)  # readout -> why it is not recorded
        counts = tuple(int(c) for c in data.counts.tolist())
        self.effective_pos_weight = run_effective_pos_weight(
            spec, counts, data.classes
        )  # what the nominal weight does here
        if self.effective_pos_weight is None:
            self.missing = self.missing | {"effective_pos_weight": EFFECTIVE_MISSING}
        self._centres = geometry.class_centres(data.x_train, data.y_train) if spec.is_2d else None
        # the unweighted binary run carries the intended effect of every weight
        self._intended = spec.pos_weight == 1 and not spec.class_weights and len(data.classes) == 2
        self._bayes = intended.reference(spec, data, INTENDED_WEIGHTS) if self._intended else {}
        if resume is not None:
            self._restore(resume)

    def __iter__(self) -> Iterator[EpochResult]:
        if self.epoch == 0:
            yield self.evaluate()
        while self.epoch < self.spec.epochs:
            self._train_one_epoch()
            self.epoch += 1
            if self.epoch not in self._evaluated and not self.spec.patience:
                continue
            result = self.evaluate()
            if self._should_stop(result):
                yield EpochResult(result.epoch, result.epochs, result.metrics, result.boundary, stopped=True)
                return
            yield result

    # --- training ---------------------------------------------------------------------------

    def _batches(self) -> Iterator[torch.Tensor]:
        n, spec = len(self._y), self.spec
        if spec.resample:  # draw in proportion to the weights, so the weights act through the data
            order = torch.multinomial(self._weights.cpu(), n, replacement=True, generator=self._order)
        else:
            order = torch.randperm(n, generator=self._order)
        order = order.to(self.device)
        for start in range(0, n, spec.batch_size):
            yield order[start : start + spec.batch_size]

    def _train_one_epoch(self) -> None:
        spec = self.spec
        weighted = not spec.resample and (spec.drw_epoch is None or self.epoch >= spec.drw_epoch)
        self.model.train()
        for idx in self._batches():
            y = self._y[idx]
            losses = per_example_loss(
                spec.loss, self.model(as_input(self._x[idx])), y, self._counts, **self._loss_params
            )
            loss = reduce_weighted(losses, self._weights[idx] if weighted else torch.ones_like(losses), spec.loss_norm)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        if self.sched:
            self.sched.step()

    @property
    def _loss_params(self) -> dict[str, float]:
        s = self.spec
        return {
            "poly_alpha": s.poly_alpha, "ldam_max_margin": s.ldam_max_margin, "ldam_scale": s.ldam_scale,
            "la_tau": s.la_tau, "vs_gamma": s.vs_gamma, "vs_tau": s.vs_tau,
        }  # fmt: skip

    def _should_stop(self, result: EpochResult) -> bool:
        if not self.spec.patience:
            return False
        val_loss = result.metrics["val"]["loss"]
        if val_loss < self.best_val:
            self.best_val, self.since_best = val_loss, 0
        else:
            self.since_best += 1
        return self.since_best >= self.spec.patience

    # --- evaluation -------------------------------------------------------------------------

    @torch.no_grad()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        self.model.eval()
        return torch.cat(
            [self.model(as_input(x[i : i + EVAL_BATCH].to(self.device))) for i in range(0, len(x), EVAL_BATCH)]
        )

    @torch.no_grad()
    def evaluate(self) -> EpochResult:
        names = self.data.classes
        train_logits = self.logits(self._x)
        norm = param_norm(self.model)
        metrics = {"train": split_metrics(train_logits, self._y, names)}
        metrics["train"]["param_norm"] = norm
        if self.effective_sample_size is not None:
            metrics["train"]["effective_sample_size"] = self.effective_sample_size
        if norm > 0:  # undefined for an all-zero model (logreg's initialisation): left out, not NaN
            metrics["train"]["normalised_margin"] = normalised_margin(train_logits, self._y, norm)
        for split, (x, y) in self.data.evals.items():
            logits = self.logits(x)
            metrics[split] = split_metrics(logits, None if y is None else y.to(self.device), names)
            if self._intended:
                metrics[split].update(
                    {f"intended_frac_pos@{w:g}": intended_frac_pos(logits, w) for w in INTENDED_WEIGHTS}
                )
                if split == "test" and y is not None:
                    metrics[split].update(
                        self._bayes or intended.calibrated_frac_pos(logits, y.to(self.device), INTENDED_WEIGHTS)
                    )
        if self.val is not None:
            x_val, y_val = self.val
            metrics["val"] = split_metrics(self.logits(x_val), None if y_val is None else y_val.to(self.device), names)
        self._group_readouts(metrics, train_logits)
        boundary = None
        if self.spec.is_2d:
            metrics["geometry"] = self._geometry()
        if self.epoch in self._snapshots and self.grid is not None:
            probs = torch.softmax(self.logits(self.grid.inputs()), 1)[:, 1]
            boundary = probs.reshape(len(self.grid.ys), len(self.grid.xs)).cpu().numpy()
        return EpochResult(self.epoch, self.spec.epochs, metrics, boundary)

    def _group_readouts(self, metrics: dict[str, dict[str, float]], train_logits: torch.Tensor) -> None:
        """Per-group and worst-group accuracy on every labelled split that carries group labels."""
        splits = dict(self.data.evals) | ({"val": self.val} if self.val is not None else {})
        for split, g in self.data.groups.items():
            if split == "train":
                logits, y = train_logits, self._y
            else:
                x, labels = splits[split]
                if labels is None:
                    continue
                logits, y = self.logits(x), labels.to(self.device)
            metrics[split].update(group_metrics(logits, y, g.to(self.device), self.data.group_names))

    def _geometry(self) -> dict[str, float]:
        def margin(points: torch.Tensor) -> torch.Tensor:
            z = self.logits(points)
            return (z[:, 1] - z[:, 0]).cpu()

        assert self._centres is not None, "geometry readouts are for 2-D runs, which have class centres"
        if self._svm is None:
            return geometry.readouts(margin, self._centres)
        linear = self.model[1]  # type: ignore[index]  # the SVM reference exists for logreg only: Sequential(Flatten, Linear)
        normal, _ = geometry.linear_boundary(linear.weight, linear.bias)
        return geometry.readouts(margin, self._centres, normal.cpu(), self._svm)

    # --- checkpoints ------------------------------------------------------------------------

    def checkpoint(self) -> dict[str, Any]:
        """Everything needed to continue after the current epoch (save it with `torch.save`)."""
        return {
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict() if self.sched else None,
            "order_rng": self._order.get_state(),
            "torch_rng": torch.get_rng_state(),
            "early_stopping": (self.best_val, self.since_best),
        }

    def _restore(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        if self.sched and state.get("scheduler"):
            self.sched.load_state_dict(state["scheduler"])
        self._order.set_state(state["order_rng"])
        torch.set_rng_state(state["torch_rng"])
        self.best_val, self.since_best = state.get("early_stopping", (math.inf, 0))


def train(spec: RunSpec, device: str | None = None, resume: dict[str, Any] | None = None) -> Training:
    return Training(spec, device, resume)

"""Train one run: iterating `train(spec)` yields an `EpochResult` per epoch (epoch 0 is the initial model).

Pure PyTorch: no Celery, database or HTTP here, so the CLI, the worker and the tests all drive the
same loop. Data stay tensors on the device; images are converted to float one batch at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import geometry, intended
from .data import as_input
from .losses import per_example_loss, reduce_weighted
from .metrics import group_metrics, intended_frac_pos, normalised_margin, param_norm, split_metrics
from .setup import INTENDED_WEIGHTS, build_setup
from .setup import SVM_READOUTS as SVM_READOUTS  # the readouts' names, beside the engine that records them
from .spec import RunSpec

EVAL_BATCH = 1024


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


class Training:
    """One run, set up and ready to iterate: `for result in train(spec): ...`.

    `grid` (the 2-D boundary grid, or an image run's strip of test images) is known before the first epoch, so a caller can store it before the frames.
    `checkpoint()` after any epoch, and `train(spec, resume=that)` continues exactly where it
    stopped: same minibatch order, same random state, so the metrics equal an uninterrupted run's."""

    def __init__(
        self,
        spec: RunSpec,
        device: str = "auto",
        resume: dict[str, Any] | None = None,
        threads: int = 1,
        datasets: Path | None = None,
    ):
        self.spec = spec
        setup = build_setup([spec], device, threads, datasets)
        self.device = dev = setup.device
        self.data, self.val, self.grid = setup.data, setup.val, setup.grid
        self._x, self._y, self._counts = setup.x, setup.y, setup.counts
        self._weights = setup.weights(spec)
        # what the weights are worth in equally weighted examples, recorded with the train metrics
        self.effective_sample_size = setup.effective_sample_size(self._weights)
        self._snapshots, self._evaluated = setup.snapshots, setup.evaluated
        self.model = setup.model(spec).to(dev)
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
        self._svm, self._centres, self._bayes = setup.svm, setup.centres, setup.bayes
        self.effective_pos_weight = setup.effective_pos_weight(spec)  # what the nominal weight does here
        self.missing = setup.missing_for(spec)  # readout -> why it is not recorded
        self._intended = setup.intended(spec)
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
                spec.loss, self.model(as_input(self._x[idx])), y, self._counts, **spec.loss_params()
            )
            loss = reduce_weighted(losses, self._weights[idx] if weighted else torch.ones_like(losses), spec.loss_norm)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        if self.sched:
            self.sched.step()

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


def train(
    spec: RunSpec,
    device: str = "auto",
    resume: dict[str, Any] | None = None,
    threads: int = 1,
    datasets: Path | None = None,
) -> Training:
    """`device`, `threads` and `datasets`: the caller's configuration (`setup.build_setup`)."""
    return Training(spec, device, resume, threads, datasets)

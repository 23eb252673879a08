"""Train one run: iterating `train(spec)` yields an `EpochResult` per epoch (epoch 0 is the initial model).

Pure PyTorch: no Celery, database or HTTP here, so the CLI, the worker and the tests all drive the
same loop.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .data import Data2D, make_data
from .losses import example_weights, weighted_bce
from .metrics import split_metrics
from .models import make_model, param_norm
from .spec import RunSpec, frame_epochs


@dataclass(frozen=True)
class Grid:
    """The window on which the decision function is sampled, and the training points to draw on it."""

    xs: list[float]
    ys: list[float]
    points: list[tuple[float, float, int]]  # (x1, x2, label) of the training set

    MAX_POINTS = 2000  # enough to see the classes; more only slows the plot

    @classmethod
    def around(cls, data: Data2D, resolution: int) -> Grid:
        x0, x1, y0, y1 = data.bounds()
        keep = torch.randperm(len(data.y_train), generator=torch.Generator().manual_seed(0))[: cls.MAX_POINTS].sort().values
        x, y = data.x_train[keep].tolist(), data.y_train[keep].tolist()
        points = [(round(a, 4), round(b, 4), int(c)) for (a, b), c in zip(x, y)]
        return cls(np.linspace(x0, x1, resolution).tolist(), np.linspace(y0, y1, resolution).tolist(), points)

    def inputs(self) -> torch.Tensor:
        gx, gy = torch.meshgrid(torch.tensor(self.xs), torch.tensor(self.ys), indexing="xy")
        return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).float()


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    epochs: int
    metrics: dict[str, dict[str, float]]  # split -> metric -> value
    boundary: np.ndarray | None = None  # P(positive) on the grid, shape (len(ys), len(xs)), at frame epochs
    extra: dict[str, float] = field(default_factory=dict)


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("IWLAB_DEVICE=cuda but no CUDA device is available")
    return torch.device(name)


class Training:
    """One run, set up and ready to iterate: `for result in train(spec): ...`.

    `grid` is known before the first epoch, so a caller can store the window before the frames.
    `checkpoint()` after any epoch, and `train(spec, resume=that)` continues exactly where it
    stopped: same minibatch order, same random state, so the metrics equal an uninterrupted run's."""

    def __init__(self, spec: RunSpec, device: str | None = None, resume: dict[str, Any] | None = None):
        self.spec = spec
        self.device = dev = resolve_device(device or os.environ.get("IWLAB_DEVICE", "auto"))
        self.data = make_data(spec)
        self.grid = Grid.around(self.data, spec.grid)
        self._x_tr, self._y_tr = self.data.x_train.to(dev), self.data.y_train.to(dev)
        self._x_te, self._y_te = self.data.x_test.to(dev), self.data.y_test.to(dev)
        self._grid_x = self.grid.inputs().to(dev)
        self._w_tr = example_weights(self._y_tr, spec.pos_weight)
        self._snapshots = set(frame_epochs(spec.epochs, spec.frames))

        torch.manual_seed(spec.seed)
        self.model = make_model(spec).to(dev)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
        self._order = torch.Generator().manual_seed(spec.seed)
        self.epoch = 0  # epochs finished
        if resume is not None:
            self._restore(resume)

    def __iter__(self) -> Iterator[EpochResult]:
        if self.epoch == 0:
            yield self.evaluate()
        while self.epoch < self.spec.epochs:
            self._train_one_epoch()
            self.epoch += 1
            yield self.evaluate()

    def _train_one_epoch(self) -> None:
        spec, n = self.spec, len(self._y_tr)
        self.model.train()
        perm = torch.randperm(n, generator=self._order).to(self.device)
        for start in range(0, n, spec.batch_size):
            idx = perm[start : start + spec.batch_size]
            logits = self.model(self._x_tr[idx]).squeeze(1)
            loss = weighted_bce(logits, self._y_tr[idx], self._w_tr[idx], spec.loss_norm)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()

    @torch.no_grad()
    def evaluate(self) -> EpochResult:
        model = self.model.eval()
        metrics = {
            "train": split_metrics(model(self._x_tr).squeeze(1), self._y_tr),
            "test": split_metrics(model(self._x_te).squeeze(1), self._y_te),
        }
        metrics["train"]["param_norm"] = param_norm(model)
        boundary = None
        if self.epoch in self._snapshots:
            probs = torch.sigmoid(model(self._grid_x).squeeze(1))
            boundary = probs.reshape(len(self.grid.ys), len(self.grid.xs)).cpu().numpy()
        return EpochResult(self.epoch, self.spec.epochs, metrics, boundary)

    def checkpoint(self) -> dict[str, Any]:
        """Everything needed to continue after the current epoch (save it with `torch.save`)."""
        return {
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "order_rng": self._order.get_state(),
            "torch_rng": torch.get_rng_state(),
        }

    def _restore(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self._order.set_state(state["order_rng"])
        torch.set_rng_state(state["torch_rng"])


def train(spec: RunSpec, device: str | None = None, resume: dict[str, Any] | None = None) -> Training:
    return Training(spec, device, resume)

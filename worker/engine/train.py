"""Train one run: iterating `train(spec)` yields an `EpochResult` per epoch (epoch 0 is the initial model).

Pure PyTorch: no Celery, database or HTTP here, so the CLI, the worker and the tests all drive the
same loop.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

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

    `grid` is known before the first epoch, so a caller can store the window before the frames."""

    def __init__(self, spec: RunSpec, device: str | None = None):
        self.spec = spec
        self.device = resolve_device(device or os.environ.get("IWLAB_DEVICE", "auto"))
        self.data = make_data(spec)
        self.grid = Grid.around(self.data, spec.grid)

    def __iter__(self) -> Iterator[EpochResult]:
        spec, dev, data, grid = self.spec, self.device, self.data, self.grid
        x_tr, y_tr = data.x_train.to(dev), data.y_train.to(dev)
        x_te, y_te = data.x_test.to(dev), data.y_test.to(dev)
        grid_x = grid.inputs().to(dev)
        w_tr = example_weights(y_tr, spec.pos_weight)

        torch.manual_seed(spec.seed)
        model = make_model(spec).to(dev)
        opt = torch.optim.SGD(model.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
        order = torch.Generator().manual_seed(spec.seed)
        snapshots = set(frame_epochs(spec.epochs, spec.frames))

        @torch.no_grad()
        def evaluate(epoch: int) -> EpochResult:
            model.eval()
            metrics = {
                "train": split_metrics(model(x_tr).squeeze(1), y_tr),
                "test": split_metrics(model(x_te).squeeze(1), y_te),
            }
            metrics["train"]["param_norm"] = param_norm(model)
            boundary = None
            if epoch in snapshots:
                probs = torch.sigmoid(model(grid_x).squeeze(1))
                boundary = probs.reshape(len(grid.ys), len(grid.xs)).cpu().numpy()
            model.train()
            return EpochResult(epoch, spec.epochs, metrics, boundary)

        yield evaluate(0)
        n = len(y_tr)
        for epoch in range(1, spec.epochs + 1):
            perm = torch.randperm(n, generator=order).to(dev)
            for start in range(0, n, spec.batch_size):
                idx = perm[start : start + spec.batch_size]
                loss = weighted_bce(model(x_tr[idx]).squeeze(1), y_tr[idx], w_tr[idx], spec.loss_norm)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            yield evaluate(epoch)


def train(spec: RunSpec, device: str | None = None) -> Training:
    return Training(spec, device)

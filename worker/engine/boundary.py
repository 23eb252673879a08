"""2-D runs: the grid the decision function is drawn on, and the boundary's geometry per epoch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import Data


@dataclass(frozen=True)
class Grid:
    """The window on which the decision function is sampled, and the training points to draw on it."""

    xs: list[float]
    ys: list[float]
    points: list[tuple[float, float, int]]  # (x1, x2, label) of (up to MAX_POINTS) training points

    MAX_POINTS = 2000  # enough to see the classes; more only slows the plot

    @classmethod
    def around(cls, data: Data, resolution: int) -> Grid:
        x0, x1, y0, y1 = data.bounds()
        keep = (
            torch.randperm(len(data.y_train), generator=torch.Generator().manual_seed(0))[: cls.MAX_POINTS]
            .sort()
            .values
        )
        x, y = data.x_train[keep].tolist(), data.y_train[keep].tolist()
        points = [(round(a, 4), round(b, 4), int(c)) for (a, b), c in zip(x, y)]
        return cls(np.linspace(x0, x1, resolution).tolist(), np.linspace(y0, y1, resolution).tolist(), points)

    def inputs(self) -> torch.Tensor:
        gx, gy = torch.meshgrid(torch.tensor(self.xs), torch.tensor(self.ys), indexing="xy")
        return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).float()

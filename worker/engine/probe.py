"""Image runs: a fixed strip of test images whose P(positive) is recorded at the frame epochs, so the
dashboard can show, per epoch, which images the weight flips (2-D runs record the boundary grid).

The strip travels in the boundary grid's storage, so no table or endpoint is added: `xs` are the
images' indices in the test split, `ys` a single row, `points` each image's label followed by its
pixels as 0-255 integers (8x8 grey for digits, 3x32x32 for CIFAR and image folders), and a frame is
the (1, K) row of P(positive). The images depend on the data only (`data_seed`), never on the run's
weight or seed, so every run of an experiment records the same strip.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .boundary import Grid
from .data import Data
from .spec import RunSpec

SIZE = 24  # per class half of it: enough to find the flipped ones, small enough to send to a page


@dataclass(frozen=True)
class Probe:
    xs: list[float]  # the images' indices in the test split
    ys: list[float]  # one row
    points: list[list[int]]  # (label, *pixels 0-255)
    images: torch.Tensor

    @classmethod
    def of(cls, data: Data, size: int = SIZE) -> Probe:
        x, y = data.x_test, data.y_test
        order = torch.Generator().manual_seed(0)
        picked = [
            idx[torch.randperm(len(idx), generator=order)[: size // 2]]
            for idx in (torch.nonzero(y == c).flatten() for c in (0, 1))
        ]
        keep = torch.cat(picked).sort().values
        images = x[keep]
        pixels = images.flatten(1) if images.dtype == torch.uint8 else (images.flatten(1).clamp(0, 1) * 255).round()
        points = [[int(label), *row] for label, row in zip(y[keep].tolist(), pixels.to(torch.int64).tolist())]
        return cls([float(i) for i in keep.tolist()], [0.0], points, images)

    def inputs(self) -> torch.Tensor:
        return self.images


def recorder(data: Data, spec: RunSpec) -> Grid | Probe:
    """What a run's frames are taken on: the boundary grid (2-D) or the image strip."""
    return Grid.around(data, spec.grid) if spec.is_2d else Probe.of(data)

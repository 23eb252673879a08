"""The experiment spec: one pydantic model shared by the engine, the backend, the CLI and the dashboard.

A *run* is one training job (`RunSpec`, every parameter flat so that a sweep can vary any of them
and `runs.csv` gets one column per parameter). An *experiment* is a base run plus sweep axes; its
runs are the cartesian product of the axes.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

MAX_RUNS_PER_EXPERIMENT = 512

Dataset = Literal["blobs", "wang_gaussians", "moons"]
Model = Literal["logreg", "mlp"]


class RunSpec(BaseModel):
    """Everything one training run needs; defaults are the quick 2-D setting of PAPER.md."""

    model_config = ConfigDict(extra="forbid")

    # data: the positive class is the one whose weight varies
    dataset: Dataset = Field("blobs", description="2-D data set: truncated Gaussian blobs, Wang et al.'s 20-vs-200 Gaussians, or two moons")
    n_train: int = Field(100, ge=2, le=100_000, description="training points per class (wang_gaussians: 20 positive, 200 negative)")
    n_test: int = Field(500, ge=1, le=100_000, description="test points per class (the test split is balanced)")
    noise: float = Field(1.0, gt=0, le=10, description="standard deviation of each blob (moons: of the added noise, scaled by 0.1)")
    data_seed: int = Field(0, ge=0, description="seed of the data set; runs that share it share their data")
    # model
    model: Model = Field("logreg", description="logistic regression or a ReLU MLP")
    hidden: list[int] = Field(default_factory=lambda: [64], description="MLP hidden widths", min_length=1, max_length=8)
    # loss
    pos_weight: float = Field(1.0, gt=0, le=1e6, description="importance weight of the positive class (the negative class keeps 1)")
    loss_norm: Literal["sum", "mean"] = Field("sum", description="divide the weighted loss by the batch's sum of weights or by its size")
    # optimisation
    lr: float = Field(0.03, gt=0, le=100, description="SGD learning rate")
    batch_size: int = Field(8, ge=1, le=100_000, description="minibatch size")
    epochs: int = Field(200, ge=1, le=100_000, description="passes over the training set")
    weight_decay: float = Field(0.0, ge=0, le=10, description="L2 coefficient (coupled weight decay)")
    seed: int = Field(0, ge=0, description="seed of the initialisation and the minibatch order")
    # what to record
    frames: int = Field(24, ge=2, le=200, description="boundary snapshots, at log-spaced epochs")
    grid: int = Field(64, ge=8, le=400, description="boundary grid resolution per axis")

    @field_validator("hidden")
    @classmethod
    def _positive_widths(cls, widths: list[int]) -> list[int]:
        if any(w < 1 or w > 4096 for w in widths):
            raise ValueError("every hidden width must be between 1 and 4096")
        return widths


SWEEPABLE = tuple(RunSpec.model_fields)


class ExperimentSpec(BaseModel):
    """A base run and the axes to sweep; `runs()` expands them."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("untitled", min_length=1, max_length=200)
    base: RunSpec = Field(default_factory=RunSpec)
    sweep: dict[str, list[Any]] = Field(
        default_factory=lambda: {"pos_weight": [0.1, 1.0, 10.0], "seed": [0]},
        description="parameter name -> values; the runs are the cartesian product",
    )

    @model_validator(mode="after")
    def _check_sweep(self) -> ExperimentSpec:
        count = 1
        for name, values in self.sweep.items():
            if name not in SWEEPABLE:
                raise ValueError(f"sweep.{name}: not a run parameter (choose from {', '.join(SWEEPABLE)})")
            if not values:
                raise ValueError(f"sweep.{name}: needs at least one value")
            count *= len(values)
        if count > MAX_RUNS_PER_EXPERIMENT:
            raise ValueError(f"sweep: {count} runs, more than the limit of {MAX_RUNS_PER_EXPERIMENT}")
        self.runs()  # every combination must itself be a valid run
        return self

    def runs(self) -> list[RunSpec]:
        base = self.base.model_dump()
        names = list(self.sweep)
        runs = []
        for combo in itertools.product(*(self.sweep[n] for n in names)):
            try:
                runs.append(RunSpec.model_validate(base | dict(zip(names, combo))))
            except ValidationError as err:
                first = err.errors()[0]
                field = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"sweep.{field}: {first['msg']}") from None
        return runs


def frame_epochs(epochs: int, frames: int) -> list[int]:
    """Log-spaced epochs (always 0, 1 and the last) at which the boundary is recorded."""
    if epochs <= 1:
        return list(range(epochs + 1))
    points = {0, 1, epochs}
    for k in range(frames - 1):
        points.add(round(math.exp(math.log(epochs) * k / (frames - 2))) if frames > 2 else epochs)
    return sorted(p for p in points if 0 <= p <= epochs)

"""Which program trains a group of runs: the batched engine for logreg and MLPs, the grouped one
for ConvNets, the per-run engine for anything `why_not_batchable` refuses.

Here, above both batched.py and grouped.py (which builds on it), so that neither imports the other
to choose.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .batched import BatchedTraining, can_batch
from .grouped import GroupedTraining
from .spec import RunSpec
from .train import EpochResult, train


def batched_training(
    specs: list[RunSpec], device: str = "auto", threads: int = 1, datasets: Path | None = None
) -> BatchedTraining:
    """The batched program for `specs` (see `why_not_batchable`): stacked linear layers for logreg
    and MLPs, one vmapped (grouped-convolution) network for ConvNets. `device`, `threads`,
    `datasets`: the caller's configuration (`setup.build_setup`)."""
    if specs and specs[0].model == "convnet":
        return GroupedTraining(specs, device, threads, datasets)
    return BatchedTraining(specs, device, threads, datasets)


def train_batched(
    specs: list[RunSpec], device: str = "auto", threads: int = 1, datasets: Path | None = None
) -> Iterator[list[EpochResult]]:
    """Per evaluated epoch, one `EpochResult` per spec (in order). Batchable specs train as one
    program; otherwise (see `why_not_batchable`) each run trains on its own and the results are
    zipped epoch by epoch, so callers see the same shape either way."""
    if can_batch(specs):
        yield from batched_training(specs, device, threads, datasets)
        return
    yield from (list(results) for results in zip(*(train(s, device, None, threads, datasets) for s in specs)))

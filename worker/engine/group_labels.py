"""Group labels (a table's `group_column`, or dataset spurious's label x attribute): kept beside the
data as one group index per example of each split, and `group_weights` applied to the training split.

inverse_frequency weighs each training example by N / (G n_g), n_g its group's size and G the
groups present, so the weights average 1 and every group weighs as much as any other in the
objective; they multiply any per-example weights (and the trainer's class weights, like those).
subsample keeps, per data_seed, a random min_g n_g examples of every group (Idrissi et al. 2022):
the same balance by dropping data instead of weighting it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import torch

from .table import class_order

if TYPE_CHECKING:
    from .data import Data

NO_GROUPS = "the table has no group labels (give group_column to record per-group and worst-group accuracy)"


def attach(data: Data, labels: dict[str, np.ndarray], group_weights: str, seed: int) -> Data:
    """`data` with its group labels (split -> one name per example; "train": the training split),
    then `group_weights` applied. Groups are ordered as classes are (numerically where all are numbers)."""
    names = class_order({str(v) for values in labels.values() for v in values})
    index = {name: i for i, name in enumerate(names)}
    groups = {
        split: torch.as_tensor([index[str(v)] for v in values], dtype=torch.int64) for split, values in labels.items()
    }
    data = dataclasses.replace(data, groups=groups, group_names=names)
    if group_weights == "inverse_frequency":
        return _inverse_frequency(data)
    if group_weights == "subsample":
        return _subsample(data, seed)
    return data


def _inverse_frequency(data: Data) -> Data:
    g = data.groups["train"]
    counts = torch.bincount(g, minlength=len(data.group_names)).double()
    w = (len(g) / (int((counts > 0).sum()) * counts[g])).float()
    return dataclasses.replace(data, w_train=w if data.w_train is None else data.w_train * w)


def _subsample(data: Data, seed: int) -> Data:
    g = data.groups["train"].numpy()
    present = np.unique(g)
    keep = min(int((g == k).sum()) for k in present)
    rng = np.random.default_rng([seed, 9])
    idx = torch.from_numpy(np.sort(np.concatenate([rng.permutation(np.flatnonzero(g == k))[:keep] for k in present])))
    return dataclasses.replace(
        data,
        x_train=data.x_train[idx],
        y_train=data.y_train[idx],
        w_train=None if data.w_train is None else data.w_train[idx],
        groups=data.groups | {"train": data.groups["train"][idx]},
    )


def missing(spec, data: Data) -> dict[str, str]:
    """worst_group_acc -> why it is not recorded, for a table without group labels. Data sets that
    never carry groups (the 2-D sets, images) do not define it at all: nothing to explain there."""
    return {"worst_group_acc": NO_GROUPS} if spec.dataset == "table" and not data.group_names else {}

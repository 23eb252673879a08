"""One data set per run: training examples, evaluation splits, class counts.

The built-in data sets are binary, label 1 the positive class, the one whose importance weight
varies; a table (`table.py`) has any number of classes and may carry per-example weights. Images stay uint8 until a
batch is fed to the model (`as_input`), so a 10,000-image training set costs 30 MB, not 120.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .images import DatasetError, cifar10, image_folder
from .spec import RunSpec
from .synthetic import make_2d, make_spurious

Eval = tuple[torch.Tensor, torch.Tensor | None]  # (x, y); y is None for unlabelled sets (noise, out of domain)


@dataclass(frozen=True)
class Data:
    x_train: torch.Tensor  # float32 (N, d), or uint8 (N, 3, 32, 32)
    y_train: torch.Tensor  # int64 in {0, ..., K - 1}
    evals: dict[str, Eval] = field(default_factory=dict)  # split name -> examples
    classes: tuple[str, ...] = ("neg", "pos")
    w_train: torch.Tensor | None = None  # per-example importance weights (tables), before weight_power
    # group labels (group_labels.py): split -> the group index of each example ("train": x_train's)
    groups: dict[str, torch.Tensor] = field(default_factory=dict)
    group_names: tuple[str, ...] = ()

    @property
    def counts(self) -> torch.Tensor:
        """Training examples per class (negative, positive for binary data), as float."""
        return torch.bincount(self.y_train, minlength=len(self.classes)).float()

    @property
    def x_test(self) -> torch.Tensor:
        return self.evals["test"][0]

    @property
    def y_test(self) -> torch.Tensor:
        y = self.evals["test"][1]
        if y is None:  # only out-of-domain and noise sets are unlabelled
            raise ValueError("the test split has no labels")
        return y

    def bounds(self, pad: float = 0.15) -> tuple[float, float, float, float]:
        """2-D only: a window around every point (x0, x1, y0, y1)."""
        pts = torch.cat([self.x_train, self.x_test])
        lo, hi = pts.min(0).values, pts.max(0).values
        margin = (hi - lo) * pad
        lo, hi = lo - margin, hi + margin
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def _pair(classes: list[str]) -> tuple[str, ...]:
    return tuple(classes)  # RunSpec checks there are two, or for images at least two


def as_input(x: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float in [-1, 1] (mean 0.5, sd 0.5, as in the paper); features pass through."""
    return (x.float() / 127.5 - 1.0) if x.dtype == torch.uint8 else x


def make_data(spec: RunSpec, root: Path | None = None) -> Data:
    """The same data parameters and `data_seed` always give the same examples, whatever the run's seed.
    `root`: the folder of downloaded data sets and the decode cache (None: no folder given, so image
    data need a data_path and are decoded once per process)."""
    if spec.is_2d:
        x_tr, y_tr, x_te, y_te = make_2d(spec)
        data = Data(_f32(x_tr), _i64(y_tr), {"test": (_f32(x_te), _i64(y_te))}, _pair(spec.classes))
    elif spec.dataset == "table":
        return _table(spec)
    elif spec.dataset == "covariate_shift":
        return _shifted(spec)
    elif spec.dataset == "spurious":
        return _spurious(spec)
    elif spec.dataset == "digits":
        data = _digits(spec)
    else:
        data = _images(spec, root)
    return _flip_labels(_imbalance(data, spec), spec.label_noise, spec.data_seed)


def _f32(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=torch.float32)


def _i64(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=torch.int64)


def _pick(rng: np.random.Generator, labels: np.ndarray, label: int, n: int) -> np.ndarray:
    """Up to n indices of one class, a seeded random subset (sorted, so order never depends on n)."""
    idx = np.flatnonzero(labels == label)
    return np.sort(rng.permutation(idx)[:n])


def _binary(rng, x: np.ndarray, y: np.ndarray, labels: tuple[int, ...], n: int) -> tuple[np.ndarray, np.ndarray]:
    """n examples of each class (balanced: as many as the rarest has), relabelled 0, 1, ..."""
    picked = [_pick(rng, y, label, n) for label in labels]
    n = min(len(p) for p in picked)
    idx = np.concatenate([p[:n] for p in picked])
    return x[idx], np.concatenate([np.full(n, c, np.int64) for c in range(len(labels))])


def _digits(spec: RunSpec) -> Data:
    from sklearn.datasets import load_digits  # ships its data: works offline

    digits = load_digits()
    x, y = digits.data.astype(np.float32) / 16.0, digits.target
    labels = (int(spec.classes[0]), int(spec.classes[1]))
    rng = np.random.default_rng([spec.data_seed, 2])
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    # a third of each class is held out as the balanced test split (digits has ~180 per class)
    test_mask = np.zeros(len(y), bool)
    for label in labels:
        idx = np.flatnonzero(y == label)
        test_mask[idx[: len(idx) // 3]] = True
    x_tr, y_tr = _binary(rng, x[~test_mask], y[~test_mask], labels, spec.n_train)
    x_te, y_te = _binary(rng, x[test_mask], y[test_mask], labels, spec.n_test)
    return Data(_f32(x_tr), _i64(y_tr), {"test": (_f32(x_te), _i64(y_te))}, _pair(spec.classes))


def _table(spec: RunSpec) -> Data:
    from . import group_labels, shift, table

    for name, path in (("dataset_id", "data_path"), ("target_dataset_id", "target_path")):
        if getattr(spec, name) is not None and not getattr(spec, path):  # a worker puts the store's copy in the path
            raise DatasetError(
                f"{name} {getattr(spec, name)}: uploaded datasets are read by the lab's workers (iwlab submit), not in-process"
            )
    t = table.parse(spec)
    x_train, x_test, x_target = table.standardise(t.x_train, t.x_test, t.x_target)
    assert x_train is not None and x_test is not None  # standardise passes arrays through as arrays
    w = None
    if spec.per_example == "column":
        w = t.w_train
    elif spec.per_example == "estimated" and x_target is not None:  # the spec requires a target sample
        w = shift.density_ratio(x_train, x_target)
    weights = None if w is None else _f32(shift.finish(w, spec.weight_clip, spec.weight_normalise))
    evals: dict[str, Eval] = {"test": (_f32(x_test), _i64(t.y_test))}
    if x_target is not None:
        evals["target"] = (_f32(x_target), None if t.y_target is None else _i64(t.y_target))
    data = Data(_f32(x_train), _i64(t.y_train), evals, t.classes, weights)
    if t.g_train is None or t.g_test is None:
        return data
    return group_labels.attach(data, {"train": t.g_train, "test": t.g_test}, spec.group_weights, spec.data_seed)


def _spurious(spec: RunSpec) -> Data:
    """Groups: class x whether the spurious feature agrees with it (synthetic.make_spurious)."""
    from . import group_labels

    x_tr, y_tr, agree_tr, x_te, y_te, agree_te = make_spurious(spec)
    data = Data(_f32(x_tr), _i64(y_tr), {"test": (_f32(x_te), _i64(y_te))}, _pair(spec.classes))
    names = {
        split: np.asarray([f"{spec.classes[c]}.{'agree' if a else 'disagree'}" for c, a in zip(y, agree)])
        for split, y, agree in (("train", y_tr, agree_tr), ("test", y_te, agree_te))
    }
    return group_labels.attach(data, names, spec.group_weights, spec.data_seed)


def _shifted(spec: RunSpec) -> Data:
    from . import shift

    d = shift.shifted_2d(spec.n_train, spec.n_test, spec.data_seed)
    w = {"given": d["w_given"], "estimated": None, "none": None, "auto": None}[spec.example_weights]
    if spec.example_weights == "estimated":
        w = shift.density_ratio(d["x_train"], d["x_unlabelled"])
    weights = None if w is None else _f32(shift.finish(w, spec.weight_clip, spec.weight_normalise))
    evals: dict[str, Eval] = {
        "test": (_f32(d["x_test"]), _i64(d["y_test"])),
        "target": (_f32(d["x_target"]), _i64(d["y_target"])),
    }
    return Data(_f32(d["x_train"]), _i64(d["y_train"]), evals, _pair(spec.classes), weights)


def _images(spec: RunSpec, root: Path | None) -> Data:
    if spec.dataset_id is not None and not spec.data_path:  # a worker puts the store's copy in data_path
        raise DatasetError(
            f"dataset_id {spec.dataset_id}: uploaded datasets are read by the lab's workers (iwlab submit), not in-process"
        )
    splits, names = (
        cifar10(spec.data_path, root) if spec.dataset == "cifar10" else image_folder(spec.data_path or "", root)
    )
    missing = [c for c in spec.classes if c not in names]
    if missing:
        raise DatasetError(f"classes: {', '.join(missing)} not in the data set (it has {', '.join(names)})")
    labels = tuple(names.index(c) for c in spec.classes)
    rng = np.random.default_rng([spec.data_seed, 3])
    (x_tr_all, y_tr_all), (x_te_all, y_te_all) = splits["train"], splits["test"]
    x_tr, y_tr = _binary(rng, x_tr_all, y_tr_all, labels, spec.n_train)
    x_te, y_te = _binary(rng, x_te_all, y_te_all, labels, spec.n_test)
    evals: dict[str, Eval] = {"test": (torch.from_numpy(np.ascontiguousarray(x_te)), _i64(y_te))}
    others = np.sort(rng.permutation(np.flatnonzero(~np.isin(y_te_all, labels)))[: spec.ood])
    if len(others):
        evals["ood"] = (torch.from_numpy(np.ascontiguousarray(x_te_all[others])), None)
    if spec.noise_images:
        noise = np.random.default_rng([spec.data_seed, 4]).integers(
            0, 256, (spec.noise_images, 3, 32, 32), dtype=np.uint8
        )
        evals["noise"] = (torch.from_numpy(noise), None)
    return Data(torch.from_numpy(np.ascontiguousarray(x_tr)), _i64(y_tr), evals, _pair(spec.classes))


def _imbalance(data: Data, spec: RunSpec) -> Data:
    """Sub-sample the positive class to n_neg / imbalance (the paper's 1:4 and 1:16 settings)."""
    if spec.imbalance == 1:
        return data
    rng = np.random.default_rng([spec.data_seed, 5])
    y = data.y_train.numpy()
    if len(data.classes) > 2:
        return _long_tail(data, spec.imbalance, rng)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    keep_pos = np.sort(rng.permutation(pos)[: max(1, round(len(neg) / spec.imbalance))])
    idx = torch.from_numpy(np.sort(np.concatenate([neg, keep_pos])))
    return Data(data.x_train[idx], data.y_train[idx], data.evals, data.classes)


def _long_tail(data: Data, ratio: float, rng: np.random.Generator) -> Data:
    """Cao et al.'s exponential profile: class c of K keeps n_0 * ratio ** (-c / (K - 1)) examples,
    so the first class is the largest and the last `ratio` times smaller (for two classes this is
    `_imbalance`'s positive class at n_neg / ratio)."""
    y, k = data.y_train.numpy(), len(data.classes)
    n0 = int((y == 0).sum())
    keep = [
        np.sort(rng.permutation(np.flatnonzero(y == c))[: max(1, round(n0 * ratio ** (-c / (k - 1))))])
        for c in range(k)
    ]
    idx = torch.from_numpy(np.sort(np.concatenate(keep)))
    return Data(data.x_train[idx], data.y_train[idx], data.evals, data.classes)


def _flip_labels(data: Data, share: float, seed: int) -> Data:
    """Flip a seeded share of the training labels: the classes then overlap, so a net that fits
    every label memorises noise and its validation loss turns up (what early stopping needs)."""
    if share == 0:
        return data
    y = data.y_train.clone()
    flip = torch.from_numpy(np.random.default_rng([seed, 7]).permutation(len(y))[: round(share * len(y))])
    y[flip] = 1 - y[flip]
    return Data(data.x_train, y, data.evals, data.classes)


def split_validation(data: Data, fraction: float, seed: int) -> tuple[Data, Eval]:
    """Hold out a stratified share of the training set (for early stopping)."""
    rng = np.random.default_rng([seed, 6])
    y = data.y_train.numpy()
    val = np.concatenate(
        [
            rng.permutation(np.flatnonzero(y == c))[: max(1, int(fraction * (y == c).sum()))]
            for c in range(len(data.classes))
        ]
    )
    mask = np.ones(len(y), bool)
    mask[val] = False
    train_idx, val_idx = torch.from_numpy(np.flatnonzero(mask)), torch.from_numpy(np.sort(val))
    w = None if data.w_train is None else data.w_train[train_idx]
    groups = data.groups
    if "train" in groups:  # the held-out examples keep their groups, as split "val"
        groups = groups | {"train": groups["train"][train_idx], "val": groups["train"][val_idx]}
    trimmed = Data(
        data.x_train[train_idx], data.y_train[train_idx], data.evals, data.classes, w, groups, data.group_names
    )
    return trimmed, (data.x_train[val_idx], data.y_train[val_idx])

"""Long-tailed CIFAR-10, all ten classes: plain cross-entropy against the remedies for a long tail,
read by balanced and per-class accuracy on the balanced test set.

The arms are Cao et al.'s table crossed with logit adjustment: loss (CE, LDAM, logit-adjusted) x
deferred re-weighting (none, or Cui et al.'s effective-number class weights, beta 0.9999, from
`QUICK_DRW` / `FULL_DRW` on). CE-DRW is the "CE + class weights" arm: weights switched on once the features have
been learnt, the way Cao et al. found them to help; LDAM-DRW is theirs; LA (Menon et al.) needs
no weights. The training set is the exponential profile of data.py's `_long_tail`: class c keeps
n_train * imbalance ** (-c / 9) images (airplane the largest, truck `imbalance` times smaller).
Tail: the three smallest classes.

Arms share `seed` (initialisation and minibatch order) and the data, so every comparison is paired
over seeds, with its n and 95% t-interval (stats.paired).
"""

from __future__ import annotations

from typing import Any

from .. import stats
from ..outcome import Check, Outcome
from ..spec import CIFAR10_CLASSES, ExperimentSpec
from .base import Preset, experiment

CAO = "Cao, Wei, Gaidon, Arechiga & Ma, NeurIPS 2019"
MENON = "Menon, Jayasumana, Rawat, Jain, Veit & Kumar, ICLR 2021"
CUI = "Cui, Jia, Lin, Song & Belongie, CVPR 2019"
TAIL = CIFAR10_CLASSES[-3:]  # the smallest classes of the profile: horse, ship, truck

# Quick: an MLP on the pixels, 300 airplanes down to 30 trucks (1,226 images), 500 test images per
# class (with 100, one draw of three seeds in seven had LA's balanced-accuracy gain at +0.012, the
# readout's noise), 20 epochs of SGD with momentum at a constant rate: Cao's step schedule cuts the
# rate by 100 where DRW starts and leaves the re-weighting little to move (measured, 30 epochs, 3
# seeds: LDAM-DRW minus CE -0.026 to +0.009 in balanced accuracy). Every run ended at train
# accuracy 0.84-0.99 (21 seeds), LDAM and the DRW arms lowest.
QUICK_DRW = 12
QUICK = {
    "dataset": "cifar10", "classes": list(CIFAR10_CLASSES), "model": "mlp", "hidden": [256],
    "n_train": 300, "n_test": 500, "ood": 0, "lr": 0.01, "momentum": 0.9,
    "weight_decay": 2e-4, "batch_size": 64, "epochs": 20, "eval_points": 5,
}  # fmt: skip
# Full: Cao et al.'s CIFAR-10-LT setting as far as the engine goes: 5,000 head images, imbalance 100
# and 10, 200 epochs of SGD (lr 0.1, momentum 0.9, weight decay 2e-4, batch 128), their step
# schedule (warm-up over 5 epochs, x0.01 at 160, x0.0001 at 180) and DRW at 160, the full balanced
# test set. What differs: the engine's ResNet has 6 basic blocks of width 16/32/64 (a ResNet-14,
# not their ResNet-32), there is no random-crop / flip augmentation, and CI's images are JPEG
# re-encodings (../shared/data); so expect lower accuracies than their table, not other orderings.
FULL_DRW = 160
FULL = QUICK | {
    "model": "resnet", "width": 16, "batchnorm": True, "n_train": 5000, "n_test": 1000, "lr": 0.1,
    "batch_size": 128, "epochs": 200, "schedule": "step", "eval_points": 40,
}  # fmt: skip
ARMS = {"CE": ("ce", None), "CE-DRW": ("ce", "drw"), "LDAM-DRW": ("ldam", "drw"), "LA": ("la", None)}


def _arm(o: Outcome, name: str, metric: str) -> dict[tuple, float]:
    """(imbalance, data_seed, seed) -> the arm's test metric at the end (tail_acc: mean recall over
    the TAIL classes); the arms' runs with equal keys share their data and initialisation."""
    loss, drw = ARMS[name]
    runs = [(s, h) for s, h in o.where(loss=loss).runs if (s.drw_epoch is None) == (drw is None)]
    if metric == "tail_acc":
        return {_key(s): sum(o.value(h, "end", "test", f"acc_{c}") for c in TAIL) / len(TAIL) for s, h in runs}
    return {_key(s): o.value(h, "end", "test", metric) for s, h in runs}


def _key(spec) -> tuple:
    return spec.imbalance, spec.data_seed, spec.seed


def gain(arm: str, metric: str, limit: float, imbalance: float | None = None) -> Check:
    """An arm's test metric minus plain CE's at the end, paired over seeds (and data draws; at one
    imbalance ratio, or pooled over those swept); met when the mean gain is >= limit (shown with n
    and its 95% interval)."""

    def run(o: Outcome) -> tuple[bool, str]:
        o = o.where(imbalance=imbalance) if imbalance is not None else o
        ce, other = _arm(o, "CE", metric), _arm(o, arm, metric)
        seeds = sorted(set(ce) & set(other))
        p = stats.paired([ce[s] for s in seeds], [other[s] for s in seeds])
        return p.mean_diff >= limit, stats.shown(p)

    what = "tail-class accuracy (horse, ship, truck)" if metric == "tail_acc" else "balanced accuracy"
    at = f" (imbalance {imbalance:g})" if imbalance is not None else ""
    return Check(f"{arm} minus CE, test {what} at the end, paired over seeds{at} >= {limit}", run)


def _experiment(name: str, drw: int, imbalances: list[float], seeds: list[int], **base: Any) -> ExperimentSpec:
    sweep: dict[str, list[Any]] = {
        "imbalance": imbalances,
        "loss": ["ce", "ldam", "la"],
        "drw_epoch": [None, drw],
        "seed": seeds,
    }
    return experiment(name, sweep, **base)


CIFAR10_LT = Preset(
    name="cifar10-lt",
    title="Long-tailed CIFAR-10: logit adjustment and deferred class weights beat plain cross-entropy",
    claim="Trained on a long-tailed CIFAR-10 (imbalance 100 or 10), cross-entropy favours the head classes; "
    "class weights by the effective number of examples (Cui et al.), LDAM with deferred re-weighting (Cao et al.) "
    "and logit adjustment (Menon et al.) each raise the balanced test accuracy over plain CE, mostly by raising "
    "the tail classes' accuracy (CIFAR-10-LT at imbalance 100, balanced test error: CE 29.64%, LDAM-DRW 22.97% in "
    "Cao et al.; logit-adjusted loss 22.33% in Menon et al.).",
    source=f"{CAO}; {MENON}; {CUI}",
    full=_experiment("cifar10-lt", FULL_DRW, [100.0, 10.0], [0, 1, 2, 3, 4], **FULL),
    quick=_experiment("cifar10-lt (quick)", QUICK_DRW, [10.0], [0, 1, 2], **QUICK),
    # The full variant: not run yet (a GPU's work); its limits are about half the published gaps, since
    # this engine's ResNet is shallower and trains without augmentation. Published balanced test error,
    # imbalance 100 / 10: CE 29.64% / 13.61%, LDAM-DRW 22.97% / 11.84% (Cao et al., Table 2); the
    # logit-adjusted loss 22.33% at 100 (Menon et al.). CE-DRW's limit is ours (no published number used).
    expected=(
        gain("LA", "balanced_acc", 0.03, imbalance=100.0),
        gain("LDAM-DRW", "balanced_acc", 0.03, imbalance=100.0),
        gain("CE-DRW", "balanced_acc", 0.01, imbalance=100.0),
        gain("LA", "balanced_acc", 0.005, imbalance=10.0),
        gain("LDAM-DRW", "balanced_acc", 0.005, imbalance=10.0),
        gain("LA", "tail_acc", 0.1, imbalance=100.0),
        gain("LDAM-DRW", "tail_acc", 0.1, imbalance=100.0),
    ),
    # The quick variant (CPU size) shows logit adjustment's and the deferred CE weights' gains in
    # balanced accuracy and every remedy's in the tail; LDAM-DRW's balanced-accuracy gain is too small
    # there to test (-0.007 to +0.013 per draw of three seeds: its tail gain is paid for by the head),
    # so the quick variant is an illustration and the full one carries that claim. Limits: under
    # the smallest of 7 offline draws (seeds 0-17 on data seeds 0-5, docs/reproduction.md): LA +0.029
    # and CE-DRW +0.012 balanced; tail LA +0.157, CE-DRW +0.058, LDAM-DRW +0.088.
    quick_expected=(
        gain("LA", "balanced_acc", 0.02),
        gain("CE-DRW", "balanced_acc", 0.005),
        gain("LA", "tail_acc", 0.1),
        gain("CE-DRW", "tail_acc", 0.03),
        gain("LDAM-DRW", "tail_acc", 0.05),
    ),
    needs="cifar10",
    tags=("CIFAR", "remedies", "many classes"),
)

PRESETS = [CIFAR10_LT]

"""One-click reproductions of Byrd & Lipton (2019) and the remedies since, each with a quick variant
that runs on 2 CPU cores in under 2 minutes and checks, by machine, what the paper predicts.

Settings come from PAPER.md: the paper's where it states them, the reproductions' where it does not
(marked "(?)" there), and the prototype's for the quick variants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .outcome import (
    Check,
    Outcome,
    all_fit,
    compare,
    not_degenerate,
    ordered_by_weight,
    spread_at_least,
    spread_at_most,
    spread_shrinks,
)
from .spec import ExperimentSpec, RunSpec

PAPER = "Byrd & Lipton, ICML 2019 (arXiv 1812.03372)"
WANG = "Wang, Chatterji, Haque & Hashimoto, ICLR 2022"
POWERS_OF_4 = [4.0**k for k in range(-4, 5)]  # 1/256 .. 256
TENFOLD = [0.1, 1.0, 10.0]
SIXTEENFOLD = [1 / 16, 1.0, 16.0]


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    claim: str  # what the source reports, in one or two sentences
    source: str
    full: ExperimentSpec
    quick: ExperimentSpec
    expected: tuple[Check, ...] = ()
    needs: str | None = None  # a data set that must be downloaded first
    tags: tuple[str, ...] = field(default=())

    def spec(self, quick: bool) -> ExperimentSpec:
        return self.quick if quick else self.full


def experiment(name: str, sweep: dict[str, list[Any]], **base: Any) -> ExperimentSpec:
    return ExperimentSpec(name=name, base=RunSpec(**base), sweep=sweep)


SYNTH = {"dataset": "blobs", "n_train": 100, "n_test": 500, "batch_size": 8}
SYNTH_LR = SYNTH | {"model": "logreg", "lr": 0.03}
SYNTH_MLP = SYNTH | {"model": "mlp", "hidden": [64], "lr": 0.01}
CIFAR_QUICK = {
    "dataset": "cifar10", "classes": ["cat", "dog"], "model": "convnet", "width": 16, "n_train": 250, "n_test": 500,
    "lr": 0.1, "batch_size": 16, "epochs": 100, "ood": 1000, "noise_images": 500,
}  # fmt: skip
CIFAR_FULL = CIFAR_QUICK | {"width": 64, "n_train": 5000, "n_test": 1000, "epochs": 1000, "ood": 8000, "noise_images": 1000}
FADES = (spread_at_least(0.3, epoch=1), spread_at_most(0.05), spread_shrinks(0.1), all_fit(0.99))


def _offset_shift(loss: str):
    """How far weighting moves the boundary at the end: offset(w=10) - offset(w=1), seed means."""

    def measure(o: Outcome) -> float:
        offsets = o.where(loss=loss).by_weight("end", "geometry", "offset")
        return abs(offsets[max(offsets)] - offsets[min(offsets)])

    return measure


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "bl-synth-linear",
            "Logistic regression on separable 2-D data",
            "Weights move the boundary at first; once the data are separated, gradient descent drifts to the "
            "max-margin solution whatever the weights, so the effect fades like 1/log t.",
            PAPER + "; Soudry et al. 2018",
            full=experiment("bl-synth-linear", {"pos_weight": POWERS_OF_4, "seed": [0, 1, 2, 3, 4]}, **SYNTH_LR, epochs=10_000),
            quick=experiment("bl-synth-linear (quick)", {"pos_weight": TENFOLD, "seed": [0, 1, 2]}, **SYNTH_LR, epochs=200),
            expected=FADES,
            tags=("2-D", "paper"),
        ),
        Preset(
            "bl-synth-mlp",
            "An MLP on separable 2-D data",
            "Same picture for an over-parameterised net: fraction predicted positive 0.76 (x10) vs 0.03 (/10) at "
            "epoch 1 in one reproduction, 0.50 for both from epoch 10 on.",
            PAPER + "; NYU reproduction",
            full=experiment("bl-synth-mlp", {"pos_weight": POWERS_OF_4, "seed": [0, 1, 2, 3, 4]}, **SYNTH_MLP, epochs=10_000),
            quick=experiment("bl-synth-mlp (quick)", {"pos_weight": TENFOLD, "seed": [0, 1, 2]}, **SYNTH_MLP, epochs=300),
            expected=FADES,
            tags=("2-D", "paper"),
        ),
        Preset(
            "bl-synth-l2",
            "L2 keeps the weights' effect",
            "With weight decay the gap between weights stays: the regularised optimum depends on the weights.",
            PAPER,
            full=experiment("bl-synth-l2", {"pos_weight": POWERS_OF_4, "weight_decay": [0.0, 0.01, 0.1], "seed": [0, 1, 2, 3, 4]}, **SYNTH_LR, epochs=10_000),
            quick=experiment("bl-synth-l2 (quick)", {"pos_weight": TENFOLD, "weight_decay": [0.0, 0.1], "seed": [0, 1]}, **SYNTH_LR, epochs=200),
            expected=(
                spread_at_least(0.1, where={"weight_decay": 0.1}),
                ordered_by_weight(where={"weight_decay": 0.1}),
                not_degenerate(0.75, where={"weight_decay": 0.1}),
                spread_at_most(0.05, where={"weight_decay": 0.0}),
            ),
            tags=("2-D", "paper", "regularisation"),
        ),
        Preset(
            "bl-synth-dropout",
            "Dropout does not keep the effect",
            "Dropout regularises, but the weights' effect still fades once the training data are fit.",
            PAPER,
            full=experiment("bl-synth-dropout", {"pos_weight": POWERS_OF_4, "seed": [0, 1, 2, 3, 4]}, **SYNTH_MLP, dropout=0.5, epochs=10_000),
            quick=experiment("bl-synth-dropout (quick)", {"pos_weight": TENFOLD, "seed": [0, 1, 2]}, **SYNTH_MLP, dropout=0.5, epochs=300),
            expected=(spread_at_least(0.3, epoch=1), spread_at_most(0.05), all_fit(0.99)),
            tags=("2-D", "paper", "regularisation"),
        ),
        Preset(
            "bl-synth-batchnorm",
            "BatchNorm: an open question",
            "The paper reports that BatchNorm keeps some of the effect; one reproduction saw the opposite. "
            "This preset measures it rather than assuming either.",
            PAPER,
            full=experiment("bl-synth-batchnorm", {"pos_weight": POWERS_OF_4, "batchnorm": [False, True], "seed": [0, 1, 2, 3, 4]}, **SYNTH_MLP, epochs=10_000),
            quick=experiment("bl-synth-batchnorm (quick)", {"pos_weight": TENFOLD, "batchnorm": [False, True], "seed": [0, 1]}, **SYNTH_MLP, epochs=300),
            # measured here: with BatchNorm (and no L2) the effect fades too, as one reproduction saw
            expected=(all_fit(0.99), spread_at_least(0.3, epoch=1, where={"batchnorm": False}), spread_at_most(0.05, where={"batchnorm": True})),
            tags=("2-D", "paper", "regularisation"),
        ),
        Preset(
            "digits-pair",
            "Handwritten digits 3 vs 5",
            "Real data that any machine has offline: an MLP fits it in seconds and the weights' effect fades.",
            "iwlab prototype (PAPER.md)",
            full=experiment("digits-pair", {"pos_weight": POWERS_OF_4, "seed": [0, 1, 2]}, dataset="digits", model="mlp", hidden=[128, 128], lr=0.1, batch_size=16, epochs=1000, n_train=1000, n_test=1000),
            quick=experiment("digits-pair (quick)", {"pos_weight": SIXTEENFOLD, "seed": [0, 1]}, dataset="digits", model="mlp", hidden=[128, 128], lr=0.1, batch_size=16, epochs=300, n_train=1000, n_test=1000),
            expected=(spread_at_least(0.5, epoch=1), spread_at_most(0.05), all_fit(0.99)),
            tags=("real data",),
        ),
        Preset(
            "wang-two-gaussians",
            "20 vs 200 Gaussians: CE forgets the weights, the polynomially-tailed loss does not",
            "With the polynomially-tailed loss, weights keep moving the boundary at interpolation; with CE "
            "the shift keeps shrinking. frac_pred_pos barely differs, so read the boundary offset.",
            WANG,
            full=experiment("wang-two-gaussians", {"loss": ["ce", "poly"], "pos_weight": [1.0, 10.0]}, dataset="wang_gaussians", n_train=200, n_test=500, model="logreg", lr=1.0, batch_size=220, epochs=100_000),
            quick=experiment("wang-two-gaussians (quick)", {"loss": ["ce", "poly"], "pos_weight": [1.0, 10.0]}, dataset="wang_gaussians", n_train=200, n_test=500, model="logreg", lr=1.0, batch_size=220, epochs=3000, frames=24),
            expected=(
                compare("weighting moves the final boundary more with poly than with CE (offset shift)", _offset_shift("poly"), ">", _offset_shift("ce")),
                all_fit(1.0),
            ),
            tags=("2-D", "remedies"),
        ),
        Preset(
            "bl-cifar-cnn",
            "CIFAR-10 cat vs dog, the paper's ConvNet",
            "Curves of the fraction predicted 'dog' fan out early and meet once the training set is fit "
            "(all agree after ~800 epochs in one reproduction; out-of-domain fractions converge near 0.3).",
            PAPER,
            full=experiment("bl-cifar-cnn", {"pos_weight": POWERS_OF_4}, **CIFAR_FULL),
            quick=experiment("bl-cifar-cnn (quick)", {"pos_weight": SIXTEENFOLD}, **CIFAR_QUICK),
            expected=(spread_at_least(0.5, epoch=1), spread_at_most(0.15), all_fit(0.99)),
            needs="cifar10",
            tags=("CIFAR", "paper"),
        ),
    ]
}


def get(name: str) -> Preset:
    if name not in PRESETS:
        raise KeyError(f"no preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]

"""Byrd & Lipton's synthetic experiments (and the digits stand-in): settings from docs/science.md, the
paper's where it states them, the prototype's for the quick variants."""

from __future__ import annotations

from ..outcome import (
    all_fit,
    not_degenerate,
    ordered_by_weight,
    paired_shift,
    spread_at_least,
    spread_at_most,
    spread_shrinks,
)
from .base import PAPER, PAPERS_NORM, POWERS_OF_4, SIXTEENFOLD, TENFOLD, Preset, arm_difference, experiment

# minibatches of 8: the sum normalisation would make w = 10 act like 7.8 (docs/readouts.md), so B&L's mean
SYNTH = {"dataset": "blobs", "n_train": 100, "n_test": 500, "batch_size": 8, "loss_norm": PAPERS_NORM}
SYNTH_LR = SYNTH | {"model": "logreg", "lr": 0.03}
SYNTH_MLP = SYNTH | {"model": "mlp", "hidden": [64], "lr": 0.01}
DIGITS = {
    "dataset": "digits",
    "model": "mlp",
    "hidden": [128, 128],
    "lr": 0.1,
    "batch_size": 16,
    "n_train": 1000,
    "n_test": 1000,
}
# With 20% of the labels flipped, w * 0.2 vs 0.8 decides the weighted optimum: w up to 4 keeps a
# real classifier, 16 would make "always positive" optimal (measured: stuck constant for 300 epochs).
NOISY_WEIGHTS = [0.25, 1.0, 4.0]
# cosine: at a constant lr 0.1 the nets that memorise the flipped labels keep jumping (measured spread
# 0.04-0.7 from one epoch to the next after epoch 30); annealed, the final spread is stable
# bl-early-stopping keeps the engine's `sum`, not B&L's `mean`: under `mean` (quick, measured) the trained-on
# nets did not all memorise their flipped labels by epoch 300 (min train acc 0.926 < 0.98; early-stopped end
# spread 0.604, trained-on 0.117), so the claim's "trained on to interpolation" arm was not reached.
# digits-pair (the prototype's setting, no paper compared) keeps the sum too.
NOISY_DIGITS = DIGITS | {"label_noise": 0.2, "schedule": "cosine"}
PLAIN = {"batchnorm": False}
FADES = (spread_at_least(0.3, epoch=1), spread_at_most(0.05), spread_shrinks(0.1), all_fit(0.99))


PRESETS = [
    Preset(
        "bl-synth-linear",
        "Logistic regression on separable 2-D data",
        "Weights move the boundary at first; once the data are separated, gradient descent drifts to the "
        "max-margin solution whatever the weights, so the effect fades like 1/log t.",
        PAPER + "; Soudry et al. 2018",
        full=experiment(
            "bl-synth-linear", {"pos_weight": POWERS_OF_4, "seed": [0, 1, 2, 3, 4]}, **SYNTH_LR, epochs=10_000
        ),
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
        full=experiment(
            "bl-synth-mlp", {"pos_weight": POWERS_OF_4, "seed": [0, 1, 2, 3, 4]}, **SYNTH_MLP, epochs=10_000
        ),
        quick=experiment("bl-synth-mlp (quick)", {"pos_weight": TENFOLD, "seed": [0, 1, 2]}, **SYNTH_MLP, epochs=300),
        expected=FADES,
        tags=("2-D", "paper"),
    ),
    Preset(
        "bl-synth-l2",
        "L2 keeps the weights' effect",
        "With weight decay the gap between weights stays: the regularised optimum depends on the weights.",
        PAPER,
        full=experiment(
            "bl-synth-l2",
            {"pos_weight": POWERS_OF_4, "weight_decay": [0.0, 0.01, 0.1, 0.2], "seed": [0, 1, 2, 3, 4]},
            **SYNTH_LR,
            epochs=10_000,
        ),
        quick=experiment(
            "bl-synth-l2 (quick)",
            {"pos_weight": TENFOLD, "weight_decay": [0.0, 0.2], "seed": [0, 1, 2]},
            **SYNTH_LR,
            epochs=200,
        ),
        expected=(
            # weight decay 0.1 kept 0.108 here (2-logit model), too close to call; 0.2 keeps 0.16
            spread_at_least(0.1, where={"weight_decay": 0.2}),
            ordered_by_weight(where={"weight_decay": 0.2}),
            paired_shift(10.0, +1, where={"weight_decay": 0.2}),
            paired_shift(0.1, -1, where={"weight_decay": 0.2}),
            not_degenerate(0.75, where={"weight_decay": 0.2}),
            spread_at_most(0.05, where={"weight_decay": 0.0}),
        ),
        tags=("2-D", "paper", "regularisation"),
    ),
    Preset(
        "bl-synth-dropout",
        "Dropout does not keep the effect",
        "Dropout regularises, but the weights' effect still fades once the training data are fit.",
        PAPER,
        full=experiment(
            "bl-synth-dropout",
            {"pos_weight": POWERS_OF_4, "seed": [0, 1, 2, 3, 4]},
            **SYNTH_MLP,
            dropout=0.5,
            epochs=10_000,
        ),
        quick=experiment(
            "bl-synth-dropout (quick)", {"pos_weight": TENFOLD, "seed": [0, 1, 2]}, **SYNTH_MLP, dropout=0.5, epochs=300
        ),
        expected=(spread_at_least(0.3, epoch=1), spread_at_most(0.05), all_fit(0.99)),
        tags=("2-D", "paper", "regularisation"),
    ),
    Preset(
        "bl-synth-batchnorm",
        "BatchNorm: an open question",
        "The paper reports that BatchNorm keeps some of the effect; one reproduction saw the opposite. "
        "This preset measures it rather than assuming either: the final spread across weights with "
        "BatchNorm minus without, paired by seed, with its 95% interval.",
        PAPER,
        full=experiment(
            "bl-synth-batchnorm",
            {"pos_weight": POWERS_OF_4, "batchnorm": [False, True], "seed": [0, 1, 2, 3, 4]},
            **SYNTH_MLP,
            epochs=10_000,
        ),
        quick=experiment(
            "bl-synth-batchnorm (quick)",
            {"pos_weight": TENFOLD, "batchnorm": [False, True], "seed": [0, 1, 2, 3, 4]},
            **SYNTH_MLP,
            epochs=300,
        ),
        # the open question is reported, not assumed: the comparison is met on any answer its seeds give.
        # Under B&L's mean normalisation the BatchNorm nets at w = 0.1 and 10 had not all fit by epoch 300
        # (train acc 0.935-0.995; 0.945-1.0 after 1,000 epochs), so the answer names each arm's fit
        expected=(
            all_fit(0.99, where=PLAIN),
            spread_at_least(0.3, epoch=1, where=PLAIN),
            spread_at_most(0.05, where=PLAIN),
            arm_difference("does BatchNorm keep the weights' effect?", {"batchnorm": True}, PLAIN),
        ),
        tags=("2-D", "paper", "regularisation"),
    ),
    Preset(
        "digits-pair",
        "Handwritten digits 3 vs 5",
        "Real data that any machine has offline: an MLP fits it in seconds and the weights' effect fades.",
        "iwlab prototype (docs/science.md)",
        full=experiment("digits-pair", {"pos_weight": POWERS_OF_4, "seed": [0, 1, 2]}, **DIGITS, epochs=1000),
        quick=experiment("digits-pair (quick)", {"pos_weight": SIXTEENFOLD, "seed": [0, 1]}, **DIGITS, epochs=300),
        expected=(spread_at_least(0.5, epoch=1), spread_at_most(0.05), all_fit(0.99)),
        tags=("real data",),
    ),
    Preset(
        "bl-early-stopping",
        "Early stopping keeps the weights' effect; training on does not",
        "Stopped when the validation loss stops improving, the net has not yet memorised its training set, "
        "so the weights still move its predictions; trained on to interpolation, the effect fades. Needs "
        "overlapping classes (here: 20% of the digit labels flipped); on clean data the validation loss keeps "
        "falling until the effect is gone.",
        PAPER,
        full=experiment(
            "bl-early-stopping",
            {"patience": [None, 10], "pos_weight": [0.25, 0.5, 1.0, 2.0, 4.0], "seed": [0, 1, 2, 3, 4]},
            **NOISY_DIGITS,
            epochs=1000,
        ),
        quick=experiment(
            "bl-early-stopping (quick)",
            {"patience": [None, 10], "pos_weight": NOISY_WEIGHTS, "seed": [0, 1]},
            **NOISY_DIGITS,
            epochs=300,
        ),
        expected=(
            spread_at_least(0.3, where={"patience": 10}),
            ordered_by_weight(where={"patience": 10}),
            not_degenerate(0.6, where={"patience": 10}),
            spread_at_most(0.15, where={"patience": None}),
            all_fit(0.98, where={"patience": None}),
        ),
        tags=("real data", "paper", "regularisation"),
    ),
]

"""CIFAR-10 cat vs dog (the paper's headline) and its regularisers, on real images.

Quick variants: 250 + 250 training images and a ConvNet of width 16, which fit in ~100 epochs on
2 cores (PAPER.md's prototype); full variants: the paper's 5,000 + 5,000 images, width 64, 1,000
epochs (a GPU's work)."""

from __future__ import annotations

from ..outcome import all_fit, spread_at_least, spread_at_most
from .base import PAPER, POWERS_OF_4, SIXTEENFOLD, Preset, experiment

CIFAR_QUICK = {
    "dataset": "cifar10", "classes": ["cat", "dog"], "model": "convnet", "width": 16, "n_train": 250, "n_test": 250,
    "lr": 0.05, "batch_size": 16, "epochs": 100, "ood": 500, "noise_images": 250, "eval_points": 30,
}  # fmt: skip
CIFAR_FULL = CIFAR_QUICK | {"lr": 0.1, "width": 64, "n_train": 5000, "n_test": 1000, "epochs": 1000, "ood": 8000, "noise_images": 1000, "eval_points": 0}


PRESETS = [
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

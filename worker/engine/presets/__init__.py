"""One-click reproductions of Byrd & Lipton (2019) and the remedies since, each with a quick variant
that runs on 2 CPU cores in under 2 minutes and checks, by machine, what the paper predicts.

Settings come from docs/science.md: the paper's where it states them, the reproductions' where it does not
(marked "(?)" there), and the prototype's for the quick variants. The presets live by family:
`paper_2d` (synthetic and digits), `cifar` (real images), `resnet` (the ResNet with and without BatchNorm), `remedies` (losses, sub-sampling, L2).
This package imports no torch (the API lists presets without it).
"""

from __future__ import annotations

from . import cifar, groups, longtail, paper_2d, remedies, resnet, shift
from .base import Preset, experiment

__all__ = ["PRESETS", "Preset", "experiment", "get"]

PRESETS: dict[str, Preset] = {
    p.name: p for family in (paper_2d, remedies, cifar, resnet, shift, groups, longtail) for p in family.PRESETS
}


def get(name: str) -> Preset:
    if name not in PRESETS:
        raise KeyError(f"no preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]

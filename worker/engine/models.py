"""Binary classifiers on 2-D inputs; each returns one logit per example (positive class)."""

from __future__ import annotations

import torch
from torch import nn

from .spec import RunSpec


def make_model(spec: RunSpec, in_features: int = 2) -> nn.Module:
    if spec.model == "logreg":
        model = nn.Linear(in_features, 1)
        # zero init: a random initial boundary masks the epoch-1 effect in some seeds (PAPER.md)
        nn.init.zeros_(model.weight)
        nn.init.zeros_(model.bias)
        return model
    layers: list[nn.Module] = []
    width = in_features
    for hidden in spec.hidden:
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def param_norm(model: nn.Module) -> float:
    return float(torch.sqrt(sum((p.detach() ** 2).sum() for p in model.parameters())))

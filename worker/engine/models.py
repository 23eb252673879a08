"""Binary classifiers; each returns two logits per example (negative, positive)."""

from __future__ import annotations

import torch
from torch import nn

from .spec import RunSpec


def make_model(spec: RunSpec, in_shape: tuple[int, ...]) -> nn.Module:
    in_features = int(torch.tensor(in_shape).prod())
    if spec.model == "logreg":
        linear = nn.Linear(in_features, 2)
        model = nn.Sequential(nn.Flatten(), linear)
        # zero init: a random initial boundary masks the epoch-1 effect in some seeds (PAPER.md)
        nn.init.zeros_(linear.weight)
        nn.init.zeros_(linear.bias)
        return model
    if spec.model == "mlp":
        return mlp(in_features, spec.hidden, spec.dropout, spec.batchnorm)
    if spec.model == "convnet":
        return ConvNet(spec.width, spec.dropout)
    return ResNet(spec.width, spec.batchnorm)


def mlp(in_features: int, hidden: list[int], dropout: float, batchnorm: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_features
    for h in hidden:
        layers.append(nn.Linear(width, h))
        if batchnorm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, 2))
    return nn.Sequential(*layers)


class ConvNet(nn.Sequential):
    """Byrd & Lipton's CIFAR ConvNet (PAPER.md), stride 1 and no padding; `width` 64 is the paper's.

    32 -> conv 30 -> conv 28 -> pool 14 -> conv 12 -> 10 -> 8 -> pool 4: 2w * 4 * 4 features."""

    def __init__(self, width: int = 64, dropout: float = 0.0):
        w = width

        def conv(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3), nn.ReLU()]

        dense_dropout = [nn.Dropout(dropout)] if dropout else []
        super().__init__(
            *conv(3, w), *conv(w, w), nn.MaxPool2d(2),
            *conv(w, 2 * w), *conv(2 * w, 2 * w), *conv(2 * w, 2 * w), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * w * 16, 8 * w), nn.ReLU(), *dense_dropout,
            nn.Linear(8 * w, 2 * w), nn.ReLU(), *dense_dropout,
            nn.Linear(2 * w, 2),
        )  # fmt: skip
        # He init: with PyTorch's default init this 8-layer ReLU net without normalisation sat at a
        # constant classifier for 20+ epochs on 500 cat/dog images (measured); with it, it fits them.
        for layer in self.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, batchnorm: bool):
        super().__init__()
        norm = nn.BatchNorm2d if batchnorm else (lambda _c: nn.Identity())
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=not batchnorm), norm(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=not batchnorm), norm(cout),
        )  # fmt: skip
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=not batchnorm), norm(cout)
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class ResNet(nn.Sequential):
    """The small ResNet of PAPER.md: 5x5 stem, three stages of two basic blocks (w, 2w, 4w channels,
    stride 2 at the start of stages 2 and 3), average pool, linear. With or without BatchNorm."""

    def __init__(self, width: int = 64, batchnorm: bool = True):
        w = width
        stem_norm = nn.BatchNorm2d(w) if batchnorm else nn.Identity()
        super().__init__(
            nn.Conv2d(3, w, 5, padding=2, bias=not batchnorm), stem_norm, nn.ReLU(),
            BasicBlock(w, w, 1, batchnorm), BasicBlock(w, w, 1, batchnorm),
            BasicBlock(w, 2 * w, 2, batchnorm), BasicBlock(2 * w, 2 * w, 1, batchnorm),
            BasicBlock(2 * w, 4 * w, 2, batchnorm), BasicBlock(4 * w, 4 * w, 1, batchnorm),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, 2),
        )  # fmt: skip
        if not batchnorm:
            # Fixup-style start: He init and each block's last conv at zero, so every block begins as
            # its shortcut. With PyTorch's default init (or He init alone) this net sat at a constant
            # classifier for 150 epochs on 50 + 50 cat/dog images at lr 0.05; with it, it fit them.
            for layer in self.modules():
                if isinstance(layer, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                    if layer.bias is not None:
                        nn.init.zeros_(layer.bias)
            for block in self.modules():
                if isinstance(block, BasicBlock):
                    nn.init.zeros_(block.body[3].weight)  # type: ignore[arg-type]  # body: conv, norm, relu, conv, norm; torch types a submodule's attribute as Tensor | Module

"""Classifiers; each returns one logit per class (two for the binary data sets: negative, positive)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .spec import RunSpec


def make_model(spec: RunSpec, in_shape: tuple[int, ...], n_classes: int = 2) -> nn.Module:
    model = _body(spec, in_shape, n_classes)
    if spec.cosine_head:  # LDAM's head (Cao et al. 2019): the last Linear becomes a cosine layer
        index, last = next((i, m) for i, m in reversed(list(enumerate(model))) if isinstance(m, nn.Linear))
        model[index] = NormedLinear(last.in_features, last.out_features)
    return model


def _body(spec: RunSpec, in_shape: tuple[int, ...], n_classes: int) -> nn.Sequential:
    in_features = int(torch.tensor(in_shape).prod())
    if spec.model == "logreg":
        linear = nn.Linear(in_features, n_classes)
        model = nn.Sequential(nn.Flatten(), linear)
        # zero init: a random initial boundary masks the epoch-1 effect in some seeds (docs/science.md)
        nn.init.zeros_(linear.weight)
        nn.init.zeros_(linear.bias)
        return model
    if spec.model == "mlp":
        return mlp(in_features, spec.hidden, spec.dropout, spec.batchnorm, n_classes)
    if spec.model == "convnet":
        return ConvNet(spec.width, spec.dropout, n_classes)
    return FixupResNet(spec.width, n_classes) if spec.fixup else ResNet(spec.width, spec.batchnorm, n_classes)


class NormedLinear(nn.Module):
    """Cosine logits z_c = <x / |x|, W_c / |W_c|>, in [-1, 1]: the normalised last layer LDAM was
    designed for (Cao et al.'s `NormedLinear`, with their initialisation); the loss multiplies by
    s = ldam_scale."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features).uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=1) @ F.normalize(self.weight, dim=0)


def mlp(in_features: int, hidden: list[int], dropout: float, batchnorm: bool, n_classes: int = 2) -> nn.Sequential:
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
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


class ConvNet(nn.Sequential):
    """Byrd & Lipton's CIFAR ConvNet (docs/science.md), stride 1 and no padding; `width` 64 is the paper's.

    32 -> conv 30 -> conv 28 -> pool 14 -> conv 12 -> 10 -> 8 -> pool 4: 2w * 4 * 4 features."""

    def __init__(self, width: int = 64, dropout: float = 0.0, n_classes: int = 2):
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
            nn.Linear(2 * w, n_classes),
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
    """The small ResNet of docs/science.md: 5x5 stem, three stages of two basic blocks (w, 2w, 4w channels,
    stride 2 at the start of stages 2 and 3), average pool, linear. With or without BatchNorm; without
    it, a plain network with PyTorch's default initialisation (the paper's "ResNet without
    BatchNorm"; Fixup is `FixupResNet`, a separate option, since it changes the claim under test)."""

    def __init__(self, width: int = 64, batchnorm: bool = True, n_classes: int = 2):
        w = width
        stem_norm = nn.BatchNorm2d(w) if batchnorm else nn.Identity()
        super().__init__(
            nn.Conv2d(3, w, 5, padding=2, bias=not batchnorm), stem_norm, nn.ReLU(),
            BasicBlock(w, w, 1, batchnorm), BasicBlock(w, w, 1, batchnorm),
            BasicBlock(w, 2 * w, 2, batchnorm), BasicBlock(2 * w, 2 * w, 1, batchnorm),
            BasicBlock(2 * w, 4 * w, 2, batchnorm), BasicBlock(4 * w, 4 * w, 1, batchnorm),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, n_classes),
        )  # fmt: skip


class FixupBlock(nn.Module):
    """A basic block without normalisation, as Fixup builds it (Zhang, Dauphin & Ma, ICLR 2019):
    scalar biases before each convolution and activation, a scalar multiplier on the branch, convs
    without biases."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.bias1a, self.bias1b, self.bias2a, self.bias2b = (nn.Parameter(torch.zeros(1)) for _ in range(4))
        self.scale = nn.Parameter(torch.ones(1))
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = None if stride == 1 and cin == cout else nn.Conv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.conv1(x + self.bias1a) + self.bias1b)
        out = self.conv2(out + self.bias2a) * self.scale + self.bias2b
        return torch.relu(out + (x if self.shortcut is None else self.shortcut(x + self.bias1a)))


class FixupResNet(nn.Sequential):
    """`ResNet`'s layout without BatchNorm, Fixup-initialised: with L = 6 residual branches of m = 2
    layers, each branch's first conv is He-initialised and scaled by L^(-1/(2m - 2)) = L^(-1/2), its
    last conv and the classifier start at zero, so every block begins as its shortcut."""

    BLOCKS = 6

    def __init__(self, width: int = 64, n_classes: int = 2):
        w = width
        super().__init__(
            nn.Conv2d(3, w, 5, padding=2), nn.ReLU(),
            FixupBlock(w, w, 1), FixupBlock(w, w, 1), FixupBlock(w, 2 * w, 2), FixupBlock(2 * w, 2 * w, 1),
            FixupBlock(2 * w, 4 * w, 2), FixupBlock(4 * w, 4 * w, 1),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, n_classes),
        )  # fmt: skip
        for block in self.modules():
            if isinstance(block, FixupBlock):
                nn.init.kaiming_normal_(block.conv1.weight, nonlinearity="relu")
                block.conv1.weight.data.mul_(self.BLOCKS**-0.5)
                nn.init.zeros_(block.conv2.weight)
                if block.shortcut is not None:
                    nn.init.kaiming_normal_(block.shortcut.weight, nonlinearity="relu")
        classifier = self[-1]
        assert isinstance(classifier, nn.Linear)
        nn.init.zeros_(classifier.weight)
        nn.init.zeros_(classifier.bias)

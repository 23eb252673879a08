"""The ConvNet sweep as ONE network (issue 4): M ConvNets trained side by side with `torch.func.vmap`.

Why: a 9-weight CIFAR sweep runs nine identical small ConvNets on the same images. vmap over
`functional_call` turns every convolution of the M models into one grouped convolution (the
first conv has M x C outputs, the later ones M groups), every linear layer into one batched
matmul, so a step launches the kernels of one network instead of M. Each model still sees its own
minibatch (its own seed's order; its inputs are stacked along the channels), so runs that share
the data order are not required.

Everything else is `batched.BatchedTraining`: per-model weights, seeds, L2, lr, momentum and losses,
one flat parameter buffer with a fused SGD update, the per-model minibatch order, vectorised
metrics. Equivalence with the per-run engine: tests/worker/test_grouped.py (real images).
Not supported: dropout (masks would not match the per-run engine's), ResNet (BatchNorm).
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from .batched import BatchedTraining
from .data import as_input
from .spec import RunSpec
from .train import EVAL_BATCH


class GroupedTraining(BatchedTraining):
    def __init__(self, specs: list[RunSpec], device: str = "auto", threads: int = 1, datasets: Path | None = None):
        super().__init__(specs, device, threads, datasets)
        # evaluate the M models on this many images at a time: the per-run engine's 1024 on a GPU,
        # fewer on a CPU, where M x 1024 ConvNet activations would take gigabytes
        self.eval_batch = EVAL_BATCH if self.device.type == "cuda" else 128

    def _stack(self, models: list[nn.Module]) -> list[torch.Tensor]:
        """Each parameter stacked as it is, (M, *shape), in `named_parameters` order (the buffers are
        not: the grouped program trains ConvNets, which keep none)."""
        stacked, _ = stack_module_state(models)
        self._names = list(stacked)
        self._template = copy.deepcopy(models[0]).to(self.device)  # its own weights are never used
        return [stacked[name].detach() for name in self._names]

    def forward(
        self, x: torch.Tensor, params: list[torch.Tensor] | None = None, noise: list[torch.Tensor] | None = None
    ) -> torch.Tensor:
        """x: (M, B, 3, H, W) per-model images or (B, 3, H, W) shared ones -> logits (M, B, 2)."""
        params = self.params if params is None else params

        def one(p: list[torch.Tensor], images: torch.Tensor) -> torch.Tensor:
            return functional_call(self._template, dict(zip(self._names, p)), (images,))

        per_model = x.ndim == self._feature_ndim + 2
        return vmap(one, in_dims=(0, 0 if per_model else None))(params, as_input(x))

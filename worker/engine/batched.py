"""Train M runs of one experiment as ONE program with a model axis (issue 4).

Why: the paper's sweeps are many small models (a 2-D MLP has ~10k parameters). Trained one at a time,
each SGD step costs far more in per-step overhead (Python, autograd bookkeeping, optimiser, kernel
launches on tiny tensors) than in arithmetic. Stacking the M runs' parameters as (M, in, out) tensors
and stepping them with one `torch.baddbmm` per layer pays that overhead once per step for all M.

What may differ between batched runs: `PER_MODEL` (weights, seed, L2, lr, momentum, loss and its
parameters, DRW, resampling). Everything else (data, architecture, batch size, epochs, what is
recorded) must be shared; `why_not_batchable` says what is not. Supported models: logreg and MLP
without BatchNorm or dropout; no early stopping, no cosine schedule, no checkpoints.

Equivalence with the per-run engine (`train.Training`), checked by tests/worker/test_batched.py:
- initialisation: for each run `torch.manual_seed(seed)` then `make_model`, copied into the stacks;
- minibatch order: each run's own `torch.Generator().manual_seed(seed)`, drawn exactly as
  `Training._batches` draws it;
- loss: `per_example_loss` + `reduce_weighted` per model (a vectorised but identical path for CE);
  the gradient of the sum of the M independent losses is each model's own gradient;
- update: torch.optim.SGD's (coupled weight decay `g + wd * p`, momentum buffer, `p -= lr * d`);
- metrics: the same functions (`split_metrics`, `normalised_margin`, `boundary_offset`, ...) on
  each model's logits; the boundary grid is shared.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from . import geometry
from .boundary import Grid
from .data import as_input, make_data
from .losses import example_weights, per_example_loss, reduce_weighted
from .metrics import intended_frac_pos, normalised_margin, split_metrics
from .models import make_model
from .spec import RunSpec, frame_epochs
from .train import EVAL_BATCH, INTENDED_WEIGHTS, EpochResult, limit_threads, resolve_device, train

# parameters that may differ between the runs of one batched program
PER_MODEL = frozenset({
    "pos_weight", "weight_power", "seed", "weight_decay", "lr", "momentum", "loss", "loss_norm",
    "poly_alpha", "ldam_max_margin", "ldam_scale", "drw_epoch", "la_tau", "vs_gamma", "vs_tau", "resample",
})  # fmt: skip
LOSS_PARAMS = ("poly_alpha", "ldam_max_margin", "ldam_scale", "la_tau", "vs_gamma", "vs_tau")


def shared_key(spec: RunSpec) -> tuple:
    """What runs must share to train together (equal keys = same data, architecture and schedule)."""
    values = spec.model_dump(mode="json")
    return tuple((k, repr(v)) for k, v in sorted(values.items()) if k not in PER_MODEL)


def why_not_batchable(specs: list[RunSpec]) -> str | None:
    """None when `specs` can train as one batched program, else the reason."""
    if not specs:
        return "no runs"
    first = specs[0]
    for spec in specs[1:]:
        if shared_key(spec) != shared_key(first):
            a, b = first.model_dump(), spec.model_dump()
            diff = sorted(k for k in a if k not in PER_MODEL and a[k] != b[k])
            return f"runs differ in {', '.join(diff)} (batched runs share data, architecture and schedule)"
    if first.model not in ("logreg", "mlp"):
        return f"model {first.model} is not supported by the batched engine (logreg, mlp)"
    if first.model == "mlp" and (first.batchnorm or first.dropout):
        return "MLP with BatchNorm or dropout is not supported by the batched engine yet"
    if first.patience:
        return "early stopping (patience) is not supported by the batched engine"
    if first.schedule != "constant":
        return f"schedule {first.schedule} is not supported by the batched engine"
    return None


def can_batch(specs: list[RunSpec]) -> bool:
    return why_not_batchable(specs) is None


def groups(specs: list[RunSpec]) -> list[list[int]]:
    """Indices of `specs` grouped by what they share, in order of first appearance."""
    out: dict[tuple, list[int]] = {}
    for i, spec in enumerate(specs):
        out.setdefault(shared_key(spec), []).append(i)
    return list(out.values())


class BatchedTraining:
    """M runs set up together: iterating yields, per evaluated epoch, one `EpochResult` per run."""

    def __init__(self, specs: list[RunSpec], device: str | None = None):
        reason = why_not_batchable(specs)
        if reason:
            raise ValueError(reason)
        self.specs = specs
        self.spec = spec = specs[0]  # the shared part
        self.device = dev = resolve_device(device or os.environ.get("IWLAB_DEVICE", "auto"))
        if dev.type == "cpu":
            limit_threads()
        M = self.M = len(specs)
        self.data = data = make_data(spec)
        self.grid = Grid.around(data, spec.grid) if spec.is_2d else None
        self._x, self._y = data.x_train.to(dev), data.y_train.to(dev)
        self._counts = data.counts.to(dev)
        self._weights = torch.stack([
            example_weights(self._y, torch.tensor([1.0, s.pos_weight], device=dev), s.weight_power) for s in specs
        ])  # fmt: skip  (M, N)
        self._snapshots = set(frame_epochs(spec.epochs, spec.frames)) if spec.is_2d else set()
        every = range(spec.epochs + 1)
        self._evaluated = set(frame_epochs(spec.epochs, spec.eval_points) if spec.eval_points else every) | self._snapshots

        # stacked parameters: layer i has W (M, in, out) = Linear.weight.T and b (M, 1, out)
        in_shape = tuple(data.x_train.shape[1:])
        self._feature_ndim = len(in_shape)
        models = []
        for s in specs:
            torch.manual_seed(s.seed)
            models.append(make_model(s, in_shape))
        linears = [[m for m in model.modules() if isinstance(m, nn.Linear)] for model in models]
        self.params: list[torch.Tensor] = []
        for layer in range(len(linears[0])):
            W = torch.stack([ls[layer].weight.detach().t() for ls in linears]).contiguous()
            b = torch.stack([ls[layer].bias.detach().unsqueeze(0) for ls in linears])
            self.params += [W.to(dev).requires_grad_(), b.to(dev).requires_grad_()]
        self._lr = self._per_model("lr")
        self._wd = self._per_model("weight_decay")
        self._momentum = self._per_model("momentum")
        self._use_momentum = any(s.momentum for s in specs)
        self._bufs: list[torch.Tensor] | None = None
        self._mean_norm = torch.tensor([s.loss_norm == "mean" for s in specs], device=dev)
        self._all_ce = all(s.loss == "ce" for s in specs)
        self._orders = [torch.Generator().manual_seed(s.seed) for s in specs]
        self.epoch = 0
        self._svm = geometry.max_margin_direction(data.x_train, data.y_train, bias="augmented") if spec.is_2d and spec.model == "logreg" else None
        self._centres = geometry.class_centres(data.x_train, data.y_train) if spec.is_2d else None

    def _per_model(self, name: str) -> torch.Tensor:
        return torch.tensor([float(getattr(s, name)) for s in self.specs], device=self.device)

    def __iter__(self) -> Iterator[list[EpochResult]]:
        if self.epoch == 0:
            yield self.evaluate()
        while self.epoch < self.spec.epochs:
            self._train_one_epoch()
            self.epoch += 1
            if self.epoch in self._evaluated:
                yield self.evaluate()

    # --- model ------------------------------------------------------------------------------

    def forward(self, x: torch.Tensor, params: list[torch.Tensor] | None = None) -> torch.Tensor:
        """x: (M, B, in) per-model inputs or (B, in) shared ones -> logits (M, B, 2)."""
        params = self.params if params is None else params
        per_model = x.ndim == self._feature_ndim + 2
        h = as_input(x).flatten(2 if per_model else 1)
        if not per_model:
            h = h.unsqueeze(0).expand(self.M, -1, -1)
        last = len(params) // 2 - 1
        for i in range(0, len(params), 2):
            h = torch.baddbmm(params[i + 1], h, params[i])
            if i // 2 < last:
                h = torch.relu(h)
        return h

    # --- training ---------------------------------------------------------------------------

    def _orders_this_epoch(self) -> torch.Tensor:
        n = len(self._y)
        rows = []
        for m, s in enumerate(self.specs):
            if s.resample:
                rows.append(torch.multinomial(self._weights[m].cpu(), n, replacement=True, generator=self._orders[m]))
            else:
                rows.append(torch.randperm(n, generator=self._orders[m]))
        return torch.stack(rows).to(self.device)  # (M, n)

    def _train_one_epoch(self) -> None:
        spec, M = self.spec, self.M
        weighted = torch.tensor(
            [not s.resample and (s.drw_epoch is None or self.epoch >= s.drw_epoch) for s in self.specs], device=self.device
        )
        order = self._orders_this_epoch()
        for start in range(0, order.shape[1], spec.batch_size):
            idx = order[:, start : start + spec.batch_size]  # (M, B)
            y = self._y[idx]
            w = torch.where(weighted.unsqueeze(1), self._weights.gather(1, idx), torch.ones_like(idx, dtype=self._weights.dtype))
            logits = self.forward(self._x[idx])
            loss = self._loss(logits, y, w)
            grads = torch.autograd.grad(loss, self.params)
            self._sgd_step(grads)

    def _loss(self, logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Sum over models of each model's `reduce_weighted(per_example_loss(...))`."""
        M, B = y.shape
        if self._all_ce:  # the same arithmetic as the per-model path, for all models at once
            losses = F.cross_entropy(logits.reshape(M * B, 2), y.reshape(-1), reduction="none").view(M, B)
            total = (w * losses).sum(1)
            denom = torch.where(self._mean_norm, torch.full_like(total, B), w.sum(1).clamp_min(torch.finfo(total.dtype).tiny))
            return (total / denom).sum()
        loss = logits.new_zeros(())
        for m, s in enumerate(self.specs):
            params = {k: getattr(s, k) for k in LOSS_PARAMS}
            losses = per_example_loss(s.loss, logits[m], y[m], self._counts, **params)
            loss = loss + reduce_weighted(losses, w[m], s.loss_norm)
        return loss

    @torch.no_grad()
    def _sgd_step(self, grads: tuple[torch.Tensor, ...]) -> None:
        """torch.optim.SGD per model: d = g + wd * p; with momentum buf = mu * buf + d (buf = d at
        the first step); p -= lr * d."""
        shape = lambda t: (-1,) + (1,) * (t.ndim - 1)  # noqa: E731
        ds = [g.add(p * self._wd.view(shape(p))) for p, g in zip(self.params, grads)]
        if self._use_momentum:
            if self._bufs is None:
                self._bufs = [d.clone() for d in ds]
            else:
                for buf, d in zip(self._bufs, ds):
                    buf.mul_(self._momentum.view(shape(buf))).add_(d)
            ds = self._bufs
        for p, d in zip(self.params, ds):
            p.sub_(d * self._lr.view(shape(p)))

    # --- evaluation -------------------------------------------------------------------------

    @torch.no_grad()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Every model's logits on shared inputs: (M, len(x), 2)."""
        return torch.cat([self.forward(x[i : i + EVAL_BATCH].to(self.device)) for i in range(0, len(x), EVAL_BATCH)], 1)

    @torch.no_grad()
    def param_norms(self) -> list[float]:
        """`metrics.param_norm` of each model (same parameters, same order: weight, bias per layer)."""
        sq = [p.detach().double().pow(2).flatten(1).sum(1) for p in self.params]
        return [math.sqrt(sum(float(t[m]) for t in sq)) for m in range(self.M)]

    @torch.no_grad()
    def evaluate(self) -> list[EpochResult]:
        names = self.data.classes
        train_logits = self.logits(self._x)
        norms = self.param_norms()
        metrics: list[dict[str, dict[str, float]]] = []
        for m in range(self.M):
            train = split_metrics(train_logits[m], self._y, names)
            train["param_norm"] = norms[m]
            train["normalised_margin"] = normalised_margin(train_logits[m], self._y, norms[m])
            metrics.append({"train": train})
        for split, (x, y) in self.data.evals.items():
            logits = self.logits(x)
            y = None if y is None else y.to(self.device)
            for m, s in enumerate(self.specs):
                metrics[m][split] = split_metrics(logits[m], y, names)
                if s.pos_weight == 1:
                    metrics[m][split].update({f"intended_frac_pos@{w:g}": intended_frac_pos(logits[m], w) for w in INTENDED_WEIGHTS})
        boundaries: list = [None] * self.M
        if self.grid is not None:
            for m, g in enumerate(self._geometry()):
                metrics[m]["geometry"] = g
            if self.epoch in self._snapshots:
                probs = torch.softmax(self.logits(self.grid.inputs()), 2)[:, :, 1]
                shape = (len(self.grid.ys), len(self.grid.xs))
                boundaries = [probs[m].reshape(shape).cpu().numpy() for m in range(self.M)]
        return [EpochResult(self.epoch, self.spec.epochs, metrics[m], boundaries[m]) for m in range(self.M)]

    def _geometry(self) -> list[dict[str, float]]:
        cache: dict[str, torch.Tensor] = {}

        def margin_of(m: int):
            def margin(points: torch.Tensor) -> torch.Tensor:
                if "z" not in cache:  # boundary_offset samples the same points for every model
                    z = self.logits(points)
                    cache["z"] = (z[:, :, 1] - z[:, :, 0]).cpu()
                return cache["z"][m]

            return margin

        def normal(m: int) -> torch.Tensor | None:
            if self._svm is None:
                return None
            W = self.params[0][m]  # (in, 2): column c is class c's weights
            return (W[:, 1] - W[:, 0]).detach().cpu()

        svm = self._svm[0] if self._svm is not None else None
        return [geometry.readouts(margin_of(m), self._centres, normal(m), svm) for m in range(self.M)]


def train_batched(specs: list[RunSpec], device: str | None = None) -> Iterator[list[EpochResult]]:
    """Per evaluated epoch, one `EpochResult` per spec (in order). Batchable specs train as one
    program; otherwise (see `why_not_batchable`) each run trains on its own and the results are
    zipped epoch by epoch, so callers see the same shape either way."""
    if can_batch(specs):
        yield from BatchedTraining(specs, device)
        return
    yield from (list(results) for results in zip(*(train(s, device) for s in specs)))

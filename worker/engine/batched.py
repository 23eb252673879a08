"""Train M runs of one experiment as ONE program with a model axis (issue 4).

Why: the paper's sweeps are many small models (a 2-D MLP has ~10k parameters). Trained one at a time,
each SGD step costs far more in per-step overhead (Python, autograd bookkeeping, optimiser, kernel
launches on tiny tensors) than in arithmetic. Stacking the M runs' parameters as (M, in, out) tensors
and stepping them with one `torch.baddbmm` per layer pays that overhead once per step for all M.

What may differ between batched runs: `PER_MODEL` (weights, class_weights, weight_power, the
per-example weights' source, clipping and normalisation, seed, L2, lr, momentum, loss and its
parameters, DRW, resampling). Everything else (data, architecture, batch size, epochs, what is
recorded) must be shared; `why_not_batchable` says what is not. Tables and covariate_shift with any
number of classes train here (output width K, the data's); group labels do not (no group readouts here). Supported models: logreg and MLP
(with BatchNorm and dropout) here, the ConvNet without dropout in grouped.py (`engines.batched_training`
picks); no early stopping, no cosine schedule, no checkpoints.

Equivalence with the per-run engine (`train.Training`), checked by tests/worker/test_batched.py:
- set-up: `setup.build_setup`, the per-run engine's own; each run's model is `RunSetup.model`
  (seeded by the run), copied into the stacks;
- minibatch order: each run's own `torch.Generator().manual_seed(seed)`, drawn exactly as
  `Training._batches` draws it;
- loss: `per_example_loss` + `reduce_weighted` per model (one vectorised call when all are CE)
  through autograd; the gradient of the sum of the M independent losses is each model's own
  gradient. Weighted CE on a plain MLP or logreg (the paper's setting) has its backward pass
  written out by hand (`_ce_gradients`, the ops autograd would run): 1.6x faster per step on the
  2-100-100-2 sweep (measured);
- dropout: each model draws its masks from its own generator, a copy of the global RNG state right
  after its initialisation, in the order and shape the per-run engine's `nn.Dropout` draws them, so
  on CPU the masks are the per-run engine's (on CUDA, where `F.dropout` has a fused kernel, they are
  only equal in distribution);
- BatchNorm: the M models' features are M x h channels of one `F.batch_norm`, so each model has its
  own batch and running statistics;
- update: torch.optim.SGD's (coupled weight decay `g + wd * p`, momentum buffer, `p -= lr * d`) on
  one flat buffer holding every parameter of every model;
- metrics: the vectorised twins (`split_metrics_per_model`, `offsets_along`, ...) of the per-run
  functions, which are now thin wrappers around them; the boundary grid is shared and all
  models' grids come from one batched pass.

Over 300 lines: the stacked model and its training loop are one program (the per-run engine is
train.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from . import geometry
from . import intended as references
from .data import as_input, make_data
from .losses import per_example_loss, reduce_weighted
from .metrics import intended_frac_pos_per_model, normalised_margin_per_model, split_metrics_per_model
from .setup import INTENDED_WEIGHTS, RunSetup, build_setup
from .spec import LOSS_PARAMS, RunSpec
from .train import EVAL_BATCH, EpochResult

# parameters that may differ between the runs of one batched program
PER_MODEL = frozenset({
    "pos_weight", "weight_power", "seed", "weight_decay", "lr", "momentum", "loss", "loss_norm",
    "drw_epoch", "resample", *(p for params in LOSS_PARAMS.values() for p in params),
    "drw_beta", "head",  # head: every batchable run has the linear one (the cosine head is refused below)
    "class_weights",  # per-model example weights (`RunSetup.weights`), like pos_weight
    *("example_weights", "weight_clip", "weight_normalise"),  # PER_EXAMPLE: the same rows, other weights
})  # fmt: skip


# what decides a run's per-example weights (tables, covariate_shift), and nothing else of its data
PER_EXAMPLE = ("example_weights", "weight_clip", "weight_normalise")


def shared_key(spec: RunSpec) -> tuple:
    """What runs must share to train together (equal keys = same data, architecture and schedule)."""
    values = spec.model_dump(mode="json")
    return tuple((k, repr(v)) for k, v in sorted(values.items()) if k not in PER_MODEL)


def why_not_batchable(specs: list[RunSpec]) -> str | None:
    """None when `specs` can train as one batched program, else the reason."""
    if not specs:
        return "no runs"
    first = specs[0]
    if first.dataset == "spurious" or first.group_column or any(s.group_weights != "none" for s in specs):
        return "group labels (dataset spurious, group_column, group_weights) train one run at a time: the batched engine records no group readouts"
    for spec in specs[1:]:
        if shared_key(spec) != shared_key(first):
            a, b = first.model_dump(), spec.model_dump()
            diff = sorted(k for k in a if k not in PER_MODEL and a[k] != b[k])
            return f"runs differ in {', '.join(diff)} (batched runs share data, architecture and schedule)"
    if first.model not in ("logreg", "mlp", "convnet"):
        return f"model {first.model} is not supported by the batched engine (logreg, mlp, convnet)"
    if first.model == "convnet" and first.dropout:
        return "ConvNet with dropout is not supported by the batched engine"
    if first.model == "convnet" and (len(first.classes) > 2 or any(s.class_weights for s in specs)):
        # the grouped engine is checked against the per-run one on two classes without class_weights only
        return "ConvNets with more than two classes or class_weights train one run at a time"
    if first.patience:
        return "early stopping (patience) is not supported by the batched engine"
    if any(s.cosine_head for s in specs):
        return "a cosine (normalised) last layer is not supported by the batched engine"
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

    def __init__(self, specs: list[RunSpec], device: str = "auto", threads: int = 1, datasets: Path | None = None):
        reason = why_not_batchable(specs)
        if reason:
            raise ValueError(reason)
        self.specs = specs
        self.spec = spec = specs[0]  # the shared part
        # the set-up of the per-run engine, exactly: what it would do differently for one of these
        # runs (a validation split, group labels) is refused above
        setup = build_setup(specs, device, threads, datasets)
        self.device = dev = setup.device
        M = self.M = len(specs)
        self.data = data = setup.data
        self.grid = setup.grid
        self._x, self._y, self._counts = setup.x, setup.y, setup.counts
        # each run's set-up: the shared one with its own per-example weights (tables, covariate_shift)
        own = self._own_setups(setup, datasets)
        self._weights = torch.stack([o.weights(s) for o, s in zip(own, specs)])  # (M, N)
        self._k = len(data.classes)  # output width: a table's classes are known only once it is read
        self._ess = [o.effective_sample_size(w) for o, w in zip(own, self._weights)]
        self._snapshots, self._evaluated = setup.snapshots, setup.evaluated

        # stacked parameters, in each model's `parameters()` order: a Linear layer has W (M, in, out)
        # = weight.T and b (M, 1, out); a BatchNorm layer its weight and bias as (M, 1, features)
        in_shape = tuple(data.x_train.shape[1:])
        self._feature_ndim = len(in_shape)
        models, self._dropout_rngs = [], []
        for s in specs:
            models.append(setup.model(s))
            # the per-run engine draws its dropout masks from the global RNG as it stands after
            # initialisation; each model here draws its own from a copy of that state
            self._dropout_rngs.append(torch.Generator().set_state(torch.get_rng_state()))
        stacks = self._stack(models)
        self._hidden = list(spec.hidden) if spec.model == "mlp" else []
        self._batchnorm = spec.model == "mlp" and spec.batchnorm
        self._dropout = spec.dropout if spec.model == "mlp" else 0.0
        # BatchNorm running statistics: the models' features side by side as channels (M * h)
        self._running = [
            (torch.zeros(M * h, device=dev), torch.ones(M * h, device=dev)) for h in self._hidden
        ] if self._batchnorm else []  # fmt: skip
        # All parameters live in one flat buffer (and their gradients in another), so that the SGD
        # update is a few fused ops over all layers and models; `params` are views into it.
        self._flat = torch.cat([t.reshape(-1) for t in stacks]).to(dev)
        self._grad_flat = torch.zeros_like(self._flat)
        self.params = self._views(self._flat, stacks)
        self._grads = self._views(self._grad_flat, stacks)
        per_element = lambda name: torch.cat([self._per_model(name).repeat_interleave(t[0].numel()) for t in stacks])  # noqa: E731
        self._lr, self._wd, self._momentum = per_element("lr"), per_element("weight_decay"), per_element("momentum")
        self._use_momentum = any(s.momentum for s in specs)
        self._use_wd = any(s.weight_decay for s in specs)
        self._buf: torch.Tensor | None = None
        self._mean_norm = torch.tensor([s.loss_norm == "mean" for s in specs], device=dev)
        # weighted CE on a plain net (the paper's setting) has its backward pass written out by hand
        self._by_hand = (
            spec.model in ("logreg", "mlp")
            and all(s.loss == "ce" for s in specs)
            and not self._batchnorm
            and not self._dropout
        )
        self._orders = [torch.Generator().manual_seed(s.seed) for s in specs]
        self.epoch = 0
        self._svm, self._centres, self._bayes = setup.svm, setup.centres, setup.bayes
        # all runs share the data, hence the readouts they leave out; effective_pos_weight is defined
        # for every run of two classes and for none of more (`run_effective_pos_weight`), so one dict fits all
        self.missing = setup.missing_for(spec)
        self.effective_pos_weights = [setup.effective_pos_weight(s) for s in specs]  # as Training.effective_pos_weight
        self._intended = [setup.intended(s) for s in specs]

    def _own_setups(self, setup: RunSetup, datasets: Path | None) -> list[RunSetup]:
        """Per run, `setup` with the per-example weights its spec asks for: runs that differ only in
        `PER_EXAMPLE` share every row, so only the weights are made again (once per distinct choice)."""
        made: dict[tuple, RunSetup] = {}
        for s in self.specs:
            key = tuple(getattr(s, k) for k in PER_EXAMPLE)
            if key in made:
                continue
            if key == tuple(getattr(setup.spec, k) for k in PER_EXAMPLE):
                made[key] = setup
                continue
            data = make_data(s, datasets)
            if not (torch.equal(data.x_train, setup.data.x_train) and torch.equal(data.y_train, setup.data.y_train)):
                raise ValueError("example_weights: the runs' training rows differ; train them one at a time")
            made[key] = replace(setup, data=replace(setup.data, w_train=data.w_train))
        return [made[tuple(getattr(s, k) for k in PER_EXAMPLE)] for s in self.specs]

    # the layout `forward` works on (grouped.GroupedTraining stacks its ConvNets as they are)
    eval_batch = EVAL_BATCH

    def _stack(self, models: list[nn.Module]) -> list[torch.Tensor]:
        per_model = [
            [p.detach().t() if p.ndim == 2 else p.detach().unsqueeze(0) for p in model.parameters()] for model in models
        ]
        return [torch.stack(ps) for ps in zip(*per_model)]

    def _per_model(self, name: str) -> torch.Tensor:
        return torch.tensor([float(getattr(s, name)) for s in self.specs], device=self.device)

    @staticmethod
    def _views(flat: torch.Tensor, like: list[torch.Tensor]) -> list[torch.Tensor]:
        out, start = [], 0
        for t in like:
            out.append(flat[start : start + t.numel()].view(t.shape))
            start += t.numel()
        return out

    def __iter__(self) -> Iterator[list[EpochResult]]:
        if self.epoch == 0:
            yield self.evaluate()
        while self.epoch < self.spec.epochs:
            self._train_one_epoch()
            self.epoch += 1
            if self.epoch in self._evaluated:
                yield self.evaluate()

    # --- model ------------------------------------------------------------------------------

    def forward(
        self, x: torch.Tensor, params: list[torch.Tensor] | None = None, noise: list[torch.Tensor] | None = None
    ) -> torch.Tensor:
        """x: (M, B, in) per-model inputs or (B, in) shared ones -> logits (M, B, K). `noise`: the
        training step's dropout masks (already scaled by 1 / (1 - p)), one per hidden layer; given
        or not, it also says whether BatchNorm is in training mode (batch statistics)."""
        params = self.params if params is None else params
        training = noise is not None
        per_model = x.ndim == self._feature_ndim + 2
        h = as_input(x).flatten(2 if per_model else 1)
        if not per_model:
            h = h.unsqueeze(0).expand(self.M, -1, -1)
        p = iter(params)
        for layer in range(len(self._hidden)):
            W, b = next(p), next(p)
            h = torch.baddbmm(b, h, W)
            if self._batchnorm:
                h = self._batchnorm_layer(h, next(p), next(p), layer, training)
            h = torch.relu(h) if torch.is_grad_enabled() else h.relu_()
            if self._dropout and noise is not None:  # noise is given exactly when training
                h = h * noise[layer]
        W, b = next(p), next(p)
        # the K-logit layer as (W^T h^T)^T: a bmm with 2 output columns is ~2x slower (measured)
        return torch.baddbmm(b.transpose(1, 2), W.transpose(1, 2), h.transpose(1, 2)).transpose(1, 2)

    def _batchnorm_layer(
        self, h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, layer: int, training: bool
    ) -> torch.Tensor:
        """BatchNorm1d of each model on its own statistics: the M models' features become M * h
        channels of one `F.batch_norm` (the kernel the per-run engine runs, per channel)."""
        M, B, width = h.shape
        mean, var = self._running[layer]
        flat = torch.nn.functional.batch_norm(
            h.transpose(0, 1).reshape(B, M * width),
            mean,
            var,
            weight.reshape(-1),
            bias.reshape(-1),
            training,
            0.1,
            1e-5,
        )
        return flat.view(B, M, width).transpose(0, 1)

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
        spec = self.spec
        weighted = torch.tensor(
            [not s.resample and (s.drw_epoch is None or self.epoch >= s.drw_epoch) for s in self.specs],
            device=self.device,
        )
        order = self._orders_this_epoch()
        # one gather per epoch, so that each step takes views (M, B, ...) of the epoch's data
        xs, ys = self._x[order], self._y[order]
        onehots = torch.nn.functional.one_hot(ys, self._k).to(self._weights.dtype) if self._by_hand else None
        ws = torch.where(
            weighted.unsqueeze(1), self._weights.gather(1, order), torch.ones_like(order, dtype=self._weights.dtype)
        )
        for start in range(0, order.shape[1], spec.batch_size):
            batch = slice(start, start + spec.batch_size)
            x, y, w = xs[:, batch], ys[:, batch], ws[:, batch]
            if onehots is not None:  # by hand
                self._ce_gradients(as_input(x).flatten(2), onehots[:, batch], w)
            else:
                params = [p.detach().requires_grad_() for p in self.params]
                logits = self.forward(x, params, self._dropout_masks(x.shape[1]))
                grads = torch.autograd.grad(self._loss(logits, y, w), params)
                torch.cat([g.reshape(-1) for g in grads], out=self._grad_flat)
            self._sgd_step()

    def _dropout_masks(self, batch: int) -> list[torch.Tensor]:
        """This step's dropout masks, drawn as `F.dropout` draws them on CPU (bernoulli(1 - p) on a
        (B, h) tensor, then / (1 - p)), each model from its own generator, layer after layer."""
        if not self._dropout:
            return []
        keep = 1.0 - self._dropout
        masks = [torch.empty(self.M, batch, h) for h in self._hidden]
        for m, rng in enumerate(self._dropout_rngs):
            for mask in masks:
                mask[m].bernoulli_(keep, generator=rng)
        return [mask.div_(keep).to(self.device) for mask in masks]

    @torch.no_grad()
    def _ce_gradients(self, x: torch.Tensor, onehot: torch.Tensor, w: torch.Tensor) -> None:
        """Backward pass by hand for the weighted cross-entropy into `_grads`: on nets this small,
        autograd's bookkeeping costs as much as the arithmetic. The ops autograd would run:
        d logits = (softmax - onehot) * w / denom, then bmm, sum and ReLU's threshold_backward per layer."""
        hs, h = [x], x
        n_layers = len(self.params) // 2
        for i in range(n_layers):
            h = torch.baddbmm(self.params[2 * i + 1], h, self.params[2 * i])
            if i < n_layers - 1:
                h = h.relu_()
                hs.append(h)
        denom = torch.where(self._mean_norm, float(w.shape[1]), w.sum(1).clamp_min(torch.finfo(w.dtype).tiny))
        g = torch.softmax(h, 2).sub_(onehot).mul_((w / denom.unsqueeze(1)).unsqueeze(2))
        for i in reversed(range(n_layers)):
            torch.bmm(hs[i].transpose(1, 2), g, out=self._grads[2 * i])
            torch.sum(g, 1, keepdim=True, out=self._grads[2 * i + 1])
            if i:  # (threshold_backward: elementwise ops on bool masks are ~10x slower here)
                g = torch.ops.aten.threshold_backward(torch.bmm(g, self.params[2 * i].transpose(1, 2)), hs[i], 0)

    def _loss(self, logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Sum over models of each model's `reduce_weighted(per_example_loss(...))`."""
        if all(s.loss == "ce" for s in self.specs):  # the same arithmetic for all models at once
            M, B = y.shape
            losses = torch.nn.functional.cross_entropy(
                logits.reshape(M * B, self._k), y.reshape(-1), reduction="none"
            ).view(M, B)
            total = (w * losses).sum(1)
            denom = torch.where(self._mean_norm, float(B), w.sum(1).clamp_min(torch.finfo(total.dtype).tiny))
            return (total / denom).sum()
        loss = logits.new_zeros(())
        for m, s in enumerate(self.specs):
            losses = per_example_loss(s.loss, logits[m], y[m], self._counts, **s.loss_params())
            loss = loss + reduce_weighted(losses, w[m], s.loss_norm)
        return loss

    @torch.no_grad()
    def _sgd_step(self) -> None:
        """torch.optim.SGD per model on the flat buffers: d = g + wd * p; with momentum
        buf = mu * buf + d (buf = d at the first step); p -= lr * d."""
        d = self._grad_flat
        if self._use_wd:
            d.addcmul_(self._wd, self._flat)
        if self._use_momentum:
            if self._buf is None:
                self._buf = d.clone()
            else:
                self._buf.mul_(self._momentum).add_(d)
            d = self._buf
        self._flat.addcmul_(self._lr, d, value=-1.0)

    # --- evaluation -------------------------------------------------------------------------

    @torch.no_grad()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Every model's logits on shared inputs: (M, len(x), K)."""
        step = self.eval_batch
        return torch.cat([self.forward(x[i : i + step].to(self.device)) for i in range(0, len(x), step)], 1)

    @torch.no_grad()
    def param_norms(self) -> list[float]:
        """`metrics.param_norm` of each model (same parameters, same order: weight, bias per layer)."""
        sq = sum(
            (p.detach().double().pow(2).flatten(1).sum(1) for p in self.params),
            torch.zeros((), dtype=torch.float64, device=self.device),
        )
        return sq.sqrt().cpu().tolist()

    @torch.no_grad()
    def evaluate(self) -> list[EpochResult]:
        """Every model's metrics in one pass per split (the per-model functions' vectorised twins)."""
        names = self.data.classes
        train_logits = self.logits(self._x)
        norms = self.param_norms()
        margins = normalised_margin_per_model(train_logits, self._y, norms)
        metrics: list[dict[str, dict[str, float]]] = []
        for m, on_train in enumerate(split_metrics_per_model(train_logits, self._y, names)):
            on_train["param_norm"] = norms[m]
            if (ess := self._ess[m]) is not None:
                on_train["effective_sample_size"] = ess
            if norms[m] > 0:  # undefined for an all-zero model, as in the per-run engine
                on_train["normalised_margin"] = margins[m]
            metrics.append({"train": on_train})
        unweighted = [m for m, carries in enumerate(self._intended) if carries]
        for split, (x, y) in self.data.evals.items():
            logits = self.logits(x)
            per_model = split_metrics_per_model(logits, None if y is None else y.to(self.device), names)
            intended = intended_frac_pos_per_model(logits[unweighted], INTENDED_WEIGHTS) if unweighted else []
            for m, values in enumerate(per_model):
                metrics[m][split] = values
            for m, fracs in zip(unweighted, intended):
                metrics[m][split].update({f"intended_frac_pos@{w:g}": f for w, f in zip(INTENDED_WEIGHTS, fracs)})
                if split == "test" and y is not None:
                    metrics[m][split].update(
                        self._bayes or references.calibrated_frac_pos(logits[m], y.to(self.device), INTENDED_WEIGHTS)
                    )
        boundaries: list = [None] * self.M
        if self.spec.is_2d:
            for m, g in enumerate(self._geometry()):
                metrics[m]["geometry"] = g
        # all models' grids (or image strips) in one batched pass; every batchable run has one
        if self.epoch in self._snapshots and self.grid is not None:
            probs = torch.softmax(self.logits(self.grid.inputs()), 2)[:, :, 1]
            boundaries = list(probs.reshape(self.M, len(self.grid.ys), len(self.grid.xs)).cpu().numpy())
        return [EpochResult(self.epoch, self.spec.epochs, metrics[m], boundaries[m]) for m in range(self.M)]

    def _geometry(self) -> list[dict[str, float]]:
        def margins(points: torch.Tensor) -> torch.Tensor:
            z = self.logits(points)
            return z[:, :, 1] - z[:, :, 0]

        assert self._centres is not None, "geometry readouts are for 2-D runs, which have class centres"
        normals = None
        if self._svm is not None:  # W (M, in, 2): column c is class c's weights
            normals = list((self.params[0][:, :, 1] - self.params[0][:, :, 0]).detach().cpu())
        return geometry.readouts_per_model(margins, self._centres, normals, self._svm)

"""The effective class weight of the epoch's objective against a hand computation, a simulation of
the batch order and the values of PAPER.md's corrections section."""

from __future__ import annotations

import numpy as np
import pytest

from worker.engine.losses import effective_pos_weight, run_effective_pos_weight
from worker.engine.spec import RunSpec


def simulated(n_pos: int, n_neg: int, batch: int, w: float, draws: int = 4000) -> float:
    """Shuffle, cut into batches, divide each batch by its sum of weights, and average each class's
    coefficients over many epochs: the definition, by brute force (all epochs at once)."""
    rng = np.random.default_rng(0)
    n = n_pos + n_neg
    y = rng.permuted(np.tile(np.r_[np.ones(n_pos), np.zeros(n_neg)], (draws, 1)), axis=1)
    weights = np.where(y == 1, w, 1.0)
    coef = np.empty_like(weights)
    for start in range(0, n, batch):
        b = weights[:, start : start + batch]
        coef[:, start : start + batch] = b / b.sum(1, keepdims=True)
    return (coef[y == 1].sum() / n_pos) / (coef[y == 0].sum() / n_neg)


def test_by_hand_one_positive_two_negatives_batch_two():
    # The positive shares the full batch with a negative (p = 2/3: coefficient 3/4 at w = 3) or is
    # alone (p = 1/3: 1). Negatives: 2/3 (1/4 + 1) + 1/3 (1/2 + 1/2) = 7/6 for two of them.
    # (5/6) / (7/12) = 10/7.
    assert effective_pos_weight(1, 2, 2, 3.0, "sum") == pytest.approx(10 / 7, rel=1e-12)


def test_mean_normalisation_keeps_the_nominal_weight():
    assert effective_pos_weight(37, 100, 8, 10.0, "mean") == 10.0


@pytest.mark.parametrize(("n_pos", "n_neg", "batch", "w"), [(20, 20, 8, 10.0), (5, 50, 16, 31.6), (12, 13, 5, 0.1)])
def test_sum_normalisation_matches_a_simulation_of_the_batch_order(n_pos, n_neg, batch, w):
    assert effective_pos_weight(n_pos, n_neg, batch, w, "sum") == pytest.approx(
        simulated(n_pos, n_neg, batch, w), rel=0.02
    )


@pytest.mark.parametrize(("n_pos", "n_neg", "batch", "w", "paper"), [
    (50_000, 50_000, 8, 10.0, 7.7), (50_000, 50_000, 8, 16.0, 11.9), (50_000, 50_000, 8, 256.0, 108),
    (10_000, 100_000, 16, 31.6, 15),
])  # fmt: skip
def test_the_values_of_the_corrections_section(n_pos, n_neg, batch, w, paper):
    # PAPER.md rounds to 2-3 digits, computed for large data (binomial batch composition)
    assert effective_pos_weight(n_pos, n_neg, batch, w, "sum") == pytest.approx(paper, rel=0.025)


def test_a_run_applies_weight_power_and_resampling():
    spec = RunSpec(pos_weight=2.0, weight_power=2.0, batch_size=8, loss_norm="mean")
    assert run_effective_pos_weight(spec, (100, 100)) == 4.0
    assert run_effective_pos_weight(spec.model_copy(update={"loss_norm": "sum", "resample": True}), (100, 100)) == 4.0
    assert run_effective_pos_weight(spec.model_copy(update={"loss_norm": "sum"}), (100, 100)) < 4.0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="normalisation"):
        effective_pos_weight(1, 1, 1, 1.0, "median")
    with pytest.raises(ValueError, match="both classes"):
        effective_pos_weight(0, 5, 2, 1.0, "sum")


def test_a_training_run_knows_its_effective_weight():
    from worker.engine.train import train

    training = train(RunSpec(pos_weight=10.0, n_train=100, batch_size=8, epochs=1), device="cpu")
    assert training.effective_pos_weight == pytest.approx(simulated(100, 100, 8, 10.0, draws=1000), rel=0.02)


def test_the_batched_engine_knows_each_runs_effective_weight():
    from worker.engine.batched import BatchedTraining
    from worker.engine.train import train

    specs = [
        RunSpec(pos_weight=w, n_train=50, epochs=1, loss_norm=norm)
        for w, norm in ((10.0, "sum"), (10.0, "mean"), (1.0, "sum"))
    ]
    batched = BatchedTraining(specs, device="cpu")
    assert batched.effective_pos_weights == [train(s, device="cpu").effective_pos_weight for s in specs]
    assert batched.effective_pos_weights[1:] == [10.0, 1.0]

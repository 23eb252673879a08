"""The grouped ConvNet engine (issue 4) against the per-run engine, on real CIFAR-10 cat/dog images."""

import math

import pytest
import torch

from worker.engine.batched import can_batch
from worker.engine.engines import batched_training
from worker.engine.grouped import GroupedTraining
from worker.engine.metrics import predictions
from worker.engine.spec import ExperimentSpec, RunSpec
from worker.engine.train import train

SMALL = dict(
    dataset="cifar10", model="convnet", width=4, n_train=24, n_test=16, ood=8, noise_images=8, batch_size=16, epochs=3
)


@pytest.fixture
def runs(cifar_jpeg) -> list[RunSpec]:
    base = RunSpec(**SMALL, data_path=str(cifar_jpeg))
    return ExperimentSpec(
        base=base, sweep={"pos_weight": [0.25, 4.0], "seed": [0, 1], "weight_decay": [0.0, 0.01]}
    ).runs()


def test_convnet_sweep_matches_per_run_engine(runs):
    naive = [train(s, device="cpu") for s in runs]
    naive_epochs = [list(t) for t in naive]
    grouped = batched_training(runs, device="cpu")
    assert isinstance(grouped, GroupedTraining)
    for e, results in enumerate(grouped):
        for m, got in enumerate(results):
            want = naive_epochs[m][e].metrics
            assert got.metrics.keys() == want.keys()
            for split in want:
                assert got.metrics[split].keys() == want[split].keys()
            # continuous readouts to 1e-5; the counts (acc, frac_pred_*) may differ only where a
            # grouped convolution's rounding flips a near-tie, which the logits check below bounds
            for split, name in [("train", "loss"), ("train", "param_norm"), ("test", "loss")]:
                assert abs(got.metrics[split][name] - want[split][name]) <= 1e-5, (e, m, split, name)
    for m, t in enumerate(naive):
        want, got = t.logits(t.data.x_test), grouped.logits(t.data.x_test)[m]
        assert (got - want).abs().max() <= 1e-4
        margin = (want[:, 1] - want[:, 0]).abs()
        clear = margin > 1e-3
        assert clear.float().mean() > 0.9
        assert torch.equal(predictions(got)[clear], predictions(want)[clear])


def test_models_train_on_their_own_minibatch_order(runs):
    # seeds 0 and 1 with the same weight: different orders and inits give different models
    grouped = GroupedTraining([runs[0], runs[4]], device="cpu")
    list(grouped)
    a, b = grouped.logits(grouped.data.x_test)
    assert not torch.allclose(a, b)
    assert all(math.isfinite(v) for v in grouped.param_norms())


def test_convnet_with_dropout_is_not_grouped(cifar_jpeg):
    a = RunSpec(**SMALL, data_path=str(cifar_jpeg), dropout=0.5)
    assert not can_batch([a, a.model_copy(update={"seed": 1})])


def test_auto_engine_groups_convnets_only_on_a_gpu():
    from worker.engine.export import plan_batches

    runs = ExperimentSpec(base=RunSpec(**SMALL), sweep={"pos_weight": [0.25, 4.0]}).runs()
    assert plan_batches(runs, "auto", "cpu") == [[0], [1]]  # grouped convolutions were no faster on a CPU
    assert plan_batches(runs, "batched", "cpu") == [[0, 1]]

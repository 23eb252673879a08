"""Remedies as their papers publish them, each against a value computed by hand: VS's gamma, DRW's
class-balanced weights and step schedule (Cao et al. 2019), LDAM's cosine head, Fixup vs a plain
ResNet without BatchNorm."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from worker.engine.losses import class_balanced_weights, per_example_loss, run_effective_pos_weight
from worker.engine.models import FixupBlock, FixupResNet, NormedLinear, ResNet, make_model
from worker.engine.spec import RunSpec
from worker.engine.train import step_lr_factor, train


def test_vs_gamma_defaults_to_the_papers_value_by_hand():
    assert RunSpec().vs_gamma == 0.3
    # counts (90, 10): Delta = (n_c / 90) ** 0.3, iota = log pi_c; z = (0.5, 1.0), y = positive
    z0, z1 = 0.5 * 1.0 + math.log(0.9), 1.0 * (10 / 90) ** 0.3 + math.log(0.1)
    expected = -z1 + math.log(math.exp(z0) + math.exp(z1))
    got = per_example_loss(
        "vs",
        torch.tensor([[0.5, 1.0]], dtype=torch.float64),
        torch.tensor([1]),
        torch.tensor([90.0, 10.0]),
        **RunSpec(loss="vs").loss_params(),
    )
    assert got.item() == pytest.approx(expected, rel=1e-12)


def test_class_balanced_weights_by_hand():
    beta = 0.9999
    # effective numbers E_n = (1 - beta^n) / (1 - beta): 99.5066 for 100, 9.99550 for 10
    e100, e10 = -math.expm1(100 * math.log1p(-1e-4)) / 1e-4, -math.expm1(10 * math.log1p(-1e-4)) / 1e-4
    assert e100 == pytest.approx(99.5066, abs=1e-4) and e10 == pytest.approx(9.9955, abs=1e-4)
    total = 1 / e100 + 1 / e10
    assert class_balanced_weights(torch.tensor([100.0, 10.0]), beta).tolist() == pytest.approx(
        [2 / e100 / total, 2 / e10 / total], rel=1e-5
    )
    assert class_balanced_weights(torch.tensor([100.0, 10.0]), 0.0).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError):
        class_balanced_weights(torch.tensor([100.0, 0.0]), beta)


def test_drw_switches_the_class_balanced_weights_on():
    spec = RunSpec(imbalance=10, n_train=100, drw_epoch=1, pos_weight=3.0, loss_norm="mean", epochs=1)
    training = train(spec, device="cpu")
    neg, pos = class_balanced_weights(torch.tensor([100.0, 10.0]), 0.9999).tolist()
    assert training._weights[training._y == 1].tolist() == pytest.approx([pos] * 10)
    assert training._weights[training._y == 0].tolist() == pytest.approx([neg] * 100)
    assert training.effective_pos_weight == pytest.approx(pos / neg, rel=1e-6)  # mean normalisation: the ratio itself
    kept = train(spec.model_copy(update={"drw_beta": None}), device="cpu")  # None: pos_weight, as before
    assert set(kept._weights[kept._y == 1].tolist()) == {3.0}
    assert run_effective_pos_weight(spec.model_copy(update={"drw_beta": None}), (100, 10)) == 3.0


def test_step_schedule_by_hand():
    # Cao et al. at 200 epochs: warm-up (e + 1) / 5 for e < 5, x0.01 from 160, x0.0001 from 180
    factors = {e: step_lr_factor(e, 200) for e in (0, 4, 5, 159, 160, 179, 180, 199)}
    assert factors == {0: 0.2, 4: 1.0, 5: 1.0, 159: 1.0, 160: 0.01, 179: 0.01, 180: 1e-4, 199: 1e-4}
    training = train(
        RunSpec(schedule="step", epochs=10, lr=0.5, n_train=8, eval_points=2, frames=2, grid=8), device="cpu"
    )
    lrs = []
    for result in training:
        lrs.append((result.epoch, training.opt.param_groups[0]["lr"]))
    # 10 epochs: no warm-up (round(10 / 40) = 0), x0.01 from epoch 8, x0.0001 from 9; after epoch e
    # finished, the optimiser holds the lr of epoch e
    assert dict(lrs)[0] == 0.5 and dict(lrs)[10] == pytest.approx(0.5e-4)


def test_cosine_head_by_hand():
    head = NormedLinear(2, 2)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))  # columns: class weights (1, 0) and (0, 2)
    assert head(torch.tensor([[3.0, 4.0]])).tolist() == [pytest.approx([0.6, 0.8])]  # cosines with (0.6, 0.8)
    ldam = make_model(RunSpec(model="mlp", hidden=[8], loss="ldam"), (2,))
    assert isinstance(ldam[-1], NormedLinear) and not isinstance(
        make_model(RunSpec(model="mlp", hidden=[8]), (2,))[-1], NormedLinear
    )
    z = ldam(torch.randn(50, 2))
    assert z.abs().max() <= 1.0 + 1e-6


def test_ldam_with_its_cosine_head_trains():
    results = list(
        train(
            RunSpec(
                model="mlp", hidden=[8], loss="ldam", imbalance=4, epochs=3, n_train=40, n_test=40, frames=2, grid=8
            ),
            device="cpu",
        )
    )
    assert all(math.isfinite(v) for r in results for values in r.metrics.values() for v in values.values())


def test_fixup_initialisation_by_hand():
    torch.manual_seed(0)
    net = FixupResNet(16)
    blocks = [m for m in net.modules() if isinstance(m, FixupBlock)]
    assert all(float(b.conv2.weight.detach().abs().sum()) == 0 for b in blocks)
    assert float(net[-1].weight.detach().abs().sum()) == 0 and float(net[-1].bias.detach().abs().sum()) == 0
    assert net(torch.randn(2, 3, 32, 32)).abs().max() == 0  # the classifier starts at zero
    # He-normal scaled by 6 ** -0.5: sd = sqrt(2 / fan_in) / sqrt(6), fan_in = 16 * 9 (2,304 draws)
    sd = float(blocks[0].conv1.weight.detach().std())
    assert sd == pytest.approx(math.sqrt(2 / 144) / math.sqrt(6), rel=0.05)


def test_plain_resnet_keeps_pytorchs_default_initialisation():
    torch.manual_seed(0)
    convs = [m for m in ResNet(16, batchnorm=False).modules() if isinstance(m, nn.Conv2d)]
    for conv in convs:  # kaiming_uniform(a = sqrt 5): |w| <= 1 / sqrt(fan_in), nothing zeroed
        bound = 1 / math.sqrt(conv.weight[0].numel())
        top = float(conv.weight.detach().abs().max())
        assert 0.9 * bound < top <= bound


def test_fixup_is_for_the_resnet_without_batchnorm():
    with pytest.raises(ValueError, match="fixup"):
        RunSpec(model="resnet", dataset="cifar10", batchnorm=True, fixup=True)
    assert isinstance(
        make_model(RunSpec(model="resnet", dataset="cifar10", batchnorm=False, fixup=True), (3, 32, 32)), FixupResNet
    )


def test_the_batched_engine_refuses_the_cosine_head():
    from worker.engine.batched import why_not_batchable

    assert "cosine" in why_not_batchable(
        [RunSpec(model="mlp", loss="ldam"), RunSpec(model="mlp", loss="ldam", pos_weight=2.0)]
    )

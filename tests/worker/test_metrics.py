"""Metrics against values counted by hand."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from worker.engine.metrics import (
    intended_frac_pos,
    intended_frac_pos_per_model,
    interpolation_epoch,
    normalised_margin,
    normalised_margin_per_model,
    param_norm,
    split_metrics,
    split_metrics_per_model,
)

# Five examples, logit difference z_pos - z_neg = 2, -1, 0.5, -3, 1:
# predictions 1, 0, 1, 0, 1 (3 of 5 positive); labels 1, 1, 0, 0, 0.
LOGITS = torch.tensor([[0.0, 2.0], [1.0, 0.0], [0.0, 0.5], [3.0, 0.0], [-1.0, 0.0]])
Y = torch.tensor([1, 1, 0, 0, 0])


def test_split_metrics_by_hand():
    m = split_metrics(LOGITS, Y)
    # correct: yes, no, no, yes, no
    assert m["acc"] == pytest.approx(2 / 5)
    assert m["acc_pos"] == pytest.approx(1 / 2)
    assert m["acc_neg"] == pytest.approx(1 / 3)
    assert m["balanced_acc"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert m["frac_pred_pos"] == pytest.approx(3 / 5)
    assert m["frac_pred_neg"] == pytest.approx(2 / 5)
    ce = [
        math.log1p(math.exp(-2.0)),
        math.log1p(math.exp(1.0)),
        math.log1p(math.exp(0.5)),
        math.log1p(math.exp(-3.0)),
        math.log1p(math.exp(1.0)),
    ]
    assert m["loss"] == pytest.approx(sum(ce) / 5, rel=1e-6)
    assert set(m) == {"loss", "acc", "balanced_acc", "acc_neg", "acc_pos", "frac_pred_neg", "frac_pred_pos"}


def test_class_names_keep_frac_pred_pos():
    m = split_metrics(LOGITS, Y, class_names=("cat", "dog"))
    assert m["frac_pred_dog"] == m["frac_pred_pos"] == pytest.approx(3 / 5)
    assert m["frac_pred_cat"] == pytest.approx(2 / 5)
    assert m["acc_dog"] == pytest.approx(1 / 2) and m["acc_cat"] == pytest.approx(1 / 3)
    assert "acc_pos" not in m
    with pytest.raises(ValueError):
        split_metrics(LOGITS, Y, class_names=("pos", "neg"))


def test_absent_class_is_omitted():
    y = torch.zeros(5, dtype=torch.long)  # only negatives: predictions 1,0,1,0,1 -> 2 of 5 right
    m = split_metrics(LOGITS, y)
    assert "acc_pos" not in m
    assert m["acc_neg"] == pytest.approx(2 / 5)
    assert m["balanced_acc"] == pytest.approx(2 / 5)  # mean over present classes only
    assert m["acc"] == pytest.approx(2 / 5)


def test_unlabelled_split_gives_only_fractions():
    m = split_metrics(LOGITS, None, class_names=("cat", "dog"))
    assert m == pytest.approx({"frac_pred_cat": 2 / 5, "frac_pred_dog": 3 / 5, "frac_pred_pos": 3 / 5})


def test_tie_goes_to_negative():
    m = split_metrics(torch.zeros(4, 2), None)
    assert m["frac_pred_pos"] == 0.0 and m["frac_pred_neg"] == 1.0


def test_interpolation_epoch():
    assert interpolation_epoch([0.5, 0.9, 0.99, 1.0, 0.995, 1.0]) == 3
    assert interpolation_epoch([1.0]) == 0
    assert interpolation_epoch([0.5, 0.999]) is None
    assert interpolation_epoch([]) is None


def test_intended_frac_pos():
    # logit differences 2, -1, 0.5, -3, 1
    assert intended_frac_pos(LOGITS, 1.0) == pytest.approx(3 / 5)
    # weight e^1.5 adds 1.5: differences 3.5, 0.5, 2, -1.5, 2.5 -> 4 of 5 positive
    assert intended_frac_pos(LOGITS, math.exp(1.5)) == pytest.approx(4 / 5)
    # weight e^-1.2 subtracts 1.2: 0.8, -2.2, -0.7, -4.2, -0.2 -> 1 of 5
    assert intended_frac_pos(LOGITS, math.exp(-1.2)) == pytest.approx(1 / 5)
    assert intended_frac_pos(LOGITS, 1e6) == 1.0
    assert LOGITS[0, 1].item() == 2.0  # the caller's logits are not modified
    with pytest.raises(ValueError):
        intended_frac_pos(LOGITS, 0.0)


def test_param_norm_and_normalised_margin():
    lin = nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 2.0], [0.0, -2.0]]))
        lin.bias.copy_(torch.tensor([0.0, 4.0]))
    assert param_norm(lin) == pytest.approx(5.0)  # sqrt(1 + 4 + 0 + 4 + 0 + 16)
    bn = nn.BatchNorm1d(3)  # weight 1,1,1; bias 0; running stats are buffers, not counted
    assert param_norm(bn) == pytest.approx(math.sqrt(3))
    # margins v = 2, -1, -0.5, 3, -1 -> min -1
    assert normalised_margin(LOGITS, Y, 5.0) == pytest.approx(-1 / 5)
    y_right = torch.tensor([1, 0, 1, 0, 1])  # v = 2, 1, 0.5, 3, 1 -> min 0.5
    assert normalised_margin(LOGITS, y_right, 2.0) == pytest.approx(0.25)


def test_per_model_metrics_by_hand():
    # model 0: the logits above; model 1: their negation, so differences -2, 1, -0.5, 3, -1 and
    # predictions 0, 1, 0, 1, 0 (correct: no, yes, yes, no, yes)
    both = torch.stack([LOGITS, -LOGITS])
    m0, m1 = split_metrics_per_model(both, Y)
    assert m0["acc"] == pytest.approx(2 / 5) and m1["acc"] == pytest.approx(3 / 5)
    assert m1["acc_pos"] == pytest.approx(1 / 2) and m1["acc_neg"] == pytest.approx(2 / 3)
    assert m1["balanced_acc"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert m1["frac_pred_pos"] == pytest.approx(2 / 5) and m1["frac_pred_neg"] == pytest.approx(3 / 5)
    ce1 = [math.log1p(math.exp(2.0)), math.log1p(math.exp(-1.0)), math.log1p(math.exp(-0.5)),
           math.log1p(math.exp(3.0)), math.log1p(math.exp(-1.0))]  # fmt: skip
    assert m1["loss"] == pytest.approx(sum(ce1) / 5, rel=1e-6)
    assert list(m0) == ["frac_pred_neg", "frac_pred_pos", "loss", "acc", "acc_neg", "acc_pos", "balanced_acc"]
    assert split_metrics_per_model(both, None, ("cat", "dog"))[1] == pytest.approx(
        {"frac_pred_cat": 3 / 5, "frac_pred_dog": 2 / 5, "frac_pred_pos": 2 / 5}
    )
    with pytest.raises(ValueError):
        split_metrics_per_model(LOGITS, Y)  # (B, 2): the model axis is missing


def test_per_model_intended_effect_and_margin_by_hand():
    both = torch.stack([LOGITS, -LOGITS])  # differences 2, -1, 0.5, -3, 1 and -2, 1, -0.5, 3, -1
    fracs = intended_frac_pos_per_model(both, [1.0, math.exp(1.5)])
    assert fracs[0] == pytest.approx([3 / 5, 4 / 5])
    assert fracs[1] == pytest.approx([2 / 5, 4 / 5])  # +1.5: -0.5, 2.5, 1, 4.5, 0.5
    # margins v of model 1 against Y: -2, -1, 0.5, -3, 1 -> min -3
    assert normalised_margin_per_model(both, Y, [5.0, 2.0]) == pytest.approx([-1 / 5, -3 / 2])
    assert math.isnan(normalised_margin_per_model(both, Y, [5.0, 0.0])[1])

"""Losses against values computed by hand (math.log / math.exp), not by the code under test."""

from __future__ import annotations

import math

import pytest
import torch

from worker.engine.losses import LOSSES, binary_margin, example_weights, per_example_loss, reduce_weighted
from worker.engine.spec import RunSpec

# Three examples: (z_neg, z_pos), label.
#   a: correct with margin v = 1.5   b: wrong, v = -2   c: correct (negative class), v = 0.2
Z = [(0.5, 2.0), (1.0, -1.0), (0.3, 0.1)]
Y = [1, 1, 0]
COUNTS = (90.0, 10.0)  # the positive class is the rarer one


def logits64() -> torch.Tensor:
    return torch.tensor(Z, dtype=torch.float64)


def labels() -> torch.Tensor:
    return torch.tensor(Y)


def counts() -> torch.Tensor:
    return torch.tensor(COUNTS, dtype=torch.float64)


def ce_by_hand(z: tuple[float, float], y: int) -> float:
    return math.log(math.exp(z[0]) + math.exp(z[1])) - z[y]


def check(kind: str, expected: list[float], **kw) -> None:
    got = per_example_loss(kind, logits64(), labels(), counts(), **kw)
    assert got.shape == (3,)
    assert got.tolist() == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_names():
    assert LOSSES == ("ce", "poly", "ldam", "la", "vs")


def test_binary_margin():
    assert binary_margin(logits64(), labels()).tolist() == pytest.approx([1.5, -2.0, 0.2])


def test_ce_by_hand():
    check(
        "ce",
        [
            math.log(math.exp(0.5) + math.exp(2.0)) - 2.0,
            math.log(math.exp(1.0) + math.exp(-1.0)) + 1.0,
            math.log(math.exp(0.3) + math.exp(0.1)) - 0.3,
        ],
    )
    # the same numbers as log(1 + e^-v)
    check("ce", [math.log1p(math.exp(-1.5)), math.log1p(math.exp(2.0)), math.log1p(math.exp(-0.2))])


@pytest.mark.parametrize("alpha", [1.0, 2.0, 0.5])
def test_poly_by_hand(alpha):
    c = math.log(1 + math.exp(-1))
    check(
        "poly",
        [
            1.5**-alpha,  # v = 1.5 > 1: polynomial tail
            math.log(1 + math.exp(2.0)) / c,  # v = -2 <= 1: rescaled logistic
            math.log(1 + math.exp(-0.2)) / c,  # v = 0.2
        ],
        poly_alpha=alpha,
    )


@pytest.mark.parametrize("alpha", [1.0, 2.0])
def test_poly_continuous_at_one_with_kink(alpha):
    v = torch.tensor([1 - 1e-9, 1.0, 1 + 1e-9], dtype=torch.float64, requires_grad=True)
    logits = torch.stack([torch.zeros_like(v), v], dim=1)  # y = 1, so the margin is v
    loss = per_example_loss("poly", logits, torch.ones(3, dtype=torch.long), counts(), poly_alpha=alpha)
    assert loss.tolist() == pytest.approx([1.0, 1.0, 1.0], abs=1e-8)
    (grad,) = torch.autograd.grad(loss.sum(), v)
    sig_m1 = 1 / (1 + math.exp(1))  # sigmoid(-1)
    left_slope = -sig_m1 / math.log(1 + math.exp(-1))  # -0.8585: the slope jumps at v = 1
    assert grad[0].item() == pytest.approx(left_slope, rel=1e-6)
    assert grad[2].item() == pytest.approx(-alpha, rel=1e-6)


def test_ldam_by_hand():
    # C = 0.5 * 10 ** 0.25 so that the rarer (positive) class gets Delta = 0.5.
    d_pos = 0.5
    d_neg = 0.5 * 10**0.25 / 90**0.25
    s = 30.0
    check(
        "ldam",
        [
            ce_by_hand((s * 0.5, s * (2.0 - d_pos)), 1),
            ce_by_hand((s * 1.0, s * (-1.0 - d_pos)), 1),
            ce_by_hand((s * (0.3 - d_neg), s * 0.1), 0),
        ],
        **RunSpec(loss="ldam").loss_params(),  # the spec's defaults: max margin 0.5, s = 30
    )


def ldam_margins(counts_, max_margin, scale=30.0):
    """Recover Delta_y from the loss at zero logits: CE(s * (0 - Delta_y, 0)) = log(1 + e^(s Delta_y))."""
    z = torch.zeros(2, 2, dtype=torch.float64)
    loss = per_example_loss(
        "ldam",
        z,
        torch.tensor([0, 1]),
        torch.tensor(counts_, dtype=torch.float64),
        ldam_max_margin=max_margin,
        ldam_scale=scale,
    )
    return [math.log(math.expm1(v)) / scale for v in loss.tolist()]


@pytest.mark.parametrize("counts_", [(90.0, 10.0), (10.0, 160.0), (50.0, 50.0)])
def test_ldam_rarer_class_gets_max_margin(counts_):
    d_neg, d_pos = ldam_margins(counts_, max_margin=0.7)
    rarer = 0 if counts_[0] < counts_[1] else 1
    assert max(d_neg, d_pos) == pytest.approx(0.7, rel=1e-9)
    assert (d_neg, d_pos)[rarer] == pytest.approx(0.7, rel=1e-9)
    assert d_pos / d_neg == pytest.approx((counts_[0] / counts_[1]) ** 0.25, rel=1e-9)


def test_la_by_hand():
    lp_neg, lp_pos = math.log(0.9), math.log(0.1)
    check(
        "la",
        [
            ce_by_hand((0.5 + lp_neg, 2.0 + lp_pos), 1),
            ce_by_hand((1.0 + lp_neg, -1.0 + lp_pos), 1),
            ce_by_hand((0.3 + lp_neg, 0.1 + lp_pos), 0),
        ],
        la_tau=1.0,
    )
    # tau = 2 doubles the adjustment
    check(
        "la",
        [
            ce_by_hand((0.5 + 2 * lp_neg, 2.0 + 2 * lp_pos), 1),
            ce_by_hand((1.0 + 2 * lp_neg, -1.0 + 2 * lp_pos), 1),
            ce_by_hand((0.3 + 2 * lp_neg, 0.1 + 2 * lp_pos), 0),
        ],
        la_tau=2.0,
    )


def test_vs_by_hand():
    g, tau = 0.3, 0.5
    d_neg, d_pos = 1.0, (10 / 90) ** g  # (n_c / n_max) ** gamma
    i_neg, i_pos = tau * math.log(0.9), tau * math.log(0.1)
    check(
        "vs",
        [
            ce_by_hand((d_neg * 0.5 + i_neg, d_pos * 2.0 + i_pos), 1),
            ce_by_hand((d_neg * 1.0 + i_neg, d_pos * -1.0 + i_pos), 1),
            ce_by_hand((d_neg * 0.3 + i_neg, d_pos * 0.1 + i_pos), 0),
        ],
        vs_gamma=g,
        vs_tau=tau,
    )


def test_reductions_to_ce():
    torch.manual_seed(0)
    z = torch.randn(50, 2, dtype=torch.float64) * 3
    y = torch.randint(0, 2, (50,))
    ce = per_example_loss("ce", z, y, counts())
    torch.testing.assert_close(per_example_loss("la", z, y, counts(), la_tau=0.0), ce)
    torch.testing.assert_close(per_example_loss("vs", z, y, counts(), vs_gamma=0.0, vs_tau=0.0), ce)
    # VS with gamma = 0 is logit adjustment with the same tau
    torch.testing.assert_close(
        per_example_loss("vs", z, y, counts(), vs_gamma=0.0, vs_tau=0.7),
        per_example_loss("la", z, y, counts(), la_tau=0.7),
    )
    # LDAM with margin 0 and scale 1 is CE
    torch.testing.assert_close(per_example_loss("ldam", z, y, counts(), ldam_max_margin=0.0, ldam_scale=1.0), ce)


def test_example_weights_exponentiated():
    y = torch.tensor([0, 1, 1, 0])
    w = example_weights(y, torch.tensor([1.0, 4.0]), power=1.5)
    assert w.tolist() == pytest.approx([1.0, 8.0, 8.0, 1.0])
    w = example_weights(y, torch.tensor([0.25, 1.0]))
    assert w.tolist() == pytest.approx([0.25, 1.0, 1.0, 0.25])
    w = example_weights(y, torch.tensor([2.0, 3.0]), power=2)
    assert w.tolist() == pytest.approx([4.0, 9.0, 9.0, 4.0])
    with pytest.raises(ValueError):
        example_weights(y, torch.tensor([1.0, -1.0]))


def test_reduce_weighted_by_hand():
    losses = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    w = torch.tensor([1.0, 10.0, 1.0], dtype=torch.float64)
    assert reduce_weighted(losses, w, "sum").item() == pytest.approx((1 + 20 + 4) / 12)
    assert reduce_weighted(losses, w, "mean").item() == pytest.approx((1 + 20 + 4) / 3)
    # sum normalisation ignores a common scale; mean normalisation scales with it
    for c in (0.01, 7.0, 256.0):
        assert reduce_weighted(losses, c * w, "sum").item() == pytest.approx(25 / 12)
        assert reduce_weighted(losses, c * w, "mean").item() == pytest.approx(c * 25 / 3)
    # unit weights: both are the plain mean
    ones = torch.ones(3, dtype=torch.float64)
    assert reduce_weighted(losses, ones, "sum").item() == pytest.approx(7 / 3)
    assert reduce_weighted(losses, ones, "mean").item() == pytest.approx(7 / 3)
    # all-zero weights under "sum": 0, not NaN
    assert reduce_weighted(losses, torch.zeros(3, dtype=torch.float64), "sum").item() == 0.0
    with pytest.raises(ValueError):
        reduce_weighted(losses, w, "max")


def test_weighted_ce_matches_torch_convention():
    # "sum" is exactly what CrossEntropyLoss(weight=class_weights) computes
    torch.manual_seed(1)
    z, y = torch.randn(20, 2, dtype=torch.float64), torch.randint(0, 2, (20,))
    cw = torch.tensor([1.0, 16.0], dtype=torch.float64)
    ours = reduce_weighted(per_example_loss("ce", z, y, counts()), example_weights(y, cw), "sum")
    ref = torch.nn.CrossEntropyLoss(weight=cw)(z, y)
    torch.testing.assert_close(ours, ref)


@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_stable_at_huge_margins(kind, dtype):
    v = 1e4
    z = torch.tensor([[0.0, v], [0.0, -v], [v, -v], [-v, v]], dtype=dtype, requires_grad=True)
    y = torch.tensor([1, 1, 0, 0])
    params = RunSpec(loss=kind).loss_params() | ({"poly_alpha": 2.0} if kind == "poly" else {})
    loss = per_example_loss(kind, z, y, counts().to(dtype), **params)
    assert torch.isfinite(loss).all(), loss
    assert (loss >= 0).all()
    assert loss[0] < 1e-3 and loss[2] < 1e-3  # right with a huge margin: ~0 loss
    assert loss[1] > 1e3 and loss[3] > 1e3  # wrong with a huge margin: large but finite
    (grad,) = torch.autograd.grad(reduce_weighted(loss, torch.tensor([1.0, 16.0, 1.0, 1 / 16], dtype=dtype), "sum"), z)
    assert torch.isfinite(grad).all(), grad


@pytest.mark.parametrize("kind", LOSSES)
def test_gradcheck(kind):
    # Points with margins away from poly's kink at v = 1.
    z = torch.tensor(
        [[0.2, 1.1], [1.3, -0.4], [0.3, 0.1], [-2.0, 1.5], [0.7, 0.6]], dtype=torch.float64, requires_grad=True
    )
    y = torch.tensor([1, 1, 0, 1, 0])
    w = torch.tensor([1.0, 4.0, 0.5, 2.0, 1.0], dtype=torch.float64)

    def f(logits):
        params = RunSpec(loss=kind).loss_params() | {"poly_alpha": 2.0, "ldam_scale": 5.0}
        return reduce_weighted(per_example_loss(kind, logits, y, counts(), **params), w, "sum")

    assert torch.autograd.gradcheck(f, (z,))


def test_bad_inputs():
    with pytest.raises(ValueError):
        per_example_loss("focal", logits64(), labels(), counts())
    with pytest.raises(ValueError):
        per_example_loss("ce", torch.zeros(3, 1), labels(), counts())
    with pytest.raises(ValueError):
        per_example_loss("la", logits64(), labels(), torch.tensor([10.0, 0.0]))
    with pytest.raises(ValueError):
        per_example_loss("poly", logits64(), labels(), counts(), poly_alpha=0.0)

"""Boundary geometry and the max-margin solver, on cases solved by hand."""

from __future__ import annotations

import math

import pytest
import torch

from worker.engine.geometry import (
    boundary_angle,
    boundary_offset,
    cosine,
    linear_boundary,
    linearly_separable,
    max_margin_direction,
    max_margin_reference,
    offsets_along,
    readouts,
    segment,
)

T = torch.tensor


def test_cosine_and_angle():
    assert cosine(T([1.0, 0.0]), T([1.0, 1.0])) == pytest.approx(1 / math.sqrt(2))
    assert cosine(T([3.0, 4.0]), T([-6.0, -8.0])) == pytest.approx(-1.0)
    assert math.isnan(cosine(T([0.0, 0.0]), T([1.0, 0.0])))
    assert boundary_angle(T([1.0, 0.0]), T([1.0, 1.0])) == pytest.approx(45.0)
    assert boundary_angle(T([1.0, 0.0]), T([-1.0, -1.0])) == pytest.approx(45.0)  # a line has no sign
    assert boundary_angle(T([1.0, 0.0]), T([0.0, 2.0])) == pytest.approx(90.0)
    assert boundary_angle(T([0.0, 1.0]), T([0.0, -3.0])) == pytest.approx(0.0, abs=1e-6)
    # the true boundary x2 = x1 of Wang et al.'s Gaussians has normal (1, -1)
    assert boundary_angle(T([1.0, -1.0 + 1e-3]), T([1.0, -1.0])) < 0.1


def test_linear_boundary():
    w, b = linear_boundary(T([[1.0, 2.0], [4.0, -1.0]]), T([0.5, 2.0]))
    assert w.tolist() == [3.0, -3.0] and b.item() == 1.5


def line(w, b):
    w = T(w, dtype=torch.float64)
    return lambda p: p.double() @ w + b


C_NEG, C_POS = T([0.0, 0.0]), T([2.0, 0.0])  # float32, like a model's inputs: ~1e-7 precision


def test_offset_linear_by_hand():
    # boundary x1 = 1: the midpoint
    assert boundary_offset(line([1.0, 0.0], -1.0), C_NEG, C_POS) == pytest.approx(0.0, abs=1e-12)
    # boundary x1 = 0.6: 0.3 of the way -> offset -0.2 (closer to the negative centre)
    assert boundary_offset(line([1.0, 0.0], -0.6), C_NEG, C_POS) == pytest.approx(-0.2, abs=1e-6)
    assert boundary_offset(line([1.0, 0.0], -0.6), C_NEG.double(), C_POS.double()) == pytest.approx(-0.2, abs=1e-12)
    # a tilted boundary x1 + x2 = 1.5 crosses the x1 axis at 1.5 -> s = 0.75
    assert boundary_offset(line([1.0, 1.0], -1.5), C_NEG, C_POS) == pytest.approx(0.25, abs=1e-6)
    # sub-grid precision from the interpolation, with a coarse grid
    assert boundary_offset(line([1.0, 0.0], -0.9876), C_NEG, C_POS, steps=11) == pytest.approx(
        0.9876 / 2 - 0.5, abs=1e-6
    )


def test_offset_sign_convention_upweighting_positive():
    # A symmetric classifier, then log(2) added to its positive logit (what weight 2 intends):
    # margin 2 (x1 - 1) + log 2 = 0 at x1 = 1 - log(2) / 2, i.e. s = 0.5 - log(2) / 4.
    def logits(p):
        m = 2 * (p[:, 0] - 1) + math.log(2)
        return torch.stack([torch.zeros_like(m), m], dim=1)  # (N, 2) logits are accepted too

    assert boundary_offset(logits, C_NEG, C_POS) == pytest.approx(-math.log(2) / 4, abs=1e-6)


def test_offset_without_a_crossing_is_the_side_the_segment_is_on():
    assert boundary_offset(line([1.0, 0.0], 5.0), C_NEG, C_POS) == -0.5  # all positive
    assert boundary_offset(line([1.0, 0.0], -5.0), C_NEG, C_POS) == 0.5  # all negative
    assert boundary_offset(line([0.0, 1.0], 0.0), C_NEG + T([0.0, 1.0]), C_POS + T([0.0, 1.0])) == -0.5
    # margin (x1 - 0.4)(x1 - 1.4) is negative for s in (0.2, 0.7): half the segment -> 0
    curved = lambda p: (p[:, 0] - 0.4) * (p[:, 0] - 1.4)  # noqa: E731
    assert boundary_offset(curved, C_NEG, C_POS) == pytest.approx(0.0, abs=1e-6)


# the centres of the two moons (synthetic._moon): the mean of (cos t, sin t) and of
# (1 - cos t, 0.5 - sin t) over t uniform in [0, pi]
MOON_NEG, MOON_POS = T([0.0, 2 / math.pi]), T([1.0, 0.5 - 2 / math.pi])
MOON_LENGTH = math.hypot(1.0, 0.5 - 4 / math.pi)  # |MOON_POS - MOON_NEG| = 1.2624


def circle(centre, radius, shift=0.0):
    """A curved boundary: negative inside the circle, positive outside, plus a logit shift."""
    return lambda p: ((p.double() - centre.double()) ** 2).sum(1) - radius**2 + shift


def test_offset_of_curved_boundaries_on_moons_by_hand():
    midpoint = (MOON_NEG + MOON_POS) / 2
    # a circle of radius 0.3 around the midpoint: two crossings, negative for |s - 0.5| < 0.3 / L
    assert boundary_offset(circle(midpoint, 0.3), MOON_NEG, MOON_POS) == pytest.approx(
        0.6 / MOON_LENGTH - 0.5, abs=1e-5
    )
    # a circle of radius 0.5 around the negative centre: one crossing at s = 0.5 / L
    assert boundary_offset(circle(MOON_NEG, 0.5), MOON_NEG, MOON_POS) == pytest.approx(
        0.5 / MOON_LENGTH - 0.5, abs=1e-5
    )
    # a circle around the segment's middle that does not reach it: all negative
    assert boundary_offset(circle(midpoint, 2.0), MOON_NEG, MOON_POS) == 0.5
    # adding log w to the positive logit shrinks the negative disc to radius sqrt(0.3^2 - log w):
    # the offset falls with w, whichever way the boundary is curved
    offsets = [boundary_offset(circle(midpoint, 0.3, math.log(w)), MOON_NEG, MOON_POS) for w in (0.9, 1.0, 1.05)]
    expected = [2 * math.sqrt(0.09 - math.log(w)) / MOON_LENGTH - 0.5 for w in (0.9, 1.0, 1.05)]
    assert offsets == pytest.approx(expected, abs=1e-5)
    assert offsets[0] > offsets[1] > offsets[2]


def as_xy(pos, neg):
    x = torch.tensor(pos + neg, dtype=torch.float64)
    y = torch.tensor([1] * len(pos) + [0] * len(neg))
    return x, y


def test_svm_symmetric_pair_plus_far_points():
    x, y = as_xy([[1, 0], [3, 2], [4, -3], [2, 0.5]], [[-1, 0], [-3, 1], [-2, -4], [-5, 0]])
    w, b = max_margin_direction(x, y)
    assert w.tolist() == pytest.approx([1.0, 0.0], abs=1e-6)
    assert b.item() == pytest.approx(0.0, abs=1e-6)


def test_svm_offset_and_tilted():
    # closest pair (3,0) / (1,0) at distance 2: margin 1 is the most possible -> x1 = 2, b = -2
    x, y = as_xy([[3, 0], [4, 1], [5, -2]], [[1, 0], [0, 3], [-1, -1]])
    w, b = max_margin_direction(x, y)
    assert w.tolist() == pytest.approx([1.0, 0.0], abs=1e-6)
    assert b.item() == pytest.approx(-2.0, abs=1e-6)
    # closest pair (1,1) / (-1,-1): normal (1,1)/sqrt 2 through the origin
    x, y = as_xy([[1, 1], [3, 0], [0, 4]], [[-1, -1], [-2, -3], [0, -3]])
    w, b = max_margin_direction(x, y)
    assert w.tolist() == pytest.approx([1 / math.sqrt(2)] * 2, abs=1e-6)
    assert b.item() == pytest.approx(0.0, abs=1e-6)


def test_svm_augmented_bias_differs_by_hand():
    # pos (2,1), neg (0,1). Free bias: x1 = 1, w = (1,0), b = -1.
    # Bias as a weight: min w1^2 + w2^2 + b^2 s.t. 2 w1 + w2 + b >= 1, w2 + b <= -1
    #   -> w2 = b = -1/2, w1 = 1: (w, b) = (1, -1/2, -1/2), normalised by ||w|| = sqrt(5/4).
    x, y = as_xy([[2, 1]], [[0, 1]])
    w, b = max_margin_direction(x, y)
    assert w.tolist() == pytest.approx([1.0, 0.0], abs=1e-6) and b.item() == pytest.approx(-1.0, abs=1e-6)
    w, b = max_margin_direction(x, y, bias="augmented")
    n = math.sqrt(1.25)
    assert w.tolist() == pytest.approx([1 / n, -0.5 / n], abs=1e-6)
    assert b.item() == pytest.approx(-0.5 / n, abs=1e-6)


def test_svm_beats_every_direction_on_random_blobs():
    # Independent check: the max-margin over a fine grid of directions, computed directly.
    g = torch.Generator().manual_seed(0)
    pos = torch.randn(40, 2, generator=g, dtype=torch.float64) * 0.5 + T([0.0, 2.0], dtype=torch.float64)
    neg = torch.randn(40, 2, generator=g, dtype=torch.float64) * 0.5 + T([2.0, 0.0], dtype=torch.float64)
    x, y = torch.cat([pos, neg]), torch.cat([torch.ones(40), torch.zeros(40)]).long()
    w, b = max_margin_direction(x, y)
    margins = (2 * y - 1) * (x @ w + b)
    svm_margin = margins.min().item()
    assert svm_margin > 0
    # at least 2 support vectors, one on each side, at the same distance
    sv = margins < svm_margin + 1e-6
    assert sv[y == 1].any() and sv[y == 0].any()
    theta = torch.linspace(0, 2 * math.pi, 20001, dtype=torch.float64)
    u = torch.stack([theta.cos(), theta.sin()], dim=1)  # candidate unit normals
    proj = x @ u.T
    best = ((proj[y == 1].min(0).values - proj[y == 0].max(0).values) / 2).max().item()
    assert best <= svm_margin + 1e-9
    assert best == pytest.approx(svm_margin, abs=1e-6)
    wa, ba = max_margin_direction(x, y, bias="augmented")  # separates too
    assert ((2 * y - 1) * (x @ wa + ba)).min() > 0


def test_separability_by_hand():
    assert linearly_separable(*as_xy([[1, 1], [2, 0]], [[-1, -1], [0, -2]]))
    assert not linearly_separable(*as_xy([[1, 1], [-1, -1]], [[1, -1], [-1, 1]]))  # XOR
    # one point exactly on the other class's side of every line through the rest: not separable
    assert not linearly_separable(*as_xy([[0, 0], [2, 0]], [[1, 0], [3, 1]]))
    assert not linearly_separable(*as_xy([[0, 0]], [[0, 0]]))  # the same point with both labels
    assert not linearly_separable(*as_xy([[0, 0], [1, 1]], []))  # one class only


def test_max_margin_reference_states_why_it_is_missing():
    normal, reason = max_margin_reference(*as_xy([[1, 1], [-1, -1]], [[1, -1], [-1, 1]]))
    assert normal is None and "not linearly separable" in reason
    normal, reason = max_margin_reference(*as_xy([[0, 2], [0, 3]], [[2, 0], [3, 0]]))
    assert reason is None and normal.tolist() == pytest.approx([-math.sqrt(0.5), math.sqrt(0.5)], abs=1e-6)


def test_svm_rejects_inseparable():
    x, y = as_xy([[1, 1], [-1, -1]], [[1, -1], [-1, 1]])  # XOR
    with pytest.raises(ValueError):
        max_margin_direction(x, y, max_iter=2000)
    with pytest.raises(ValueError):
        max_margin_direction(x, y, bias="augmented", max_iter=2000)
    with pytest.raises(ValueError):
        max_margin_direction(x, torch.ones(4, dtype=torch.long))


def test_offsets_of_many_models_at_once_by_hand():
    s, points = segment(C_NEG, C_POS, steps=2001)
    assert points[0].tolist() == [0.0, 0.0] and points[-1].tolist() == [2.0, 0.0] and len(s) == 2001
    x1 = points[:, 0].double()
    margins = torch.stack([
        x1 - 1.0,                    # crosses at the midpoint
        x1 - 0.6,                    # s = 0.3
        (x1 - 0.4) * (x1 - 1.4),     # negative for s in (0.2, 0.7): half the segment
        x1 + 5.0,                    # never crosses: all positive
        torch.where(x1 > 1.9, math.inf, x1 - 1.0),  # not finite
    ])  # fmt: skip
    got = offsets_along(s, margins)
    assert got[:4] == pytest.approx([0.0, -0.2, 0.0, -0.5], abs=1e-6)
    assert math.isnan(got[4])


def test_readouts_of_a_linear_model_name_its_angle_to_the_max_margin_boundary():
    centres = (torch.tensor([0.0, 0.0]), torch.tensor([2.0, 0.0]))
    tilted = torch.tensor([1.0, 1.0])  # boundary x1 + x2 = 1: crosses the segment at its midpoint, 45 degrees off
    out = readouts(lambda p: p @ tilted - 1.0, centres, normal=tilted, svm_normal=torch.tensor([1.0, 0.0]))
    assert out["offset"] == pytest.approx(0.0, abs=1e-3)
    assert out["svm_angle"] == pytest.approx(45.0) and out["svm_cosine"] == pytest.approx(math.sqrt(0.5))

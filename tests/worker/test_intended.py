"""References for the intended effect of a weight: the weighted Bayes decision on the synthetic
sets, and the log-w shift of a temperature-calibrated unweighted model, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from worker.engine.data import make_data
from worker.engine.intended import bayes_frac_pos, calibrated_frac_pos, posterior_pos, temperature
from worker.engine.metrics import intended_frac_pos
from worker.engine.spec import RunSpec
from worker.engine.synthetic import CENTRES, WANG_RADIUS
from worker.engine.train import train

WEIGHTS = (0.1, 1.0, 10.0)


def test_disjoint_blobs_leave_the_bayes_decision_to_the_support():
    spec = RunSpec(dataset="blobs")
    x = make_data(spec).evals["test"][0]
    # every test point lies in exactly one disc, where its class is certain: no weight changes it
    assert bayes_frac_pos(spec, x, WEIGHTS) == {
        "bayes_frac_pos@0.1": 0.5,
        "bayes_frac_pos@1": 0.5,
        "bayes_frac_pos@10": 0.5,
    }


def test_label_noise_by_hand():
    # 10% flipped: P(1 | x) = 0.9 in the positive disc, 0.1 in the negative one. w P > 1 - P:
    # w = 0.1 predicts nothing positive (0.09 < 0.1), w = 10 everything (1.0 > 0.9).
    spec = RunSpec(dataset="blobs", label_noise=0.1)
    x = make_data(spec).evals["test"][0]
    assert bayes_frac_pos(spec, x, WEIGHTS) == {
        "bayes_frac_pos@0.1": 0.0,
        "bayes_frac_pos@1": 0.5,
        "bayes_frac_pos@10": 1.0,
    }


def test_wang_gaussians_against_the_linear_bayes_boundary():
    # two Gaussians with one sd: log-odds = (|x - c0|^2 - |x - c1|^2) / (2 sd^2) + log(n_pos / n_neg),
    # linear in x, wherever both truncated discs hold x; elsewhere the disc decides
    spec = RunSpec(dataset="wang_gaussians", noise=2.0, n_train=200)
    x = make_data(spec).evals["test"][0].double().numpy()
    c0, c1 = (np.array(c) for c in CENTRES["wang_gaussians"])
    in0, in1 = (((x - c) ** 2).sum(1) <= WANG_RADIUS**2 for c in (c0, c1))
    for w in (1.0, 10.0, 30.0):
        log_odds = (((x - c0) ** 2).sum(1) - ((x - c1) ** 2).sum(1)) / 8 + math.log(20 / 200) + math.log(w)
        expected = np.where(in0 & in1, log_odds > 0, in1).mean()
        assert bayes_frac_pos(spec, torch.from_numpy(x), [w])[f"bayes_frac_pos@{w:g}"] == pytest.approx(expected)
    fracs = [bayes_frac_pos(spec, torch.from_numpy(x), [w])[f"bayes_frac_pos@{w:g}"] for w in (1.0, 10.0, 100.0)]
    assert fracs[0] < fracs[1] < fracs[2]  # the overlap lets every weight move the Bayes boundary


def test_moons_posterior_is_symmetric_about_the_moons_centre():
    # synthetic._moon maps the negative arc onto the positive one by the point reflection through
    # (0.5, 0.25): there the classes are equally likely, and reflected points swap posteriors
    spec = RunSpec(dataset="moons", noise=2.0)
    assert posterior_pos(spec, np.array([[0.5, 0.25]]))[0] == pytest.approx(0.5, abs=1e-12)
    x = np.array([[0.2, 0.6], [1.0, -0.4], [0.4, 0.3], [-0.5, 0.8]])
    assert posterior_pos(spec, x) + posterior_pos(spec, 2 * np.array([0.5, 0.25]) - x) == pytest.approx(1.0, abs=1e-9)
    # on the arcs, 0.5 from the other moon: the likelihood ratio is about exp(0.5^2 / (2 sd^2))
    on_arcs = posterior_pos(RunSpec(dataset="moons", noise=1.0), np.array([[1.0, -0.5], [0.0, 1.0]]))  # sd 0.1
    assert on_arcs == pytest.approx([1.0, 0.0], abs=1e-4)


def margins_logits(margins) -> torch.Tensor:
    m = torch.tensor(margins, dtype=torch.float64)
    return torch.stack([torch.zeros_like(m), m], 1)


def test_temperature_by_hand():
    # |margin| = 2 everywhere, 3 of 4 points right: the likelihood peaks where sigmoid(2 / T) = 3/4,
    # i.e. T = 2 / log 3
    logits, y = margins_logits([2.0, 2.0, -2.0, -2.0]), torch.tensor([1, 1, 0, 1])
    assert temperature(logits, y) == pytest.approx(2 / math.log(3), rel=1e-4)
    assert temperature(logits, torch.tensor([1, 1, 0, 0])) is None  # all right: no finite temperature


def test_calibrated_shift_survives_an_interpolating_model():
    # An overconfident model: margins +-200, one held-out point in four wrong. Its raw logits ignore
    # log 4; calibrated (T = 200 / log 3), log 4 > log 3 turns every negative prediction positive.
    logits, y = margins_logits([200.0, 200.0, -200.0, -200.0]), torch.tensor([1, 1, 0, 1])
    assert intended_frac_pos(logits, 4.0) == 0.5
    assert calibrated_frac_pos(logits, y, [2.0, 4.0]) == {"calibrated_frac_pos@2": 0.5, "calibrated_frac_pos@4": 1.0}
    assert calibrated_frac_pos(logits, torch.tensor([1, 1, 0, 0]), [4.0]) == {}


def test_unweighted_runs_record_the_reference_of_their_data():
    moons = list(
        train(RunSpec(dataset="moons", model="mlp", hidden=[8], epochs=1, n_train=20, n_test=20, frames=2, grid=8))
    )
    assert {k for k in moons[-1].metrics["test"] if k.startswith("bayes")} == {f"bayes_frac_pos@{w:g}" for w in
                                                                                sorted({4.0**k for k in range(-4, 5)} | {0.1, 10.0})}  # fmt: skip
    digits = list(
        train(RunSpec(dataset="digits", model="logreg", epochs=2, n_train=30, n_test=30, label_noise=0.2, lr=0.1))
    )
    assert not any(k.startswith("bayes") for r in digits for k in r.metrics["test"])  # no known density
    assert "calibrated_frac_pos@10" in digits[-1].metrics["test"]
    weighted = list(train(RunSpec(dataset="moons", pos_weight=10.0, epochs=1, n_train=20, n_test=20, frames=2, grid=8)))
    assert not any(k.startswith(("bayes", "calibrated")) for k in weighted[-1].metrics["test"])


def test_outcome_picks_the_best_reference_the_unweighted_runs_recorded():
    from worker.engine.outcome import Outcome

    o = Outcome()
    both = {"intended_frac_pos@10": 0.5, "calibrated_frac_pos@10": 0.8}
    o.add(RunSpec(pos_weight=1.0, seed=0), {3: {"test": both}})
    o.add(RunSpec(pos_weight=1.0, seed=1), {3: {"test": {"intended_frac_pos@10": 0.5}}})  # no finite temperature
    o.add(RunSpec(pos_weight=10.0), {3: {"test": {"frac_pred_pos": 0.9}}})
    assert o.reference_by_weight() == ("calibrated_frac_pos", {10.0: 0.8})  # the seed that has it
    o.add(RunSpec(pos_weight=1.0, seed=2), {3: {"test": {"bayes_frac_pos@10": 0.7}}})
    assert o.reference_by_weight() == ("bayes_frac_pos", {10.0: 0.7})

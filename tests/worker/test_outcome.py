"""Reading an outcome: spreads over seed means, fit and ordering checks, on hand-made histories."""

import math

import pytest

from worker.engine.outcome import (
    Outcome,
    all_fit,
    not_degenerate,
    ordered_by_weight,
    spread,
    spread_at_least,
    spread_shrinks,
)
from worker.engine.spec import RunSpec


def hist(fracs, train_acc=1.0):
    return {e: {"test": {"frac_pred_pos": f}, "train": {"acc": train_acc}} for e, f in enumerate(fracs)}


@pytest.fixture
def outcome():
    o = Outcome()
    # weight 0.1: seeds end at 0.4 and 0.6 (mean 0.5); weight 10: seeds end at 0.7 and 0.5 (mean 0.6)
    o.add(RunSpec(pos_weight=0.1, seed=0), hist([0.0, 0.1, 0.4]))
    o.add(RunSpec(pos_weight=0.1, seed=1), hist([0.0, 0.3, 0.6]))
    o.add(RunSpec(pos_weight=10, seed=0), hist([0.0, 0.9, 0.7]))
    o.add(RunSpec(pos_weight=10, seed=1), hist([0.0, 0.7, 0.5], train_acc=0.8))
    return o


def test_spread_is_over_seed_means(outcome):
    assert outcome.by_weight(1) == pytest.approx({0.1: 0.2, 10.0: 0.8})
    assert outcome.spread(1) == pytest.approx(0.6)
    assert outcome.spread("end") == pytest.approx(0.1)
    assert outcome.curve() == pytest.approx({0: 0.0, 1: 0.6, 2: 0.1})


def test_sparse_histories_read_the_last_evaluated_epoch():
    o = Outcome()
    o.add(RunSpec(pos_weight=1.0), {0: {"test": {"frac_pred_pos": 0.1}}, 4: {"test": {"frac_pred_pos": 0.7}}})
    assert o.value(o.runs[0][1], 3, "test", "frac_pred_pos") == 0.1
    assert o.value(o.runs[0][1], 4, "test", "frac_pred_pos") == 0.7
    assert o.value(o.runs[0][1], "end", "test", "frac_pred_pos") == 0.7


def test_checks_report_what_they_measured(outcome):
    assert spread_at_least(0.5, epoch=1).run(outcome) == (True, "0.600")
    assert spread_shrinks(0.1).run(outcome)[0] is False  # 0.1 > 0.1 x 0.6
    assert all_fit(0.99).run(outcome) == (False, "min train acc 0.800")
    assert ordered_by_weight().run(outcome) == (False, "1/2 seeds ordered")  # seed 1: 0.6 > 0.5
    assert not_degenerate(0.75).run(outcome)[0] is True


def test_where_filters_runs(outcome):
    assert len(outcome.where(seed=0).runs) == 2
    assert outcome.where(seed=0).spread("end") == pytest.approx(0.3)


def test_spread_ignores_nan():
    assert spread([0.76, 0.5, 0.03]) == pytest.approx(0.73)
    assert spread([0.4]) == 0.0
    assert spread([0.2, math.nan, 0.7]) == pytest.approx(0.5)
    assert math.isnan(spread([]))


def test_spread_of_the_seed_means_not_the_largest_per_seed_gap():
    o = Outcome()
    for weight, seed, value in [(0.1, 0, 0.0), (0.1, 1, 0.9), (10.0, 0, 0.9), (10.0, 1, 0.0)]:
        o.add(RunSpec(pos_weight=weight, seed=seed), {0: {"test": {"frac_pred_pos": value}}})
    assert o.spread(0) == 0.0  # the largest per-seed gap is 0.9

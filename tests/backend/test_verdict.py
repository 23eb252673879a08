"""GET /experiments/{id}/verdict: a preset's expected outcomes measured on the runs that succeeded so
far. The runs' histories are written here through the worker's own lifecycle calls, with values
chosen so that the expected numbers can be worked out by hand."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from backend import lifecycle
from worker.engine.presets import PRESETS

AT_1 = {1 / 16: 0.1, 1.0: 0.5, 16.0: 0.9}  # frac_pred_pos at epoch 1: spread 0.8
AT_END = {1 / 16: 0.49, 1.0: 0.5, 16.0: 0.6}  # at epoch 300: spread 0.11


@dataclass
class Epoch:
    epoch: int
    metrics: dict
    boundary: np.ndarray | None = None


def succeed(settings, run: dict) -> None:
    w, seed = run["params"]["pos_weight"], run["params"]["seed"]
    acc = 0.97 if (w, seed) == (16.0, 1) else 1.0
    history = [
        Epoch(e, {"test": {"frac_pred_pos": f}, "train": {"acc": acc}})
        for e, f in ((0, 0.5), (1, AT_1[w]), (300, AT_END[w]))
    ]
    claim, why = lifecycle.claim(settings, run["id"], "test-worker")
    assert claim is not None, why
    assert lifecycle.flush(settings, run["id"], claim.attempt, history, None) == "ok"
    assert lifecycle.finish(settings, run["id"], claim.attempt, "succeeded")


def test_a_preset_verdict_grows_as_its_runs_succeed(client, settings):
    spec = PRESETS["digits-pair"].quick.model_dump(mode="json") | {"name": "my digits"}
    exp = client.post("/api/v1/experiments", json=spec).json()
    runs = sorted(client.get(f"/api/v1/experiments/{exp['id']}/runs").json(), key=lambda r: r["index"])
    assert len(runs) == 6

    first = client.get(f"/api/v1/experiments/{exp['id']}/verdict").json()
    assert (first["preset"], first["variant"], first["runs_measured"], first["final"]) == (
        "digits-pair",
        "quick",
        0,
        False,
    )
    assert [c["met"] for c in first["checks"]] == [None, None, None]

    ready = [r for r in runs if r["params"]["pos_weight"] < 16]  # the two lighter arms
    for run in ready[:3]:
        succeed(settings, run)
    partial = client.get(f"/api/v1/experiments/{exp['id']}/verdict").json()
    assert partial["runs_measured"] == 3 and not partial["final"]
    assert (
        partial["checks"][0]["measured"] == "0.400" and partial["checks"][0]["met"] is False
    )  # 0.5 - 0.1, w = 16 not in yet

    for run in runs:
        if run not in ready[:3]:
            succeed(settings, run)
    done = client.get(f"/api/v1/experiments/{exp['id']}/verdict").json()
    assert done["runs_measured"] == 6 and done["final"]
    assert [(c["measured"], c["met"]) for c in done["checks"]] == [
        ("0.800", True),
        ("0.110", False),
        ("min train acc 0.970", False),
    ]
    assert [c["claim"] for c in done["checks"]] == [c.claim for c in PRESETS["digits-pair"].expected]


def test_a_spec_that_is_no_presets_has_no_verdict(client):
    exp = client.post(
        "/api/v1/experiments", json={"name": "mine", "base": {"epochs": 3}, "sweep": {"pos_weight": [1, 2]}}
    ).json()
    body = client.get(f"/api/v1/experiments/{exp['id']}/verdict").json()
    assert body["preset"] is None and body["checks"] == [] and "no preset" in body["note"]
    assert client.get("/api/v1/experiments/999999/verdict").status_code == 404


def test_the_l2_calibration_verdict_carries_its_shift_table(client, settings):
    from worker.engine.calibration import intended_shift
    from worker.engine.spec import RunSpec

    spec = PRESETS["l2-calibration"].quick.model_dump(mode="json")
    exp = client.post("/api/v1/experiments", json=spec).json()
    runs = client.get(f"/api/v1/experiments/{exp['id']}/runs").json()
    offset = {
        0.0: 0.0,
        0.01: 0.05,
    }  # the boundary's offset at w = 1, per L2; a weight w moves it by -0.1 log2(w) x (1 + L2 x 100)
    for run in runs:
        wd, w = run["params"]["weight_decay"], run["params"]["pos_weight"]
        moved = offset.get(wd, 0.0) - 0.1 * math.log2(w) * (1 + 100 * wd)
        claim, _ = lifecycle.claim(settings, run["id"], "test-worker")
        history = [Epoch(3000, {"geometry": {"offset": moved}, "test": {"frac_pred_pos": 0.5}, "train": {"acc": 1.0}})]
        assert lifecycle.flush(settings, run["id"], claim.attempt, history, None) == "ok"
        assert lifecycle.finish(settings, run["id"], claim.attempt, "succeeded")
    table = client.get(f"/api/v1/experiments/{exp['id']}/verdict").json()["calibration"]
    cells = {(c["weight_decay"], c["weight"]): c for c in table}
    assert len(cells) == len({r["params"]["weight_decay"] for r in runs}) * 4  # every weight but 1, per L2
    assert cells[(0.01, 16.0)]["realised"] == pytest.approx(-0.1 * 4 * 2)  # log2(16) = 4, x (1 + 1)
    assert cells[(0.0, 0.25)]["realised"] == pytest.approx(0.2)
    run_spec = RunSpec.model_validate(runs[0]["params"])
    assert cells[(0.0, 4.0)]["intended"] == pytest.approx(intended_shift(run_spec, 4.0))
    none = client.get(
        f"/api/v1/experiments/{client.post('/api/v1/experiments', json=PRESETS['digits-pair'].quick.model_dump(mode='json')).json()['id']}/verdict"
    )
    assert none.json()["calibration"] is None


def test_a_paired_check_carries_its_n_and_95_interval(client, settings):
    """bl-synth-l2 quick: at L2 0.2, w = 10 sits 0.10, 0.11, 0.12 above w = 1 in seeds 0, 1, 2 (w = 0.1
    as far below): the paired differences' t-interval, worked out here with scipy, on 3 pairs."""
    from scipy import stats

    spec = PRESETS["bl-synth-l2"].quick.model_dump(mode="json")
    exp = client.post("/api/v1/experiments", json=spec).json()
    for run in client.get(f"/api/v1/experiments/{exp['id']}/runs", params={"limit": 100}).json():
        p = run["params"]
        step = {0.1: -1, 1.0: 0, 10.0: 1}[p["pos_weight"]] * (0.10 + 0.01 * p["seed"]) if p["weight_decay"] else 0.0
        history = [Epoch(200, {"test": {"frac_pred_pos": 0.5 + 0.02 * p["seed"] + step}, "train": {"acc": 0.9}})]
        claim, _ = lifecycle.claim(settings, run["id"], "test-worker")
        assert lifecycle.flush(settings, run["id"], claim.attempt, history, None) == "ok"
        assert lifecycle.finish(settings, run["id"], claim.attempt, "succeeded")
    checks = client.get(f"/api/v1/experiments/{exp['id']}/verdict").json()["checks"]
    diffs = np.array([0.10, 0.11, 0.12])
    half = stats.t.ppf(0.975, 2) * diffs.std(ddof=1) / math.sqrt(3)
    up, down = (c for c in checks if "paired within seeds" in c["claim"])
    assert up["n"] == 3 and up["interval"] == pytest.approx([0.11 - half, 0.11 + half], abs=5e-4)
    assert down["n"] == 3 and down["interval"] == pytest.approx([-0.11 - half, -0.11 + half], abs=5e-4)
    assert up["met"] is True and down["met"] is True
    others = [c for c in checks if c not in (up, down)]
    assert others and all(c["n"] is None and c["interval"] is None for c in others), (
        "a single number (or not_degenerate's value range) is no interval"
    )


def test_a_check_result_takes_n_and_interval_from_the_engines_answer_not_its_text():
    from scipy import stats as sps

    from backend.verdict import CheckResult
    from worker.engine import stats

    p = stats.paired([0.0, 0.0, 0.0], [1.0, 2.0, 4.0])
    result = CheckResult.of("gain >= 0", True, stats.shown(p, "any note [0, 9], n = 7"))
    half = sps.t.ppf(0.975, 2) * np.std([1.0, 2.0, 4.0], ddof=1) / math.sqrt(3)
    assert result.n == 3 and result.interval == pytest.approx((7 / 3 - half, 7 / 3 + half), rel=1e-12)
    one = CheckResult.of("gain >= 0", False, stats.shown(stats.paired([0.0], [1.0])))
    assert one.n is None and one.interval is None, "one pair has no interval: none is served (no NaN in JSON)"
    assert CheckResult.of("x in [0, 1]", True, "0.5 in [0, 1], n = 4").interval is None  # text alone is no interval

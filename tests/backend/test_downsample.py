"""Curves thinned for plots: one set of epochs shared by every run, first and last kept."""

import math

import pytest

from backend import store
from backend.db import session_scope
from backend.downsample import pick_epochs
from tests.backend.test_api import SPEC, epoch_record


@pytest.mark.parametrize("n, budget", [(1001, 200), (1001, 3), (50, 7), (10, 10), (5, 40)])
def test_pick_epochs_keeps_the_ends_and_the_budget(n, budget):
    epochs = list(range(0, 2 * n, 2))  # even epochs only: picks must be recorded epochs
    picked = pick_epochs(epochs, budget)
    assert picked == sorted(set(picked)) and set(picked) <= set(epochs)
    assert picked[0] == epochs[0] and picked[-1] == epochs[-1]
    assert len(picked) == min(n, budget) or (n > budget and 2 <= len(picked) <= budget)


def test_pick_epochs_is_dense_early_and_reaches_late():
    picked = pick_epochs(list(range(1001)), 200)
    assert len(picked) >= 190, "collisions between log and linear targets should not waste the budget"
    assert set(range(10)) <= set(picked), "a log epoch axis needs every early epoch"
    gaps = [b - a for a, b in zip(picked, picked[1:])]
    assert max(gaps) <= math.ceil(1000 / 100) + 1, "the evenly spaced half covers the late epochs"


def record_history(client, settings, epochs: int) -> tuple[int, list[int]]:
    exp = client.post("/api/v1/experiments", json=SPEC).json()
    run_ids = [r["id"] for r in client.get(f"/api/v1/experiments/{exp['id']}/runs").json()][:2]
    with session_scope(settings.db_url) as s:
        for k, run_id in enumerate(run_ids):
            records = [
                epoch_record(e, {"test": {"frac_pred_pos": (e * (k + 1)) % 7 / 7, "acc": 0.5}}) for e in range(epochs)
            ]
            store.record_epochs(s, run_id, records)
    return exp["id"], run_ids


def test_max_points_thins_every_run_at_the_same_epochs(client, settings):
    exp_id, run_ids = record_history(client, settings, 300)
    url = f"/api/v1/experiments/{exp_id}/metrics"
    full = client.get(url, params={"metric": "frac_pred_pos"}).json()
    thin = client.get(url, params={"metric": "frac_pred_pos", "max_points": 40}).json()
    assert len(full) == 600, "full resolution stays the default (exports read it)"
    per_run = {rid: [r["epoch"] for r in thin if r["run_id"] == rid] for rid in run_ids}
    assert per_run[run_ids[0]] == per_run[run_ids[1]], "seed means need the same epochs in every run"
    kept = per_run[run_ids[0]]
    assert 2 < len(kept) <= 40 and kept[0] == 0 and kept[-1] == 299
    exact = {(r["run_id"], r["epoch"]): r["value"] for r in full}
    assert all(exact[(r["run_id"], r["epoch"])] == r["value"] for r in thin), (
        "thinning drops rows, never changes values"
    )
    one = client.get(f"/api/v1/runs/{run_ids[1]}/metrics", params={"max_points": 40}).json()
    assert {r["epoch"] for r in one} == set(kept) and {r["metric"] for r in one} == {"frac_pred_pos", "acc"}


@pytest.mark.parametrize("value", ["1", "0", "-3", "many"])
def test_a_bad_max_points_is_a_422_naming_it(client, settings, value):
    exp_id, run_ids = record_history(client, settings, 3)
    for url in (f"/api/v1/experiments/{exp_id}/metrics", f"/api/v1/runs/{run_ids[0]}/metrics"):
        resp = client.get(url, params={"max_points": value})
        assert resp.status_code == 422
        assert resp.json()["detail"][0]["loc"][-1] == "max_points"


def test_runs_report_the_first_epoch_at_full_training_accuracy(client, settings):
    exp = client.post("/api/v1/experiments", json=SPEC).json()
    a, b, c = [r["id"] for r in client.get(f"/api/v1/experiments/{exp['id']}/runs").json()][:3]
    with session_scope(settings.db_url) as s:
        store.record_epochs(
            s, a, [epoch_record(e, {"train": {"acc": v}}) for e, v in enumerate([0.5, 0.9, 1.0, 0.99, 1.0])]
        )
        store.record_epochs(s, b, [epoch_record(e, {"train": {"acc": 0.9}, "test": {"acc": 1.0}}) for e in range(3)])
    fits = {r["id"]: r["fit_epoch"] for r in client.get(f"/api/v1/experiments/{exp['id']}/runs").json()}
    assert fits[a] == 2 and fits[b] is None and fits[c] is None
    assert client.get(f"/api/v1/runs/{a}").json()["fit_epoch"] == 2

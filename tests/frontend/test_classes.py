"""More than two classes: the experiment page draws one class's readout at a time (a select), its
spread across the class weights, and says why realised vs intended is a two-class panel. Against
the real API in-process (SQLite), with histories written through the worker's own calls."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from backend import lifecycle
from backend.app import create_app
from backend.settings import Settings
from frontend.client import ApiClient
from frontend.components import classes, sweep
from frontend.pages.experiment.data import figures_for
from frontend.pages.experiment.layout import layout
from frontend.pages.experiment.views import curve_view, effect_view

from .test_pages import by_id
from .test_tables import texts

CSV = Path(__file__).resolve().parents[2] / "examples" / "three-classes.csv"
SPEC = {
    "name": "three",
    "base": {"dataset": "table", "data_path": str(CSV), "label_column": "label", "epochs": 3},
    "sweep": {"class_weights": [{}, {"fox": 6.0}], "seed": [0, 1]},
}


def fox_share(run: dict, epoch: int) -> float:
    """Hand-set readouts: weighting fox up by 6 makes 0.2 more of the test set predicted fox."""
    return 0.1 + (0.2 if run["params"]["class_weights"] else 0.0) * epoch / 3 + 0.01 * run["params"]["seed"]


@pytest.fixture
def lab(tmp_path):
    settings = Settings(home=tmp_path)
    with TestClient(create_app(settings)) as api:
        client = ApiClient("http://testserver", transport=api._transport)
        exp = api.post("/api/v1/experiments", json=SPEC).json()
        runs = api.get(f"/api/v1/experiments/{exp['id']}/runs").json()
        for run in runs:
            history = [
                SimpleNamespace(
                    epoch=e,
                    metrics={
                        "test": {
                            "frac_pred_cat": 0.6,
                            "frac_pred_dog": 0.3 - fox_share(run, e) + 0.1,
                            "frac_pred_fox": fox_share(run, e),
                            "acc_cat": 0.9,
                            "acc_fox": 0.5,
                        }
                    },
                    boundary=None,
                )
                for e in range(4)
            ]
            claim, why = lifecycle.claim(settings, run["id"], "test-worker")
            assert claim is not None, why
            assert lifecycle.flush(settings, run["id"], claim.attempt, history, None) == "ok"
            assert lifecycle.finish(settings, run["id"], claim.attempt, "succeeded")
        yield client, exp, runs


def test_class_options_in_class_order_and_none_for_two_classes():
    rows = [{"split": "test", "metric": m} for m in ("frac_pred_10", "frac_pred_9", "acc_9", "frac_pred_2", "loss")]
    assert [o["value"] for o in classes.options(rows)] == ["frac_pred_2", "frac_pred_9", "acc_9", "frac_pred_10"]
    binary = [{"split": "test", "metric": m} for m in ("frac_pred_pos", "frac_pred_3", "frac_pred_5")]
    assert classes.options(binary) == []


def test_a_class_weights_sweep_groups_and_labels_by_its_dicts():
    runs = [
        {"id": i + 1, "index": i, "params": {"class_weights": cw, "seed": s, "pos_weight": 1.0}}
        for i, (cw, s) in enumerate([({}, 0), ({"fox": 6.0}, 0), ({}, 1), ({"fox": 6.0}, 1)])
    ]
    groups = sweep.groups(runs)
    assert [g["label"] for g in groups] == ["weights = all 1", "weights = fox:6"]
    assert [[r["id"] for r in g["runs"]] for g in groups] == [[1, 3], [2, 4]]
    assert [r["id"] for r in sweep.in_slice(runs, {"class_weights": {"fox": 6.0}})] == [2, 4]


def test_the_page_draws_the_weighted_class_by_default_and_any_class_on_request(lab):
    client, exp, runs = lab
    data = figures_for(client, exp["id"], runs, "test")
    assert data["metric"] == "frac_pred_fox", "the class the sweep weights comes first"
    assert [o["value"] for o in data["metric_options"]] == [
        "frac_pred_cat",
        "acc_cat",
        "frac_pred_dog",
        "frac_pred_fox",
        "acc_fox",
    ]
    by_label = {c["label"]: c for c in data["curves"]}
    weighted = by_label["weights = fox:6"]
    assert weighted["epoch"] == [0, 1, 2, 3] and weighted["n"] == [2, 2, 2, 2]
    assert weighted["mean"][3] == pytest.approx(0.1 + 0.2 + 0.005), "the seed mean of 0.3 and 0.31"
    (spread,) = data["spread"]
    assert spread["value"][3] == pytest.approx(0.2) and spread["value"][0] == pytest.approx(0.0)

    fig = curve_view(data, False, None)
    assert fig.layout.title.text == "Fraction predicted fox, in-domain test"
    assert not [t for t in fig.data if (t.meta or {}).get("role") == "reference"], "no class's true share is known"
    effect = effect_view(data, None)
    assert "needs two classes" in effect.layout.annotations[0].text

    recall = figures_for(client, exp["id"], runs, "test", "acc_cat")
    assert recall["metric"] == "acc_cat" and [c["mean"][-1] for c in recall["curves"]] == pytest.approx([0.9, 0.9])
    assert figures_for(client, exp["id"], runs, "test", "frac_pred_pos")["metric"] == "frac_pred_fox", (
        "a metric this experiment does not record falls back to the default"
    )


def test_the_page_layout_offers_the_class_select_and_says_why_there_is_no_picture(lab):
    client, exp, _ = lab
    tree = layout(client, exp["id"], {"metric": "frac_pred_cat"}, 1.0)
    select = by_id(tree, "class-select")
    assert select.value == "frac_pred_cat" and "d-none" not in select.className and len(select.options) == 5
    assert texts(by_id(tree, "curve-heading"))[0] == "frac_pred_cat"
    assert texts(by_id(tree, "first-card-title")) == ["What the weight changes"]
    assert "no boundary frames" in " ".join(texts(by_id(tree, "probe-strip")))
    assert "d-none" in by_id(tree, "seed-select").className, "no picture: no seed to pick one for"


def test_a_two_class_class_weights_sweep_says_realised_vs_intended_is_drawn_over_pos_weight(tmp_path):
    settings = Settings(home=tmp_path)
    spec = {"name": "cw", "base": {"epochs": 1}, "sweep": {"class_weights": [{}, {"pos": 4.0}]}}
    with TestClient(create_app(settings)) as api:
        client = ApiClient("http://testserver", transport=api._transport)
        exp = api.post("/api/v1/experiments", json=spec).json()
        runs = api.get(f"/api/v1/experiments/{exp['id']}/runs").json()
        for run in runs:
            weighted = bool(run["params"]["class_weights"])
            record = {"frac_pred_pos": 0.7 if weighted else 0.5, "intended_frac_pos@1": 0.5}
            history = [SimpleNamespace(epoch=1, metrics={"test": record}, boundary=None)]
            claim, _ = lifecycle.claim(settings, run["id"], "test-worker")
            assert lifecycle.flush(settings, run["id"], claim.attempt, history, None) == "ok"
            assert lifecycle.finish(settings, run["id"], claim.attempt, "succeeded")
        data = figures_for(client, exp["id"], runs, "test", spec=exp["spec"])
    assert data["metric"] == "frac_pred_pos" and data["metric_options"] == [] and data["true_share"] == 0.5
    assert data["effect"] == {"why": classes.BY_POS_WEIGHT}, "not both runs pooled as one 'w = 1' point"
    assert data["spread"][0]["value"] == [pytest.approx(0.2)], "the spread is across the class weightings"

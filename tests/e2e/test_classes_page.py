"""A three-class table experiment's page in a real Chromium: a select picks which class's readout
the curves draw (by default the class the class_weights sweep weights), the URL keeps the choice,
and the first card and the realised-vs-intended panel say why they have nothing two-class to show.
Screenshots go to pytest's tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import expect

from tests.e2e.test_dashboard import wait_until

CSV = Path(__file__).resolve().parents[2] / "examples" / "three-classes.csv"
LEGEND = "() => Array.from(document.querySelectorAll('#curve-graph .legendtext')).map(t => t.textContent)"
CURVE_TITLE = "() => document.querySelector('#curve-graph .gtitle').textContent"


def test_a_three_class_page_draws_one_class_at_a_time(stack, page, tmp_path):
    base, procs, logs = stack
    api = httpx.Client(base_url=procs["dashboard"].args[-1] + "/api/v1", timeout=30)
    spec = {
        "name": "three classes",
        "base": {"dataset": "table", "data_path": str(CSV), "label_column": "label", "model": "logreg", "epochs": 15},
        "sweep": {"class_weights": [{}, {"fox": 6.0}], "seed": [0, 1]},
    }
    exp = api.post("/experiments", json=spec).json()
    wait_until(
        lambda: api.get(f"/experiments/{exp['id']}").json()["status"] in ("succeeded", "failed"), 240, "runs", logs
    )
    assert api.get(f"/experiments/{exp['id']}").json()["status"] == "succeeded"

    page.goto(f"{base}/experiments/{exp['id']}")
    select = page.locator("#class-select")
    expect(select).to_be_visible()
    expect(select).to_have_value("frac_pred_fox")  # the class the sweep weights
    labels = select.locator("option:not([hidden])").all_inner_texts()  # dbc's hidden placeholder aside
    assert labels == [
        "predicted cat",
        "recall of cat",
        "predicted dog",
        "recall of dog",
        "predicted fox",
        "recall of fox",
    ]
    expect(page.locator("#curve-heading")).to_contain_text("frac_pred_fox")
    wait_until(lambda: page.evaluate(CURVE_TITLE) == "Fraction predicted fox, in-domain test", 60, "the curves", logs)
    legend = page.evaluate(LEGEND)
    assert legend == ["weights = all 1", "weights = fox:6"], "one curve per class weighting, no '0.5 = true share'"
    expect(page.locator("#first-card-title")).to_have_text("What the weight changes")
    expect(page.locator("#probe-strip")).to_contain_text("record no boundary frames")
    expect(page.locator("#effect-graph")).to_contain_text("needs two classes")
    assert not re.search("have not started|queued and have not", page.inner_text("body"))
    page.screenshot(path=str(tmp_path / "three-classes-fox.png"), full_page=True)

    select.select_option("acc_cat")
    wait_until(lambda: page.evaluate(CURVE_TITLE).startswith("Recall of class cat"), 60, "the recall curves", logs)
    expect(page).to_have_url(re.compile(r"metric=acc_cat"))
    expect(page.locator("#curve-heading")).to_contain_text("acc_cat")
    page.reload()
    expect(page.locator("#class-select")).to_have_value("acc_cat")  # the URL keeps the choice
    page.screenshot(path=str(tmp_path / "three-classes-recall.png"), full_page=True)
    assert not page.errors, page.errors

"""The dashboard's flows in a real headless Chromium, on one stack: the experiment view's analysis
panels, a shared URL opened in a fresh browser context, CSV export, cancelling a running run, the
run view, and comparing runs from two experiments. Saves docs/run-page.png and docs/compare-page.png.

Two experiments go in through the API: A (3 logistic-regression runs, 30 epochs) finishes quickly;
B (one MLP run of 20,000 epochs) is still training when the test cancels it from its page.
"""

from __future__ import annotations

import csv
import re
import time

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import DOCS, WIDTH, logs_of, run_field
from tests.e2e.test_browser import COUNT, TITLE

A = {
    "name": "fade for compare",
    "base": {"model": "logreg", "epochs": 30, "lr": 0.05},
    "sweep": {"pos_weight": [0.1, 1, 10], "seed": [0]},
}
B = {"name": "long mlp", "base": {"model": "mlp", "epochs": 20000, "lr": 0.05}, "sweep": {"pos_weight": [1]}}


def wait_until(check, timeout: float, what: str, logs) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{logs_of(logs)}")
        time.sleep(0.5)


def test_analysis_share_export_cancel_run_view_and_compare(stack, page, tmp_path):
    base, procs, logs = stack
    api = httpx.Client(base_url=procs["dashboard"].args[-1] + "/api/v1", timeout=30)
    a = api.post("/experiments", json=A).json()
    b = api.post("/experiments", json=B).json()
    wait_until(
        lambda: api.get(f"/experiments/{a['id']}").json()["status"] in ("succeeded", "failed"),
        180,
        "experiment A",
        logs,
    )
    runs_a = api.get(f"/experiments/{a['id']}/runs").json()
    assert [r["status"] for r in runs_a] == ["succeeded"] * 3, runs_a

    # -- the experiment view: curves, the spread and realised vs intended, all from the API
    page.goto(f"{base}/experiments/{a['id']}")
    page.wait_for_function(f"({COUNT})(['curve-graph', 'mean']) === 3")
    page.wait_for_function(f"({COUNT})(['spread-graph', 'spread']) === 1")
    page.wait_for_function(
        f"({COUNT})(['effect-graph', 'realised']) === 1 && ({COUNT})(['effect-graph', 'intended']) === 1"
    )
    weights = page.evaluate(
        "() => document.querySelector('#effect-graph .js-plotly-plot').data.find(t => t.meta.role === 'realised').x"
    )
    assert weights == [0.1, 1, 10]
    page.locator("#logx").check()
    handle = page.locator("#epoch-slider [role=slider]").first
    handle.focus()
    handle.press("Home")
    handle.press("ArrowRight")
    expect(page.locator("#epoch-label")).to_have_text("epoch 1 of 30")
    page.wait_for_url(re.compile(r"epoch=1\b.*logx=1"))
    shared = page.url

    # -- a shared URL in a fresh browser context (no cookies, no storage) shows the same view
    other = page.context.browser.new_context(viewport={"width": WIDTH, "height": 900})
    fresh = other.new_page()
    fresh.goto(shared)
    expect(fresh.locator("#epoch-label")).to_have_text("epoch 1 of 30", timeout=30_000)
    expect(fresh.locator("#logx")).to_be_checked()
    fresh.wait_for_function(f"({TITLE})('boundary-graph') === 'Decision boundary at epoch 1'")
    assert fresh.evaluate("() => document.querySelector('#curve-graph .js-plotly-plot').layout.xaxis.type") == "log"
    other.close()

    # -- export CSV: every row the API holds, with the swept parameters as columns
    with page.expect_download() as download:
        page.click("#export-csv")
    with open(download.value.path()) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:4] == ["pos_weight", "effective_pos_weight", "seed", "run_id"]
    assert all(float(r["effective_pos_weight"]) > 0 for r in rows), "the worker recorded each run's effective weight"
    assert len(rows) == len(api.get(f"/experiments/{a['id']}/metrics").json())
    assert {float(r["pos_weight"]) for r in rows} == {0.1, 1.0, 10.0}

    # -- cancel B's run from its experiment page while it trains
    wait_until(
        lambda: api.get(f"/experiments/{b['id']}").json()["status"] == "running", 120, "experiment B to start", logs
    )
    page.goto(f"{base}/experiments/{b['id']}")
    page.locator("#run-table .run-cancel").click()
    expect(page.locator("#exp-status")).to_have_text("cancelled", timeout=60_000)
    expect(page.locator("#run-table .run-retry")).to_be_visible()
    run_b = api.get(f"/experiments/{b['id']}/runs").json()[0]
    assert run_b["status"] == "cancelled" and 0 < run_b["epochs_done"] < 20000

    # -- the run view
    run = runs_a[2]
    page.goto(f"{base}/runs/{run['id']}")
    expect(page.locator("#run-status")).to_have_text("succeeded")
    expect(page.locator("#run-spec-table")).to_contain_text("pos_weight")
    expect(page.locator("#run-env-table")).to_contain_text(run["worker"])
    expect(page.locator("#run-metrics")).to_contain_text("frac_pred_pos")
    page.wait_for_function(
        "() => { const g = document.querySelector('#run-graph .js-plotly-plot'); return g && g.data && g.data.length >= 2; }"
    )
    page.wait_for_timeout(300)
    page.screenshot(path=str(DOCS / "run-page.png"), full_page=True)

    # -- compare: all of A's runs and B's run, added from two experiments with the picker
    page.goto(f"{base}/compare")
    expect(page.locator("#compare-empty")).to_be_visible()
    for exp in (a, b):
        page.locator("#pick-experiment").select_option(str(exp["id"]))
        expect(page.locator("#pick-runs")).to_be_enabled()
        page.wait_for_timeout(500)  # the run options load; an empty selection adds them all
        page.click("#pick-add")
    expect(page.locator(".tray-chip")).to_have_count(4)
    ids = [r["id"] for r in runs_a] + [run_b["id"]]
    page.wait_for_url(re.compile("runs=" + ",".join(map(str, ids))))
    page.wait_for_function(f"({COUNT})(['cmp-curves', 'compare-curve']) === 4")
    page.wait_for_function(f"({COUNT})(['cmp-boundary', 'compare-boundary']) === 4")
    expect(page.locator("#cmp-diff-table")).to_contain_text("experiment")
    expect(page.locator("#cmp-diff-table")).to_contain_text("model")
    page.wait_for_timeout(300)
    page.screenshot(path=str(DOCS / "compare-page.png"), full_page=True)

    # the comparison is its URL: reopening it shows the same tray
    page.goto(page.url)
    expect(page.locator(".tray-chip")).to_have_count(4)

    # -- a 3-axis sweep from the builder: weights x learning rate x weight decay (x 1 seed)
    page.goto(f"{base}/new")
    page.fill("#field-name", "three axes")
    page.fill("#field-weights", "0.5, 2")
    page.fill("#field-seeds", "0")
    run_field(page, "epochs").fill("5")
    page.locator("#sweep-builder summary").click()  # the builder is folded away
    page.locator("#axis-param-0").select_option("lr")
    page.fill("#axis-values-0", "0.01, fast")
    expect(page.locator("#run-count")).to_contain_text("lr: 'fast' is not a number")
    page.fill("#axis-values-0", "0.01, 0.05")
    page.locator("#axis-param-1").select_option("weight_decay")
    page.fill("#axis-values-1", "0, 20")  # the API allows at most 10: its 422 comes back on that box
    expect(page.locator("#run-count")).to_contain_text("2 weights × 2 lr × 2 weight_decay × 1 seeds = 8 runs")
    expect(page.locator("#run-count")).to_contain_text("on one worker")
    page.click("#submit")
    expect(page.locator("#form-error")).to_contain_text("Weight decay: Input should be less than or equal to 10")
    expect(run_field(page, "weight_decay")).not_to_have_class(re.compile("is-invalid"))  # the base value is fine
    expect(page.locator("#axis-values-1")).to_have_class(re.compile("is-invalid"))
    page.fill("#axis-values-1", "0, 0.001")
    page.click("#submit")
    page.wait_for_url(re.compile(r"/experiments/\d+"))
    expect(page.locator("#run-table .run-row")).to_have_count(8)
    new_id = int(re.search(r"/experiments/(\d+)", page.url).group(1))
    assert api.get(f"/experiments/{new_id}").json()["spec"]["sweep"] == {
        "pos_weight": [0.5, 2.0],
        "lr": [0.01, 0.05],
        "weight_decay": [0.0, 0.001],
        "seed": [0],
    }
    assert not page.errors, page.errors
    for name, proc in procs.items():
        assert proc.poll() is None, f"{name} exited early\n{logs_of(logs)}"

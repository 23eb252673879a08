"""The realised-vs-intended panel in a real Chromium on a 2-D preset: it names the reference it
shows (the weighted Bayes decision: blobs have known densities) and follows the epoch slider; the
run page shows the nominal and effective weight a real worker recorded."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import DOCS, logs_of
from worker.engine.presets import PRESETS

TITLE = "id => { const g = document.querySelector(`#${id} .js-plotly-plot`); return g && g.layout && g.layout.title ? g.layout.title.text : ''; }"
SUBTITLE = "id => { const g = document.querySelector(`#${id} .js-plotly-plot`); const t = g && g.layout && g.layout.title; return t && t.subtitle ? t.subtitle.text : ''; }"


def test_effect_panel_names_its_reference_and_follows_the_slider(stack, page):
    base, procs, logs = stack
    spec = PRESETS["bl-synth-linear"].spec(quick=True).model_dump(mode="json")
    # the preset uses B&L's mean form (effective = nominal); the run page's check needs the sum form, where they differ
    spec["base"]["loss_norm"] = "sum"
    api = httpx.Client(base_url=procs["dashboard"].args[-1] + "/api/v1", timeout=30)
    exp = api.post("/experiments", json=spec).json()
    page.goto(f"{base}/experiments/{exp['id']}")
    status = page.locator("#exp-status")
    expect(status).to_have_text(re.compile("succeeded|failed"), timeout=240_000)
    assert status.text_content() == "succeeded", logs_of(logs)
    epochs = spec["base"]["epochs"]

    page.goto(f"{base}/experiments/{exp['id']}?seed=0")
    page.wait_for_function(f"({TITLE})('effect-graph') === 'Realised vs intended effect at epoch {epochs}'")
    assert page.evaluate(SUBTITLE, "effect-graph").startswith("intended: the weighted Bayes decision")
    legend = page.evaluate("() => document.querySelector('#effect-graph .js-plotly-plot').data.map(t => t.name)")
    assert legend == ["intended, n = 3", "realised (trained with the weight, n = 3)"]

    handle = page.locator("#epoch-slider [role=slider]").first
    handle.focus()
    handle.press("Home")
    expect(page.locator("#epoch-label")).to_have_text(f"epoch 0 of {epochs}")
    page.wait_for_function(f"({TITLE})('effect-graph') === 'Realised vs intended effect at epoch 0'")

    page.goto(f"{base}/experiments/{exp['id']}?seed=0&epoch=3")
    page.wait_for_function(f"({TITLE})('effect-graph') === 'Realised vs intended effect at epoch 3'")
    page.wait_for_timeout(500)  # let Plotly finish drawing
    page.screenshot(path=str(DOCS / "experiment-effect-panel.png"), full_page=True)

    # the run page says what the weight did: balanced 100 + 100 blobs, batch 8, loss_norm sum
    weighted = next(r for r in api.get(f"/experiments/{exp['id']}/runs").json() if r["params"]["pos_weight"] == 10)
    page.goto(f"{base}/runs/{weighted['id']}")
    expect(page.locator("#run-env-table")).to_contain_text(
        "nominal 10, effective 7.82"
    )  # docs/readouts.md's measured value
    expect(page.locator("#run-env-table")).to_contain_text("(loss_norm sum, batch 8)")
    expect(page.locator("#run-not-recorded")).to_have_text("Every readout is recorded.")
    assert not page.errors, page.errors

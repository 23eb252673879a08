"""The whole path in a real headless Chromium: form -> API -> Celery worker -> SQLite -> animated plots.

Starts `iwlab api`, `iwlab worker` and `iwlab dashboard` as subprocesses in a throwaway IWLAB_HOME
(SQLite + Celery's filesystem broker), submits a 3-weight experiment from /new, waits for it to
finish, then checks the boundary panels, the curves, the slider and the Play button. It saves the
README's screenshots to docs/. With CI=true a missing Chromium or Playwright fails instead of skipping.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import DOCS, logs_of, run_field

EPOCHS = 40

# JS helpers: count traces of a Plotly graph by their `meta.role` (set by frontend/components/figures/).
COUNT = "([id, role]) => { const g = document.querySelector(`#${id} .js-plotly-plot`); return g && g.data ? g.data.filter(t => t.meta && t.meta.role === role).length : 0; }"
# the x coordinates of each boundary panel's P = 0.5 line (a frame change patches them)
LINES = "() => document.querySelector('#boundary-graph .js-plotly-plot').data.filter(t => t.meta && t.meta.role === 'boundary').map(t => Array.from(t.x))"
TITLE = "id => { const g = document.querySelector(`#${id} .js-plotly-plot`); return g && g.layout && g.layout.title ? g.layout.title.text : ''; }"


def test_submit_watch_and_animate(stack, page):
    base, procs, logs = stack

    # -- the list starts empty and says what to do
    page.goto(base + "/experiments")
    expect(page.locator("#empty-state")).to_be_visible()

    # -- the form: a value outside the catalog's limits is marked inline and refused on submit
    page.goto(base + "/new")
    page.fill("#field-name", "weights fade")
    run_field(page, "model").select_option("logreg")
    page.fill("#field-weights", "0.1, 1, 10")
    page.fill("#field-seeds", "0")
    run_field(page, "epochs").fill(str(EPOCHS))
    run_field(page, "lr").fill("0.05")
    expect(page.locator("#run-count")).to_have_text(re.compile(r"= 3 runs"))
    run_field(page, "epochs").fill("0")
    expect(run_field(page, "epochs")).to_have_class(
        re.compile("is-invalid")
    )  # the catalog's limit, checked as you type
    expect(page.locator("#run-count")).to_have_text("3 runs; no time estimate while Epochs is invalid")
    page.click("#submit")
    expect(page.locator("#form-error")).to_contain_text("Epochs: give a whole number from 1 to 100000")
    assert "/new" in page.url
    run_field(page, "epochs").fill(str(EPOCHS))
    expect(page.locator("#form-error-alert")).to_have_count(0)  # the banner spoke of the old value: it goes with it
    expect(page.locator("#run-count")).to_have_text(re.compile(r"= 3 runs, ~"))
    page.click("#submit")

    # -- the experiment page: wait for the worker to finish all three runs
    page.wait_for_url(re.compile(r"/experiments/\d+"))
    exp_url = page.url.split("?")[0]
    status = page.locator("#exp-status")
    expect(status).to_have_text(re.compile("succeeded|failed"), timeout=180_000)
    if status.text_content() != "succeeded":
        raise AssertionError(f"the experiment failed: {page.locator('#run-table').inner_text()}\n{logs_of(logs)}")
    expect(page.locator("#run-table")).to_contain_text("epoch 40 of 40")
    assert page.locator("#run-table .run-row").count() == 3

    # (a) three boundary panels, each a heatmap + the P = 0.5 line; (b) three curves
    page.wait_for_function(f"({COUNT})(['boundary-graph', 'heatmap']) === 3")
    assert page.evaluate(COUNT, ["boundary-graph", "boundary"]) == 3
    last_lines = page.evaluate(LINES)
    assert all(len(xs) >= 3 for xs in last_lines)  # every trained model has a boundary in its window
    page.wait_for_function(f"({COUNT})(['curve-graph', 'mean']) === 3")
    names = page.evaluate(
        "() => document.querySelector('#curve-graph .js-plotly-plot').data.filter(t => t.meta && t.meta.role === 'mean').map(t => t.name)"
    )
    assert names == ["w = 0.1", "w = 1", "w = 10"]
    label = page.locator("#epoch-label")
    expect(label).to_have_text(f"epoch {EPOCHS} of {EPOCHS}")

    # the slider moves the frames: Home goes to epoch 0, the arrow key one frame on
    handle = page.locator("#epoch-slider [role=slider]").first
    handle.focus()
    handle.press("Home")
    expect(label).to_have_text(f"epoch 0 of {EPOCHS}")
    page.wait_for_function(f"({TITLE})('boundary-graph') === 'Decision boundary at epoch 0'")
    handle.press("ArrowRight")
    expect(label).to_have_text(f"epoch 1 of {EPOCHS}")
    page.wait_for_function(f"({TITLE})('boundary-graph') === 'Decision boundary at epoch 1'")
    assert page.evaluate(LINES) != last_lines  # the lines moved with the frame
    page.wait_for_url(re.compile(r"epoch=1\b"))  # the URL carries the view (its own callback: may land after the label)

    # Play animates through the recorded epochs, Pause stops
    page.click("#play")
    expect(page.locator("#play")).to_contain_text("Pause")
    page.wait_for_function("() => !/^epoch [01] of/.test(document.querySelector('#epoch-label').textContent)")
    page.wait_for_function(f"({TITLE})('boundary-graph') !== 'Decision boundary at epoch 1'")
    if "Pause" in page.locator("#play").inner_text():  # else it already reached the last frame and stopped
        page.click("#play")
    expect(page.locator("#play")).to_contain_text(
        "Play", timeout=15_000
    )  # ticks already queued on a busy machine finish first

    # the screenshot for the README: an early epoch, where the weights still matter
    page.goto(exp_url + "?seed=0&epoch=3")
    expect(label).to_have_text(re.compile(rf"epoch 3 of {EPOCHS}"))
    page.wait_for_function(f"({COUNT})(['curve-graph', 'mean']) === 3")
    page.wait_for_function(f"({TITLE})('boundary-graph') === 'Decision boundary at epoch 3'")
    page.wait_for_timeout(500)  # let Plotly finish drawing
    page.screenshot(path=str(DOCS / "experiment-page.png"), full_page=True)

    page.goto(base + "/experiments")
    expect(page.locator("#experiments-table")).to_contain_text("weights fade")
    expect(page.locator("#experiments-table")).to_contain_text("succeeded")
    page.screenshot(path=str(DOCS / "experiments-page.png"), full_page=True)
    assert not page.errors, page.errors
    for name, proc in procs.items():
        assert proc.poll() is None, f"{name} exited early\n{logs_of(logs)}"

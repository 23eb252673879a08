"""The /new form generated from the catalog, in a real headless Chromium: digits + MLP + LDAM picked
from the form, the parameters that matter appearing with the choices, a limit checked as you type,
the API's 422 shown on the field it names, and the experiment created with what was picked.
Saves docs/new-experiment-page.png."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import DOCS, run_field


def feedback(page, name: str):
    return page.locator(f"""[id='{{"name":"{name}","type":"run-feedback"}}']""")


def test_digits_mlp_ldam_from_the_form(stack, page):
    base, procs, logs = stack
    api = httpx.Client(base_url=procs["dashboard"].args[-1] + "/api/v1", timeout=30)
    page.goto(base + "/new")
    expect(run_field(page, "noise")).to_be_visible()
    expect(run_field(page, "hidden")).to_be_hidden()
    page.fill("#field-name", "digits ldam")
    page.fill("#field-weights", "1, 5")
    page.fill("#field-seeds", "0")

    run_field(page, "dataset").select_option("digits")
    expect(run_field(page, "classes")).to_be_visible()
    expect(run_field(page, "noise")).to_be_hidden()  # 2-D only
    run_field(page, "model").select_option("mlp")
    expect(run_field(page, "hidden")).to_be_visible()
    run_field(page, "hidden").fill("32")
    run_field(page, "loss").select_option("ldam")
    expect(run_field(page, "ldam_scale")).to_be_visible()
    expect(run_field(page, "poly_alpha")).to_be_hidden()
    run_field(page, "ldam_max_margin").fill("0.3")
    run_field(page, "epochs").fill("5")

    # the catalog's limit (LDAM scale at most 100), checked as you type
    run_field(page, "ldam_scale").fill("500")
    expect(run_field(page, "ldam_scale")).to_have_class(re.compile("is-invalid"))
    expect(feedback(page, "ldam_scale")).to_have_text("give a number above 0 and at most 100")
    run_field(page, "ldam_scale").fill("20")
    expect(run_field(page, "ldam_scale")).not_to_have_class(re.compile("is-invalid"))

    page.locator("#advanced-data summary").click()
    run_field(page, "label_noise").fill("0.1")
    expect(page.locator("#run-count")).to_have_text(re.compile(r"2 weights × 1 seeds = 2 runs"))
    page.screenshot(path=str(DOCS / "new-experiment-page.png"), full_page=True)

    # a rule only the API knows (two different classes) comes back on the field it names
    run_field(page, "classes").fill("3, 3")
    page.click("#submit")
    expect(page.locator("#form-error")).to_contain_text("Classes (negative, positive): give two different class names")
    expect(run_field(page, "classes")).to_have_class(re.compile("is-invalid"))
    expect(feedback(page, "classes")).to_contain_text("two different class names")
    run_field(page, "classes").fill("3, 8")
    expect(run_field(page, "classes")).not_to_have_class(re.compile("is-invalid"))
    page.click("#submit")

    page.wait_for_url(re.compile(r"/experiments/\d+"))
    expect(page.locator("#run-table .run-row")).to_have_count(2)
    exp_id = int(re.search(r"/experiments/(\d+)", page.url).group(1))
    spec = api.get(f"/experiments/{exp_id}").json()["spec"]
    picked = {
        k: spec["base"].get(k)
        for k in (
            "dataset",
            "classes",
            "model",
            "hidden",
            "loss",
            "ldam_max_margin",
            "ldam_scale",
            "label_noise",
            "epochs",
        )
    }
    assert picked == {"dataset": "digits", "classes": ["3", "8"], "model": "mlp", "hidden": [32], "loss": "ldam",
                      "ldam_max_margin": 0.3, "ldam_scale": 20.0, "label_noise": 0.1, "epochs": 5}  # fmt: skip
    assert spec["sweep"] == {"pos_weight": [1.0, 5.0], "seed": [0]}
    assert not page.errors, page.errors


def group(page, name: str):
    return page.locator(f"""[id='{{"name":"{name}","type":"run-group"}}']""")


def test_one_message_per_field_no_native_bubble_and_no_estimate_for_invalid_input(stack, page, tmp_path):
    base, _, _ = stack
    page.goto(base + "/new")
    expect(run_field(page, "epochs")).to_be_visible()
    run_field(page, "epochs").fill("0")
    expect(feedback(page, "epochs")).to_have_text("give a whole number from 1 to 100000")
    # the page's message is the only one: the browser holds the field valid (no tooltip of its own)
    expect(group(page, "epochs").locator(".invalid-feedback:visible")).to_have_count(1)
    assert page.evaluate("document.querySelectorAll('form :invalid').length") == 0
    expect(page.locator("#run-count")).to_contain_text("no time estimate while Epochs is invalid")
    page.click("#submit")
    expect(page.locator("#form-error-alert")).to_contain_text("Epochs: give a whole number from 1 to 100000")
    assert page.evaluate("document.querySelector('form').checkValidity()"), "nothing for the browser to report"
    page.screenshot(path=str(tmp_path / "new-form-invalid.png"), full_page=True)
    run_field(page, "epochs").fill("5")  # the banner spoke of the values submitted: it goes on change
    expect(page.locator("#form-error-alert")).to_have_count(0)
    expect(feedback(page, "epochs")).to_be_hidden()
    expect(page.locator("#run-count")).to_contain_text("runs")
    expect(page.locator("#run-count")).not_to_contain_text("no time estimate")
    assert not page.errors, page.errors

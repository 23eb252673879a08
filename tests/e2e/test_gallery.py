"""The presets gallery in a real headless Chromium: open it, run `digits-pair` quick, watch it finish;
then find it in the experiments list by its tag chip and by sorting. Opens one run's status history.

Uses the e2e stack (API + one Celery worker + dashboard in a throwaway IWLAB_HOME) and saves
docs/presets-gallery.png. digits-pair is offline (scikit-learn's digits) and its quick variant is 6 runs.
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import DOCS, logs_of


def test_run_a_preset_from_the_gallery(stack, page, tmp_path):
    base, procs, logs = stack

    # the experiments list starts empty and points to the gallery, which is the home page
    page.goto(base + "/experiments")
    expect(page.locator("#empty-state")).to_be_visible()
    page.click("#nav-presets")
    page.wait_for_url(re.compile(r"/$"))
    expect(page).to_have_title("Presets · iwlab")
    gallery = page.locator("#presets-gallery")
    expect(gallery).to_be_visible()
    assert gallery.locator(".preset-card").count() >= 8
    assert gallery.locator("img.preset-thumb").count() == gallery.locator(".preset-card").count()
    card = page.locator("#preset-digits-pair")
    expect(card).to_contain_text("Handwritten digits 3 vs 5")
    expect(card).to_contain_text("6 runs × 300 epochs")
    expect(page.locator("#preset-bl-cifar-cnn .preset-needs")).to_contain_text("Needs CIFAR-10")
    assert page.locator("#preset-digits-pair .preset-needs").count() == 0
    page.goto(base + "/")  # a fresh load: no focus ring on the navbar link in the screenshot
    expect(card).to_contain_text("Handwritten digits 3 vs 5")
    page.wait_for_timeout(300)
    page.screenshot(path=str(DOCS / "presets-gallery.png"), full_page=True)

    # Run quick submits the preset's spec and opens the experiment, which the worker finishes
    card.get_by_role("button", name="Run quick").click()
    page.wait_for_url(re.compile(r"/experiments/\d+"))
    status = page.locator("#exp-status")
    expect(status).to_have_text(re.compile("succeeded|failed"), timeout=240_000)
    if status.text_content() != "succeeded":
        raise AssertionError(f"the preset failed: {page.locator('#run-table').inner_text()}\n{logs_of(logs)}")
    assert page.locator("#run-table .run-row").count() == 6
    expect(page.locator("#run-table")).to_contain_text("epoch 300 of 300")

    # the preset's verdict on the page: each expectation with what the runs measured, as the API evaluates it
    exp_id = int(page.url.rsplit("/", 1)[-1].split("?")[0])
    measured = httpx.get(procs["dashboard"].args[-1] + f"/api/v1/experiments/{exp_id}/verdict", timeout=60).json()
    assert measured["final"] and measured["runs_measured"] == 6
    expect(page.locator("#verdict-card")).to_contain_text("Verdict: digits-pair (quick)")
    expect(page).to_have_title("digits-pair (quick) · iwlab")
    expect(page.locator("#logx")).to_be_checked()  # 300 epochs: the axis starts logarithmic
    expect(page.locator("#verdict-state")).to_contain_text("final:")
    rows = page.locator("#verdict-table tbody tr")
    expect(rows).to_have_count(len(measured["checks"]))
    for row, check in zip(rows.all(), measured["checks"]):
        expect(row).to_contain_text(check["claim"])
        expect(row).to_contain_text(check["measured"])
        expect(row.locator(".verdict-mark")).to_have_text(
            {True: "met", False: "not met", None: "pending"}[check["met"]], ignore_case=True
        )
    page.screenshot(path=str(tmp_path / "verdict.png"), full_page=True)

    # its runs' status history: submitted, taken by the worker, succeeded
    page.locator("#run-table .run-link").first.click()
    page.wait_for_url(re.compile(r"/runs/\d+"))
    expect(page.locator("#run-history-table .history-row")).to_have_count(3)
    expect(page.locator("#run-history-table")).to_contain_text("taken by a worker")

    # the list: the preset's tags as chips; a header click sorts (and again, the other way); a chip filters
    api = httpx.Client(base_url=procs["dashboard"].args[-1] + "/api/v1", timeout=30)
    api.post(
        "/experiments", json={"name": "one run", "base": {"epochs": 2}, "sweep": {"pos_weight": [1]}, "tags": ["mine"]}
    ).raise_for_status()
    page.goto(base + "/experiments")
    names = page.locator("#experiments-table .exp-link")
    expect(names).to_have_text(["one run", "digits-pair (quick)"])
    expect(page.locator("#experiments-table tbody tr").nth(1).locator(".tag-chip")).to_have_text(
        ["digits-pair", "real-data"]
    )
    runs_header = page.locator("#experiments-table th .sort-header", has_text="Runs")
    runs_header.click()
    page.wait_for_url(re.compile(r"sort=-runs"))
    expect(names).to_have_text(["digits-pair (quick)", "one run"])
    expect(page.locator("#experiments-table .sort-active")).to_have_text("Runs ▼")
    page.locator("#experiments-table th .sort-header", has_text="Runs").click()
    page.wait_for_url(re.compile(r"sort=runs\b"))
    expect(names).to_have_text(["one run", "digits-pair (quick)"])
    page.locator("#experiments-table .tag-chip", has_text="real-data").click()
    page.wait_for_url(re.compile(r"tag=real-data.*sort=runs|sort=runs.*tag=real-data"))
    expect(names).to_have_text(["digits-pair (quick)"])
    expect(page.locator("#exp-filter-tag")).to_have_value("real-data")
    page.goto(page.url)  # the view is its URL
    expect(names).to_have_text(["digits-pair (quick)"])
    expect(page.locator("#experiments-table .sort-active")).to_have_text("Runs ▲")
    assert not page.errors, page.errors
    for name, proc in procs.items():
        assert proc.poll() is None, f"{name} exited early\n{logs_of(logs)}"

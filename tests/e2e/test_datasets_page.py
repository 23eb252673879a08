"""The datasets page in a real headless Chromium against the real stack: upload a file through the
browser, see what it holds and its id, delete it; upload one from the New experiment form and
train on it by its id."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import run_field


def test_upload_list_and_delete_in_the_browser(stack, page, tmp_path):
    base, procs, _logs = stack
    table = tmp_path / "shift.csv"
    table.write_text("x1,x2,label\n" + "".join(f"{i},{i / 2},{'ab'[i % 2]}\n" for i in range(9)))
    page.goto(base + "/")
    page.click("#nav-datasets")
    page.wait_for_url(base + "/datasets")
    expect(page.locator("#datasets-empty")).to_be_visible()
    page.set_input_files("#datasets-upload input[type=file]", str(table))
    expect(page.locator("#datasets-msg")).to_contain_text("Stored shift.csv as dataset_id: 1")
    row = page.locator("#datasets-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("9 rows × 3 columns; label: a 5, b 4")
    row.get_by_role("button", name="Delete").click()
    expect(page.locator("#datasets-msg")).to_contain_text("Dataset 1 deleted")
    expect(page.locator("#datasets-empty")).to_be_visible()
    assert not page.errors

    # the New experiment form uploads a table beside dataset_id and names it there
    page.goto(base + "/new")
    run_field(page, "dataset").select_option("table")
    page.set_input_files("#form-upload input[type=file]", str(table))
    expect(page.locator("#form-upload-msg")).to_contain_text("Stored shift.csv as dataset_id")
    api = httpx.Client(base_url=procs["dashboard"].args[-1] + "/api/v1", timeout=30)
    (stored,) = api.get("/datasets").json()
    expect(run_field(page, "dataset_id")).to_have_value(str(stored["id"]))
    run_field(page, "epochs").fill("2")
    page.fill("#field-weights", "1")
    page.click("#submit")
    page.wait_for_url(re.compile(r"/experiments/\d+"))
    exp_id = int(re.search(r"/experiments/(\d+)", page.url).group(1))
    assert api.get(f"/experiments/{exp_id}").json()["spec"]["base"]["dataset_id"] == stored["id"]
    assert not page.errors

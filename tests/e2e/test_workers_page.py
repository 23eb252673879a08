"""The workers page in a real headless Chromium, against the real stack's one worker."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import DOCS


def test_the_stack_worker_is_listed_alive(stack, page, tmp_path):
    base, procs, _logs = stack
    page.goto(base + "/")
    page.click("#nav-workers")
    page.wait_for_url(base + "/workers")
    table = page.locator("#workers-table")
    expect(table).to_be_visible(timeout=60_000)  # the worker registers at start-up
    row = table.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"pid {procs['worker'].pid}")
    expect(row).to_contain_text("idle")
    expect(row).to_contain_text("cpu")
    page.screenshot(path=str(DOCS / "workers-page.png"), full_page=True)

    # Drain (the embedded stack's user is an admin): idle, the worker stops at once and says so
    # it asks first, and says this is the last live worker
    row.locator(".worker-drain").click()
    expect(page.locator("#drain-last")).to_contain_text("It is the last live worker")
    page.click("#drain-no")
    expect(page.locator("#drain-modal")).to_be_hidden()
    assert procs["worker"].poll() is None  # Back drains nothing
    row.locator(".worker-drain").click()
    expect(page.locator("#drain-last")).to_be_visible()
    page.wait_for_timeout(400)  # the modal's fade-in
    page.screenshot(path=str(tmp_path / "drain-question.png"))
    page.click("#drain-yes")
    expect(page.locator("#workers-msg")).to_contain_text("is draining")
    expect(row).to_contain_text(re.compile("draining|stopped"))
    assert procs["worker"].wait(timeout=60) == 0  # it exited, cleanly
    expect(row).to_contain_text("stopped", timeout=30_000)
    expect(row.locator(".worker-drain")).to_have_count(0)
    assert not page.errors

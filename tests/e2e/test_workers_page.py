"""The workers page in a real headless Chromium, against the real stack's one worker."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import DOCS


def test_the_stack_worker_is_listed_alive(stack, page):
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
    assert not page.errors

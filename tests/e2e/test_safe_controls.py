"""Controls that cannot hurt, in a real Chromium on the e2e stack: Run full, and a form sweep estimated
over an hour, ask first with the run count and the time, and Back starts nothing; a whole experiment
is cancelled from its page (after a question naming how many runs stop) and another from the CLI
(`iwlab cancel`)."""

from __future__ import annotations

import re
import subprocess

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import IWLAB, run_field
from tests.e2e.test_dashboard import wait_until

LONG = {
    "name": "long sweep",
    "base": {"model": "mlp", "epochs": 20000, "lr": 0.05},
    "sweep": {"pos_weight": [1, 4, 16]},
}
ACTIVE = ("queued", "running")


def statuses(api: httpx.Client, experiment_id: int) -> list[str]:
    return [r["status"] for r in api.get(f"/experiments/{experiment_id}/runs").json()]


def test_run_full_asks_first_and_experiments_cancel_from_the_page_and_the_cli(stack, page, tmp_path):
    base, procs, logs = stack
    api_url = procs["dashboard"].args[-1]
    api = httpx.Client(base_url=api_url + "/api/v1", timeout=30)

    # -- Run full: a question with the run count and the time on one worker; Back starts nothing
    preset = next(p for p in api.get("/presets").json() if p["name"] == "digits-pair")
    page.goto(base + "/")
    page.locator("#preset-digits-pair").get_by_role("button", name="Run full").click()
    body = page.locator("#full-body")
    expect(body).to_contain_text(f"{preset['full']['runs']} runs × {preset['full']['epochs']:,} epochs")
    expect(body).to_contain_text(re.compile(r"about \d+(\.\d)? (s|min|h) of training on one worker"))
    page.wait_for_timeout(400)  # the modal's fade-in
    page.screenshot(path=str(tmp_path / "run-full-question.png"))
    page.click("#full-no")
    expect(body).to_be_hidden()
    assert api.get("/experiments").json()["total"] == 0

    # -- the form: a sweep estimated over an hour asks too; Back submits nothing
    page.goto(base + "/new")
    run_field(page, "epochs").fill("100000")
    page.fill("#field-weights", "0.1, 0.3, 1, 3, 10, 30, 100, 300")
    page.fill("#field-seeds", "0, 1")
    expect(page.locator("#run-count")).to_contain_text(" h on one worker")
    page.click("#submit")
    expect(page.locator("#long-body")).to_contain_text(
        re.compile(r"16 runs, about \d+(\.\d)? h of training on one worker")
    )
    page.click("#long-no")
    expect(page.locator("#long-body")).to_be_hidden()
    assert api.get("/experiments").json()["total"] == 0 and "/new" in page.url

    # -- Start full: the preset's full spec goes in; the CLI cancels it
    page.goto(base + "/")
    page.locator("#preset-digits-pair").get_by_role("button", name="Run full").click()
    page.click("#full-yes")
    page.wait_for_url(re.compile(r"/experiments/\d+"))
    full_id = int(page.url.rsplit("/", 1)[-1].split("?")[0])
    assert len(statuses(api, full_id)) == preset["full"]["runs"]
    done = subprocess.run(
        [IWLAB, "cancel", str(full_id), "--server", api_url], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert f"experiment {full_id}" in done.stderr and "cancel requested" in done.stderr
    wait_until(lambda: not set(statuses(api, full_id)) & set(ACTIVE), 90, "the CLI's cancel", logs)
    assert "cancelled" in statuses(api, full_id)
    missing = subprocess.run(
        [IWLAB, "cancel", "99999", "--server", api_url], capture_output=True, text=True, timeout=60, check=False
    )
    assert missing.returncode == 2 and "404" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1

    # -- Cancel experiment from its page: it says how many runs stop; Back keeps them
    exp = api.post("/experiments", json=LONG).json()
    wait_until(lambda: "running" in statuses(api, exp["id"]), 120, "the long sweep to start", logs)
    page.goto(f"{base}/experiments/{exp['id']}")
    page.click("#exp-cancel")
    expect(page.locator("#exp-cancel-body")).to_contain_text("3 of 3 runs are queued or running")
    page.click("#exp-cancel-no")
    expect(page.locator("#exp-cancel-body")).to_be_hidden()
    assert set(statuses(api, exp["id"])) <= set(ACTIVE)
    page.click("#exp-cancel")
    expect(page.locator("#exp-cancel-body")).to_be_visible()
    page.wait_for_timeout(400)
    page.screenshot(path=str(tmp_path / "cancel-question.png"))
    page.click("#exp-cancel-yes")
    expect(page.locator("#exp-status")).to_have_text("cancelled", timeout=90_000)
    assert set(statuses(api, exp["id"])) == {"cancelled"}
    expect(page.locator("#exp-cancel")).to_be_hidden()  # nothing left to cancel
    expect(page.locator("#run-table .run-retry").first).to_contain_text("Retry from epoch 0")
    page.screenshot(path=str(tmp_path / "cancelled.png"), full_page=True)
    assert not page.errors, page.errors

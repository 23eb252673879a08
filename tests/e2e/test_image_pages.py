"""Image experiments' first card in a real Chromium: a digits and a (tiny, written here) CIFAR-10
experiment after success show the test images the weight flips, and a failed experiment says so and
links to its runs' errors. None of them says "have not started". Screenshots go to pytest's tmp_path.
"""

from __future__ import annotations

import pickle
import re

import httpx
import numpy as np
from playwright.sync_api import expect

from tests.e2e.test_dashboard import wait_until

NOT_STARTED = re.compile("have not started|queued and have not")


def write_cifar(root, per_class: int = 30):
    """CIFAR-10 in the official python layout: each class a colour, with pixel noise."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    labels = [c for c in range(10) for _ in range(per_class)]
    colours = rng.integers(40, 215, size=(10, 3))
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        noise = rng.integers(-40, 40, size=(len(labels), 3, 1024))
        data = np.clip(colours[labels][:, :, None] + noise, 0, 255).astype(np.uint8).reshape(len(labels), 3072)
        (folder / name).write_bytes(pickle.dumps({b"data": data, b"labels": labels}))
    return root


def check_strip(page, api, exp: dict, base: str, shots, name: str) -> None:
    page.goto(f"{base}/experiments/{exp['id']}")
    expect(page.locator("#first-card-title")).to_have_text("What the weight changes: test images per weight")
    expect(page.locator("#strip-summary")).to_be_visible()
    expect(page.locator("#boundary-graph")).to_be_hidden()
    assert not NOT_STARTED.search(page.inner_text("body"))
    # the cells are the API's recorded P(positive) for the images named above them
    runs = {r["params"]["pos_weight"]: r for r in api.get(f"/experiments/{exp['id']}/runs").json()}
    heavy = runs[64.0]
    info = api.get(f"/runs/{heavy['id']}/boundary").json()
    last = info["epochs"][-1]
    z = api.get(f"/runs/{heavy['id']}/boundary/{last}").json()["z"][0]
    expect(page.locator("#epoch-label")).to_have_text(f"epoch {last} of {heavy['epochs']}")
    heads = [re.findall(r"^#(\d+)", t)[0] for t in page.locator(".probe-table thead th").all_inner_texts()[1:]]
    row = page.locator(".probe-table tbody tr", has_text="w = 64")
    cells = row.locator("td").all_inner_texts()
    assert heads and len(cells) == len(heads)
    by_index = {str(int(x)): p for x, p in zip(info["xs"], z)}
    assert cells == [f"{by_index[h]:.2f}" for h in heads]
    assert page.locator(".probe-image").count() == len(heads)
    page.screenshot(path=str(shots / f"{name}-last.png"), full_page=True)
    # epoch 0: both weights start from the same seed's initialisation, so no image can differ
    handle = page.locator("#epoch-slider [role=slider]").first
    handle.focus()
    handle.press("Home")
    expect(page.locator("#strip-summary")).to_contain_text("At epoch 0 every weight puts each of these 24 test images in the same class")


def test_digits_cifar_and_failed_experiment_pages(stack, page, tmp_path):
    base, procs, logs = stack
    api = httpx.Client(base_url=procs["dashboard"].args[-1] + "/api/v1", timeout=30)
    cifar = write_cifar(tmp_path / "cifar")
    sweep = {"pos_weight": [1, 64], "seed": [0]}
    digits = api.post("/experiments", json={"name": "digits weights", "base": {"dataset": "digits", "model": "mlp", "epochs": 20, "lr": 0.05, "frames": 6}, "sweep": sweep}).json()
    images = api.post("/experiments", json={"name": "cifar weights", "base": {"dataset": "cifar10", "data_path": str(cifar), "model": "mlp", "hidden": [16],
                                                                      "epochs": 6, "lr": 0.01, "frames": 4}, "sweep": sweep}).json()
    broken = api.post("/experiments", json={"name": "cifar nowhere", "base": {"dataset": "cifar10", "data_path": str(tmp_path / "missing"), "epochs": 2},
                                            "sweep": {"pos_weight": [1]}}).json()
    for exp in (digits, images, broken):
        wait_until(lambda exp=exp: api.get(f"/experiments/{exp['id']}").json()["status"] in ("succeeded", "failed", "cancelled"), 240, exp["name"], logs)
    assert api.get(f"/experiments/{digits['id']}").json()["status"] == "succeeded"
    assert api.get(f"/experiments/{images['id']}").json()["status"] == "succeeded"

    check_strip(page, api, digits, base, tmp_path, "digits")
    check_strip(page, api, images, base, tmp_path, "cifar")

    # a failed experiment: said at the top with a link to the run holding the error, and in the card
    run = api.get(f"/experiments/{broken['id']}/runs").json()[0]
    assert run["status"] == "failed"
    page.goto(f"{base}/experiments/{broken['id']}")
    notice = page.locator("#run-failures")
    expect(notice).to_contain_text("1 of 1 runs failed")
    expect(notice).to_contain_text("CIFAR-10 not found")
    expect(notice.locator(f"a[href='/runs/{run['id']}']")).to_be_visible()
    expect(page.locator("#probe-strip")).to_contain_text("1 of 1 runs failed before recording a frame")
    assert not NOT_STARTED.search(page.inner_text("body"))
    page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
    assert not page.errors, page.errors

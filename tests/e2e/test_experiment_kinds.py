"""Experiment pages of every kind in a real Chromium: a digits and a (tiny, written here) CIFAR-10
experiment after success show the test images the weight flips; a failed experiment says so and
links to its runs' errors (none of them says "have not started"); a sweep with a second axis shows
one slice of it across the weights at a time, coloured in the weights' order. Screenshots go to
pytest's tmp_path.
"""

from __future__ import annotations

import re

import httpx
import numpy as np
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.test_browser import COUNT, TITLE
from tests.e2e.test_dashboard import wait_until
from worker.engine.spec import CIFAR10_CLASSES

NOT_STARTED = re.compile("have not started|queued and have not")
PANEL_TITLES = "() => Array.from(document.querySelectorAll('#boundary-graph .annotation-text')).map(a => a.textContent).filter(t => t.startsWith('w ='))"


def write_cifar(root, per_class: int = 30):
    """CIFAR-10 as a JPEG tree (the engine unpickles only the official archive): each class a colour,
    with pixel noise."""
    rng = np.random.default_rng(0)
    colours = rng.integers(40, 215, size=(10, 3))
    for split in ("train", "test"):
        for label, cls in enumerate(CIFAR10_CLASSES):
            folder = root / "cifar10-jpeg" / split / cls
            folder.mkdir(parents=True)
            for k in range(per_class):
                noise = rng.integers(-40, 40, size=(32, 32, 3))
                pixels = np.clip(colours[label][None, None, :] + noise, 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{k:04d}.jpg", quality=95)
    return root


def check_strip(page, api, exp: dict, base: str, shots, name: str) -> None:
    page.goto(f"{base}/experiments/{exp['id']}")
    expect(page.locator("#first-card-title")).to_have_text("What the weight changes: test images per weight")
    expect(page).to_have_title(f"{exp['name']} · iwlab")
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
    titles = page.locator(".probe-table thead th").all_inner_texts()[1:]
    matches = [re.match(r"#(\d+)", t) for t in titles]
    assert all(matches), titles
    heads = [m.group(1) for m in matches if m]
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
    expect(page.locator("#strip-summary")).to_contain_text(
        "At epoch 0 every weight puts each of these 24 test images in the same class"
    )


def test_digits_cifar_and_failed_experiment_pages(stack, page, tmp_path):
    base, procs, logs = stack
    api = httpx.Client(base_url=procs["dashboard"].args[-1] + "/api/v1", timeout=30)
    cifar = write_cifar(tmp_path / "cifar")
    sweep = {"pos_weight": [1, 64], "seed": [0]}
    digits = api.post(
        "/experiments",
        json={
            "name": "digits weights",
            "base": {"dataset": "digits", "model": "mlp", "epochs": 20, "lr": 0.05, "frames": 6},
            "sweep": sweep,
        },
    ).json()
    images = api.post(
        "/experiments",
        json={
            "name": "cifar weights",
            "base": {
                "dataset": "cifar10",
                "data_path": str(cifar),
                "model": "mlp",
                "hidden": [16],
                "epochs": 6,
                "lr": 0.01,
                "frames": 4,
            },
            "sweep": sweep,
        },
    ).json()
    two_axes = api.post(
        "/experiments",
        json={
            "name": "weights x wd",
            "base": {"model": "logreg", "epochs": 8, "frames": 4},
            "sweep": {"weight_decay": [0.0, 0.01], "pos_weight": [1, 4, 16], "seed": [0]},
        },
    ).json()
    broken = api.post(
        "/experiments",
        json={
            "name": "cifar nowhere",
            "base": {"dataset": "cifar10", "data_path": str(tmp_path / "missing"), "epochs": 2},
            "sweep": {"pos_weight": [1]},
        },
    ).json()
    for exp in (digits, images, two_axes, broken):
        wait_until(
            lambda exp=exp: (
                api.get(f"/experiments/{exp['id']}").json()["status"] in ("succeeded", "failed", "cancelled")
            ),
            240,
            exp["name"],
            logs,
        )
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

    # a second axis: one slice at a time (the first by default), three weights in it, not six panels
    page.goto(f"{base}/experiments/{two_axes['id']}")
    chooser = page.locator("#slice-select")
    expect(chooser).to_be_visible()
    assert [t for t in chooser.locator("option").all_inner_texts() if t] == [
        "wd = 0",
        "wd = 0.01",
    ]  # dbc adds an empty placeholder
    page.wait_for_function(f"({TITLE})('boundary-graph').startsWith('Decision boundary')")
    assert page.evaluate(PANEL_TITLES) == ["w = 1", "w = 4", "w = 16"]
    page.wait_for_function(f"({COUNT})(['curve-graph', 'mean']) === 3")
    colours = page.evaluate(
        "() => document.querySelector('#curve-graph .js-plotly-plot').data.filter(t => t.meta && t.meta.role === 'mean').map(t => t.line.color)"
    )
    lum = [0.2126 * int(c[1:3], 16) + 0.7152 * int(c[3:5], 16) + 0.0722 * int(c[5:7], 16) for c in colours]
    assert lum == sorted(lum) and len(set(colours)) == 3  # sequential in log w
    runs = {
        (r["params"]["weight_decay"], r["params"]["pos_weight"]): r["id"]
        for r in api.get(f"/experiments/{two_axes['id']}/runs").json()
    }
    # the decoded z (`data` may hold it as a base64 typed array)
    heavy_z = "() => Array.from(document.querySelector('#boundary-graph .js-plotly-plot')._fullData.filter(t => t.meta && t.meta.role === 'heatmap')[2].z).map(r => Array.from(r))"

    def panel_shows(run_id: int) -> bool:  # the w = 16 panel draws this run's last frame
        want, have = (
            np.array(api.get(f"/runs/{run_id}/boundary/8").json()["z"], dtype=float),
            np.array(page.evaluate(heavy_z), dtype=float),
        )
        return have.shape == want.shape and np.allclose(have, want, atol=2e-3)

    frames = [np.array(api.get(f"/runs/{runs[(wd, 16.0)]}/boundary/8").json()["z"]) for wd in (0.0, 0.01)]
    assert not np.allclose(*frames, atol=2e-3)  # the two slices' panels differ, so the check below can tell them apart
    wait_until(lambda: panel_shows(runs[(0.0, 16.0)]), 30, "the wd = 0 slice's w = 16 frame", logs)
    chooser.select_option(label="wd = 0.01")
    page.wait_for_url(re.compile(r"slice=1"))
    wait_until(lambda: panel_shows(runs[(0.01, 16.0)]), 30, "the wd = 0.01 slice's w = 16 frame", logs)
    assert page.evaluate(PANEL_TITLES) == ["w = 1", "w = 4", "w = 16"]
    page.screenshot(path=str(tmp_path / "two-axes.png"), full_page=True)

    # the figure format applies at once: every graph's camera button saves SVG, no reload
    formats = "() => ['boundary-graph', 'curve-graph', 'spread-graph'].map(id => document.querySelector(`#${id} .js-plotly-plot`)._context.toImageButtonOptions.format)"
    assert page.evaluate(formats) == ["png"] * 3
    page.locator("#figure-format").select_option("svg")
    page.wait_for_function(f"({formats})().every(f => f === 'svg')")

    # clone into the form: the same sweep, submitted again, is the same experiment under a new name
    page.click("#clone-link")
    page.wait_for_url(re.compile(r"/new\?from=\d+"))
    expect(page.locator("#field-weights")).to_have_value("1, 4, 16")
    page.click("#submit")
    page.wait_for_url(re.compile(rf"/experiments/(?!{two_axes['id']}\b)\d+"))
    copy_id = int(re.search(r"/experiments/(\d+)", page.url).group(1))
    copy = api.get(f"/experiments/{copy_id}").json()
    assert (
        copy["name"] == "weights x wd (copy)"
        and copy["spec"]["sweep"] == api.get(f"/experiments/{two_axes['id']}").json()["spec"]["sweep"]
    )
    assert copy["spec"]["base"]["epochs"] == 8 and copy["spec"]["base"]["model"] == "logreg"

    # a run's page: titled by the run, only the parameters that apply, and which class the weight is on
    page.goto(f"{base}/runs/{runs[(0.01, 16.0)]}")
    expect(page).to_have_title(f"Run #{runs[(0.01, 16.0)]} · iwlab")
    expect(page.locator("#run-positive")).to_have_text("pos")  # the 2-D data sets name their classes neg and pos
    expect(page.locator("#run-spec-table")).to_contain_text("grid")
    assert "hidden" not in page.locator("#run-spec-table").inner_text()  # logistic regression: no hidden layer
    assert not page.errors, page.errors

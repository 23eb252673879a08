"""The image strip's choices: which images differ between weights, thumbnails, and why a card is empty."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from frontend.components import strip


def test_only_images_whose_class_differs_are_shown_widest_first():
    rows = [[0.1, 0.45, 0.9, 0.6], [0.2, 0.55, 0.95, 0.3], [0.05, 0.9, 0.99, 0.49]]
    # image 0 and 2: one class for every weight; 1 and 3 differ, 1 by 0.45 and 3 by 0.3
    assert strip.flipped(rows) == ([1, 3], True)


def test_where_every_weight_agrees_the_closest_calls_are_shown_and_said_to_be():
    rows = [[0.1, 0.6, 0.9], [0.3, 0.7, 0.95]]
    columns, differ = strip.flipped(rows)
    assert not differ and columns == [0, 1, 2]


def decode(uri: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_thumbnails_keep_the_recorded_pixels():
    digit = list(range(0, 256, 4))  # 64 values: an 8x8 grey digit
    img = decode(strip.thumbnail(digit))
    assert img.mode == "L" and img.size == (8, 8) and list(img.getdata()) == digit
    rgb = np.arange(3 * 32 * 32) % 256
    img = decode(strip.thumbnail(rgb.tolist()))
    assert img.mode == "RGB" and img.size == (32, 32)
    assert np.array_equal(np.asarray(img), rgb.reshape(3, 32, 32).transpose(1, 2, 0))


def run(status: str, index: int = 0, error: str | None = None) -> dict:
    return {"id": index + 1, "index": index, "status": status, "error": error}


def test_an_empty_card_says_why_from_the_runs_statuses():
    assert "queued" in strip.empty_reason([run("queued")])
    assert "started" in strip.empty_reason([run("running"), run("queued", 1)])
    failed = strip.empty_reason([run("failed"), run("succeeded", 1)])
    assert "1 of 2 runs failed" in failed and "not started" not in failed
    assert "cancelled" in strip.empty_reason([run("cancelled")])
    assert strip.empty_reason([]) == "This experiment has no runs."


def test_failures_are_named_with_links_to_the_runs():
    assert strip.failure_notice([run("succeeded")]) is None
    notice = strip.failure_notice(
        [run("failed", 0, "DatasetError: CIFAR-10 not found\n\ntraceback"), run("succeeded", 1), run("failed", 2)]
    )
    text = str(notice.children)
    assert "2 of 3 runs failed" in text and "CIFAR-10 not found" in text and "traceback" not in text
    assert "/runs/1" in text and "/runs/3" in text


def test_the_class_names_are_the_runs_own():
    assert strip.class_names({"base": {"dataset": "digits"}}) == ("3", "5")
    assert strip.class_names({"base": {"dataset": "cifar10", "classes": ["airplane", "ship"]}}) == ("airplane", "ship")
    assert strip.is_images({"base": {"dataset": "digits"}}) and not strip.is_images({"base": {"dataset": "moons"}})


def test_the_default_class_names_are_the_engines():
    from worker.engine.spec import DEFAULT_CLASSES

    assert {k: tuple(v) for k, v in DEFAULT_CLASSES.items()} == strip.DEFAULT_CLASSES


def test_the_true_share_line_only_where_the_test_split_is_balanced():
    from frontend.pages.experiment.views import curve_view

    assert all(strip.balanced_test({"base": {"dataset": d}}) for d in ("blobs", "moons", "digits", "cifar10"))
    assert not any(strip.balanced_test({"base": {"dataset": d}}) for d in ("table", "folder", "covariate_shift"))
    curve = {"label": "w = 1", "color": "#000", "epoch": [0, 1], "mean": [0.5, 0.6], "n": [1, 1], "lo": [None] * 2}
    data = {"split": "test", "metric": "frac_pred_pos", "curves": [curve | {"hi": [None] * 2}], "fit_epoch": None}

    def shares(figure) -> list:
        return [t.name for t in figure.data if (t.meta or {}).get("role") == "reference"]

    assert shares(curve_view(data | {"true_share": 0.5}, False, None)) == ["0.5 = true share"]
    assert shares(curve_view(data | {"true_share": None}, False, None)) == [], "a table's share is not known here"

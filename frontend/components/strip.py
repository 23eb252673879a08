"""Image experiments' first card: the test images whose predicted class differs between weights at
the slider's epoch, with each weight's P(positive). The worker records P(positive) on a fixed strip
of test images at the frame epochs (worker/engine/probe.py), served like a 2-D run's boundary frames:
`xs` the images' test indices, `points` each image's label and pixels, a frame one row of P."""

from __future__ import annotations

import base64
import io
from collections import Counter

import dash_bootstrap_components as dbc
import numpy as np
from dash import html
from PIL import Image

from .run_fields import DATASETS_2D
from .style import FINISHED

# the engine's defaults (worker/engine/spec.py DEFAULT_CLASSES), which the page cannot import
DEFAULT_CLASSES = {"cifar10": ("cat", "dog"), "digits": ("3", "5")}
ROWS = ("table", "covariate_shift")  # feature-row data: no grid, no strip (spec.FEATURE_DATASETS)
MAX_COLUMNS = 12  # images shown at one epoch; the rest are counted
CLOSEST = 6  # where no image is classified differently: the closest calls, said to be such


def is_images(spec: dict) -> bool:
    return spec.get("base", {}).get("dataset", "blobs") not in (*DATASETS_2D, *ROWS)


def balanced_test(spec: dict) -> bool:
    """Whether the test split holds the classes in equal numbers (`n_test` per class), so that 0.5
    is the true share of positives: the built-in data sets; a table's or a folder's test split is
    whatever the files hold."""
    return spec.get("base", {}).get("dataset", "blobs") in (*DATASETS_2D, "digits", "cifar10")


def no_picture(spec: dict) -> str | None:
    """Why the runs record neither boundary frames nor an image strip (None: they record one):
    the engine keeps them for two classes on a 2-D grid or images (worker/engine/train.py)."""
    base = spec.get("base", {})
    if base.get("dataset") in ROWS:
        return (
            "Feature rows have no 2-D picture and no images, so these runs record no boundary frames: "
            "the curves below show what the weight changes."
        )
    if len(base.get("classes") or ()) > 2:
        return (
            f"With {len(base['classes'])} classes the runs record no image strip (it shows P(positive), "
            "a two-class readout): the curves below show what the weights change, class by class."
        )
    return None


def thumbnail(pixels: list[int]) -> str:
    """A data: URI PNG of one recorded image: 64 values are an 8x8 grey digit, 3*s*s an RGB image."""
    a = np.asarray(pixels, dtype=np.uint8)
    side = round((len(a) / 3) ** 0.5)
    if 3 * side * side == len(a) and len(a) != 64:
        img = Image.fromarray(a.reshape(3, side, side).transpose(1, 2, 0), "RGB")
    else:
        side = round(len(a) ** 0.5)
        img = Image.fromarray(a.reshape(side, side), "L")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def flipped(rows: list[list[float]]) -> tuple[list[int], bool]:
    """Columns (images) to show for P(positive) `rows` (one per weight): those whose predicted class
    differs between weights, widest disagreement first; else the closest calls (False)."""
    p = np.asarray(rows, dtype=float)
    spread = p.max(0) - p.min(0)
    positive = p >= 0.5
    differ = np.flatnonzero(positive.any(0) & ~positive.all(0))
    if len(differ):
        return [int(i) for i in differ[np.argsort(-spread[differ], kind="stable")]], True
    return [int(i) for i in np.argsort(-spread, kind="stable")[:CLOSEST]], False


def cell_style(p: float) -> dict:
    """Blue for the negative class, red for the positive, pale near 0.5 (the boundary figure's scale)."""
    strength = min(abs(p - 0.5) * 2, 1.0)
    rgb = (231, 76, 60) if p >= 0.5 else (52, 152, 219)
    return {
        "backgroundColor": f"rgba({rgb[0]},{rgb[1]},{rgb[2]},{0.15 + 0.6 * strength:.2f})",
        "fontWeight": 600 if p >= 0.5 else 400,
    }


def strip_view(
    probe: dict | None, panels: list[dict], rows: list[list[float] | None], epoch: int, classes: tuple[str, str]
):
    """The card's body at one epoch. `probe`: one run's recorded strip (the same for every run of
    the experiment), `rows[i]`: panel i's P(positive) per image at `epoch` (None: not fetched)."""
    have = [(p, r) for p, r in zip(panels, rows) if r is not None]
    if probe is None or not have:
        return dbc.Alert(f"No predictions recorded at epoch {epoch} yet.", color="light", className="mb-0")
    neg, pos = classes
    columns, differ = flipped([r for _, r in have])
    shown = columns[:MAX_COLUMNS]
    n = len(probe["xs"])
    if differ:
        summary = (
            f"At epoch {epoch}, {len(columns)} of these {n} test images are put in different classes by different weights"
            + (f" (the {MAX_COLUMNS} with the widest disagreement shown)" if len(columns) > MAX_COLUMNS else "")
            + "."
        )
    else:
        summary = f"At epoch {epoch} every weight puts each of these {n} test images in the same class; the {len(shown)} closest calls:"
    head = [html.Th("weight", className="align-bottom")] + [
        html.Th(
            [
                html.Img(
                    src=thumbnail(probe["points"][i][1:]),
                    className="probe-image",
                    alt=f"test image {int(probe['xs'][i])}",
                ),
                html.Div(
                    f"#{int(probe['xs'][i])} {pos if probe['points'][i][0] == 1 else neg}",
                    className="small text-muted fw-normal",
                ),
            ],
            className="text-center",
        )
        for i in shown
    ]
    body = [
        html.Tr(
            [html.Th(panel["label"], className="text-nowrap")]
            + [html.Td(f"{row[i]:.2f}", style=cell_style(row[i]), className="text-center") for i in shown]
        )
        for panel, row in have
    ]
    return html.Div(
        [
            html.P(summary, className="mb-2", id="strip-summary"),
            html.Div(
                dbc.Table(
                    [html.Thead(html.Tr(head)), html.Tbody(body)],
                    bordered=False,
                    size="sm",
                    className="probe-table mb-0 w-auto",
                ),
                className="table-responsive",
            ),
        ]
    )


def caption(classes: tuple[str, str]) -> str:
    neg, pos = classes
    return (
        f"Each cell: that weight's model's P({pos}) on the test image above it, recorded at log-spaced epochs; red and bold "
        f"where it predicts {pos}, blue where {neg}. Under each image: its index in the test split and its true class. "
        f"The same {pos}/{neg} test images are tracked in every run."
    )


def empty_reason(runs: list[dict], what: str = "a frame") -> str:
    """Why a card has nothing to draw, from the runs' statuses (never "not started" once they ran)."""
    if not runs:
        return "This experiment has no runs."
    counts = Counter(r["status"] for r in runs)
    if all(r["status"] in FINISHED for r in runs):
        if counts["failed"]:
            return f"Nothing to show: {counts['failed']} of {len(runs)} runs failed before recording {what} (their errors are listed at the top)."
        if counts["cancelled"]:
            return f"Nothing to show: {counts['cancelled']} of {len(runs)} runs were cancelled before recording {what}."
        return f"These runs recorded no {'frames' if what == 'a frame' else 'metrics'}."
    if counts["running"]:
        return f"Waiting for {what}: the runs have started."
    return "No frames yet: the runs are queued and have not started."


def failure_notice(runs: list[dict]):
    """Failed and cancelled runs, said at the top with links to the runs that hold the error."""
    failed = sorted((r for r in runs if r["status"] == "failed"), key=lambda r: r["index"])
    cancelled = sum(r["status"] == "cancelled" for r in runs)
    if not failed and not cancelled:
        return None
    parts: list = []
    if failed:
        first = (failed[0].get("error") or "no error text recorded").strip().splitlines()[0][:500]
        links = [html.A(f"#{r['id']}", href=f"/runs/{r['id']}", className="me-1") for r in failed[:10]]
        parts += [
            html.Strong(f"{len(failed)} of {len(runs)} runs failed. "),
            f"First error: {first} ",
            html.Span(["See runs ", *links, *(["…"] if len(failed) > 10 else [])]),
        ]
    if cancelled:
        parts.append(html.Div(f"{cancelled} of {len(runs)} runs were cancelled."))
    return dbc.Alert(
        parts, color="danger" if failed else "warning", id="run-failures", className="mt-3 mb-0 py-2 small"
    )


def class_names(spec: dict) -> tuple[str, str]:
    """(negative, positive) as the runs name them: the spec's classes, else the engine's defaults."""
    base = spec.get("base", {})
    classes = base.get("classes") or DEFAULT_CLASSES.get(base.get("dataset", ""), ("negative", "positive"))
    return str(classes[0]), str(classes[1])

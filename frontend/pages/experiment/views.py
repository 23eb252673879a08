"""Figures for one slider position: the boundary panels (or the image strip), the curves, the analysis."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Patch

from ...client import ApiClient, ApiError
from ...components import analysis, classes, strip
from ...components.figures import (
    BOUNDARY,
    HEATMAP,
    TRACES_PER_PANEL,
    boundary_figure,
    curve_figure,
    effect_figure,
    empty_figure,
    level_line,
    spread_figure,
)
from ...components.style import FINISHED
from .base import SPLIT, SPLITS
from .data import BOUNDARIES, FinishedCache, frame_z


def slider_value(
    epochs: list[int], value: int | None, old_max: int | None, paused: bool, initial_epoch: int | None
) -> int | None:
    """Where the slider sits on a new frame list: the URL's epoch first, then the newest frame; at
    the newest frame it follows training as more are recorded."""
    if not epochs:
        return None
    last = len(epochs) - 1
    if value is None:
        if initial_epoch is not None:
            return max([i for i, e in enumerate(epochs) if e <= initial_epoch] or [0])
        return last
    if old_max is not None and value >= old_max and paused:
        return last
    return min(value, last)


def epoch_at(meta: dict | None, index: int | None) -> int | None:
    epochs = (meta or {}).get("epochs") or []
    return epochs[min(index, len(epochs) - 1)] if epochs and index is not None else None


def boundary_view(client: ApiClient, meta: dict | None, index: int | None, patch: bool = False):
    """(figure, image strip, "epoch e of n"): every panel's frame at the slider's epoch, fetched side
    by side; on image data the strip instead of the figure (None). `patch`: only the frame changed,
    so send the new z arrays rather than a figure."""
    panels = (meta or {}).get("panels") or []
    epoch = epoch_at(meta, index)
    images = (meta or {}).get("kind") in ("images", "none")  # "none": the strip's place says why
    if not panels or epoch is None:
        why = (meta or {}).get("empty") or "Loading…"
        return (None, dbc.Alert(why, color="light", className="mb-0"), "") if images else (empty_figure(why), None, "")
    assert meta is not None  # it has panels
    label = f"epoch {epoch} of {max([p.get('total', 0) for p in panels] + [meta['epochs'][-1]])}"
    zs = list(client.map(lambda p: frame_z(client, p["run_id"], epoch), panels))
    if images:
        try:
            probe = client.boundary(panels[0]["run_id"], final=panels[0]["status"] in FINISHED)
        except ApiError:
            probe = None
        rows = [None if z is None else z[0] for z in zs]
        return None, strip.strip_view(probe, panels, rows, epoch, tuple(meta["classes"])), label
    if patch:
        fig = Patch()
        for i, (p, z) in enumerate(zip(panels, zs)):
            fig["data"][i * TRACES_PER_PANEL + HEATMAP]["z"] = z
            lx, ly = level_line(p["xs"], p["ys"], z) if z is not None else ([], [])
            fig["data"][i * TRACES_PER_PANEL + BOUNDARY]["x"] = lx
            fig["data"][i * TRACES_PER_PANEL + BOUNDARY]["y"] = ly
        fig["layout"]["title"]["text"] = f"Decision boundary at epoch {epoch}"
        return fig, None, label

    def build():
        full = []
        for p, z in zip(panels, zs):
            try:
                info = client.boundary(
                    p["run_id"], final=p["status"] in FINISHED
                )  # cached by panels_for's request once finished
            except ApiError:
                continue
            full.append({"label": p["label"], "xs": info["xs"], "ys": info["ys"], "points": info["points"], "z": z})
        return boundary_figure(full, epoch).to_plotly_json()

    labels = tuple(p["label"] for p in panels)
    key = (
        FinishedCache.key(panels, client.api_url, epoch, labels) if all(z is not None for z in zs) else None
    )  # a failed fetch is retried
    return BOUNDARIES.get(key, build), None, label


def curve_view(data: dict | None, logx: bool, epoch: int | None):
    curves = (data or {}).get("curves") or []
    split = (data or {}).get("split", SPLIT)
    if data and not curves:
        return empty_figure(f"This experiment has no {SPLITS.get(split, split)} split.")
    if data and not any(c["epoch"] for c in curves):
        return empty_figure(data.get("empty") or "No metrics yet.")
    single = curves and all("," not in c["label"] for c in curves)
    legend = (
        "weight"
        if single and all(c["label"].startswith("w = ") for c in curves)
        else "class weights"
        if single and all(c["label"].startswith("weights = ") for c in curves)
        else "group"
    )
    title, ytitle = classes.describe((data or {}).get("metric") or "")
    return curve_figure(
        curves,
        epoch,
        bool(logx),
        title=f"{title}, {SPLITS.get(split, split)}",
        ytitle=ytitle,
        reference=(data or {}).get("true_share"),  # None where the page cannot know the test split's share
        legend_title=legend,
        fit_epoch=(data or {}).get("fit_epoch"),
        gl=False,
    )


def analysis_view(data: dict, logx: bool, epoch: int | None = None):
    title = f"Spread across weights ({SPLITS.get(data['split'], data['split'])})"
    spread = spread_figure(data["spread"], bool(logx), title=title, fit_epoch=data["fit_epoch"], gl=False)
    return spread, effect_view(data, epoch)


def effect_view(data: dict, epoch: int | None):
    """Realised vs intended at the slider's epoch, naming the reference it shows."""
    effect = data.get("effect") or {}
    if effect.get("why"):  # not defined for this experiment (more than two classes)
        return empty_figure(effect["why"], height=300)
    at, points = analysis.effect_at(effect, epoch)
    reference = effect.get("reference")
    return effect_figure(
        points, at, analysis.REFERENCE_NAMES.get(reference or ""), analysis.REFERENCE_GAPS.get(reference or "")
    )

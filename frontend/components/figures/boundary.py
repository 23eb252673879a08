"""The decision-boundary small multiples: one panel per sweep group with the P(positive) heatmap,
the 0.5 level line (drawn here, not by Plotly) and the training points."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..style import NEGATIVE, POSITIVE, PROBABILITY_SCALE
from .base import FONT, empty_figure

# Trace order inside one boundary panel (the epoch slider patches z of the first two).
HEATMAP, BOUNDARY, NEGATIVES, POSITIVES = range(4)
TRACES_PER_PANEL = 4
# training points drawn per boundary panel (every k-th beyond it): ten panels of 200 SVG markers
# took ~40% of the figure's drawing time in Chromium, and a panel 300 px wide shows no more
MAX_PANEL_POINTS = 100


def level_line(xs: Sequence[float], ys: Sequence[float], z, level: float = 0.5) -> tuple[list, list]:
    """Where `z` (rows follow `ys`) crosses `level`, as line segments for one Scatter trace (x, y
    lists, a None after each segment): marching squares, linear along each cell edge.

    Drawn here rather than as a Plotly contour: the browser then neither receives the grid twice
    (heatmap and contour) nor traces ten contours itself, and the epoch slider patches ~10^2 points
    per panel instead of a 64 x 64 grid."""
    v = np.asarray(z, dtype=float) - level
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    above = v > 0
    mixed = (
        (above[:-1, :-1] != above[:-1, 1:]) | (above[:-1, :-1] != above[1:, :-1]) | (above[:-1, :-1] != above[1:, 1:])
    )
    lx: list = []
    ly: list = []
    for r, c in zip(*np.nonzero(mixed)):
        corners = ((r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c))  # around the cell
        crossings = []
        for (r0, c0), (r1, c1) in zip(corners, corners[1:] + corners[:1]):
            if above[r0, c0] != above[r1, c1]:
                t = v[r0, c0] / (v[r0, c0] - v[r1, c1])
                crossings.append((x[c0] + t * (x[c1] - x[c0]), y[r0] + t * (y[r1] - y[r0])))
        for (ax, ay), (bx, by) in zip(crossings[::2], crossings[1::2]):  # 2 crossings, or 4 at a saddle
            lx += [round(float(ax), 4), round(float(bx), 4), None]
            ly += [round(float(ay), 4), round(float(by), 4), None]
    return lx, ly


def panel_grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    cols = max(1, min(n, max_cols))
    return math.ceil(max(n, 1) / cols), cols


def boundary_figure(panels: Sequence[dict], epoch: int | None = None, max_cols: int = 4) -> go.Figure:
    """Small multiples, one panel per sweep group: P(positive) heatmap, the 0.5 contour, the training points.

    A panel is {"label", "xs", "ys", "z" (rows follow ys; None before the first frame), "points": [[x1, x2, label]]}.
    """
    if not panels:
        return empty_figure("No boundary frames yet: the runs have not started.")
    rows, cols = panel_grid(len(panels), max_cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[p["label"] for p in panels],
        horizontal_spacing=0.035 if cols > 1 else 0.0,
        vertical_spacing=0.1 if rows > 1 else 0.0,
    )
    for i, panel in enumerate(panels):
        row, col = divmod(i, cols)
        first = i == 0
        shown = panel["points"][:: math.ceil(len(panel["points"]) / MAX_PANEL_POINTS)] if panel["points"] else []
        neg = [p for p in shown if p[2] < 0.5]
        pos = [p for p in shown if p[2] >= 0.5]
        traces = [None] * TRACES_PER_PANEL
        traces[HEATMAP] = go.Heatmap(
            x=panel["xs"],
            y=panel["ys"],
            zmin=0,
            zmax=1,
            colorscale=PROBABILITY_SCALE,
            showscale=first,
            colorbar=dict(
                title=dict(text="P(positive)", side="right"), thickness=12, len=0.9 if rows == 1 else 0.5, y=0.5, x=1.01
            ),
            hovertemplate="x1 %{x:.2f}<br>x2 %{y:.2f}<br>P(positive) %{z:.2f}<extra></extra>",
            meta={"role": "heatmap", "panel": i},
        )
        lx, ly = level_line(panel["xs"], panel["ys"], panel["z"]) if panel.get("z") is not None else ([], [])
        traces[BOUNDARY] = go.Scatter(
            x=lx,
            y=ly,
            mode="lines",
            line=dict(color="#000000", width=2.5),
            hoverinfo="skip",
            name="boundary (P = 0.5)",
            legendgroup="boundary",
            showlegend=first,
            meta={"role": "boundary", "panel": i},
        )
        for idx, pts, name, color, symbol in (
            (NEGATIVES, neg, "negative class (weight 1)", NEGATIVE, "circle"),
            (POSITIVES, pos, "positive class (weighted)", POSITIVE, "diamond"),
        ):
            traces[idx] = go.Scatter(
                x=[p[0] for p in pts],
                y=[p[1] for p in pts],
                mode="markers",
                name=name,
                marker=dict(color=color, symbol=symbol, size=6, line=dict(color="white", width=0.7)),
                legendgroup=name,
                showlegend=first,
                hoverinfo="skip",
                meta={"role": "points", "panel": i},
            )
        for trace in traces:
            fig.add_trace(trace, row=row + 1, col=col + 1)
        if panel.get("z") is not None:
            # set after validation, as float32: plotly sends a numpy array as one base64 blob, while
            # validating and encoding ten 64 x 64 nested lists took most of the callback's time
            fig.data[i * TRACES_PER_PANEL + HEATMAP].z = np.asarray(panel["z"], dtype=np.float32)
        axis = "" if i == 0 else str(i + 1)
        fig.update_layout(
            {
                f"xaxis{axis}": dict(
                    range=[min(panel["xs"]), max(panel["xs"])],
                    constrain="domain",
                    showgrid=False,
                    zeroline=False,
                    title=dict(text="x1" if row == rows - 1 else ""),
                ),
                f"yaxis{axis}": dict(
                    range=[min(panel["ys"]), max(panel["ys"])],
                    scaleanchor=f"x{axis}",
                    constrain="domain",
                    showgrid=False,
                    zeroline=False,
                    title=dict(text="x2" if col == 0 else ""),
                ),
            }
        )
    title = "Decision boundary" + (f" at epoch {epoch}" if epoch is not None else "")
    fig.update_layout(
        template="plotly_white",
        font=FONT,
        title=dict(text=title, x=0.0, xanchor="left", font=dict(size=16)),
        height=120 + 340 * rows,
        margin=dict(l=50, r=70, t=100, b=50),
        legend=dict(
            orientation="h", yref="container", y=0.985, yanchor="top", x=1.0, xanchor="right", bgcolor="rgba(0,0,0,0)"
        ),
        uirevision="boundary",  # keep zoom while frames change
    )
    return fig

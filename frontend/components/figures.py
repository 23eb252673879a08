"""Plotly figures from API JSON. Pure functions: no HTTP, no Dash callbacks, easy to unit-test.

Every trace carries `meta={"role": ...}` so tests (and the browser test) can count panels and lines
without depending on trace order or names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import NEGATIVE, POSITIVE, PROBABILITY_SCALE, series_color

FONT = dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size=13, color="#2c3e50")
# Trace order inside one boundary panel (the epoch slider patches z of the first two).
HEATMAP, BOUNDARY, NEGATIVES, POSITIVES = range(4)
# half-width figures: a legend under the plot leaves the title its whole width
BOTTOM_LEGEND = dict(orientation="h", yref="container", y=0.0, yanchor="bottom", x=0.0, xanchor="left")
TRACES_PER_PANEL = 4
# training points drawn per boundary panel (every k-th beyond it): ten panels of 200 SVG markers
# took ~40% of the figure's drawing time in Chromium, and a panel 300 px wide shows no more
MAX_PANEL_POINTS = 100


def empty_figure(message: str, height: int = 320) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        height=height,
        template="plotly_white",
        font=FONT,
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
        annotations=[
            dict(
                text=message,
                x=0.5,
                y=0.5,
                xref="paper",
                yref="paper",
                showarrow=False,
                font=dict(size=15, color="#7b8a8b"),
            )
        ],
        margin=dict(l=20, r=20, t=20, b=20),
    )
    return fig


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


# --------------------------------------------------------------------------- boundary


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


# --------------------------------------------------------------------------- curves


def curve_figure(
    curves: Sequence[dict],
    epoch: int | None = None,
    logx: bool = False,
    title: str = "Test fraction predicted positive",
    ytitle: str = "fraction predicted positive",
    reference: float | None = 0.5,
    legend_title: str = "weight",
    fit_epoch: int | None = None,
    gl: bool = True,
) -> go.Figure:
    """One line per sweep group (mean over seeds), its 95% t-interval as a band where a group has > 1 seed.

    A curve is {"label", "color", "epoch": [...], "mean": [...], "n": [...], "lo": [...], "hi": [...]}
    (`sweep.aggregate`; lo and hi None where one seed gives no interval).
    Trace 0 is the marker of the current epoch (a vertical line, so it works on a log axis too).
    `fit_epoch`, when known, is marked too: the paper's effect fades once the training set is fit.
    Curves are WebGL traces (`Scattergl`) so 100 runs x 1,000 epochs stay responsive; static
    images (the report) pass `gl=False` for crisp SVG lines.
    """
    Line = go.Scattergl if gl else go.Scatter
    if not any(c["epoch"] for c in curves):
        return empty_figure("No metrics yet: waiting for the first epoch.")
    fig = go.Figure()
    at = epoch if epoch is not None else 0
    fig.add_trace(
        go.Scatter(
            x=[at, at],
            y=[0, 1],
            mode="lines",
            line=dict(color="#7b8a8b", width=1.5, dash="dash"),
            name="slider epoch",
            showlegend=False,
            hoverinfo="skip",
            meta={"role": "epoch-marker"},
        )
    )
    for curve in curves:
        keep = [k for k, e in enumerate(curve["epoch"]) if not (logx and e <= 0)]
        xs = [curve["epoch"][k] for k in keep]
        mean = [curve["mean"][k] for k in keep]
        n = [curve["n"][k] for k in keep]
        lo = [(curve.get("lo") or [None] * len(curve["epoch"]))[k] for k in keep]
        hi = [(curve.get("hi") or [None] * len(curve["epoch"]))[k] for k in keep]
        if any(v > 1 for v in n):  # one seed has no interval: the band closes to the line there
            fig.add_trace(
                Line(
                    x=xs,
                    y=[m if h is None else h for m, h in zip(mean, hi)],
                    mode="lines",
                    line=dict(width=0),
                    showlegend=False,
                    hoverinfo="skip",
                    legendgroup=curve["label"],
                    meta={"role": "band"},
                )
            )
            fig.add_trace(
                Line(
                    x=xs,
                    y=[m if low is None else low for m, low in zip(mean, lo)],
                    mode="lines",
                    line=dict(width=0),
                    fill="tonexty",
                    fillcolor=_rgba(curve["color"], 0.18),
                    showlegend=False,
                    hoverinfo="skip",
                    legendgroup=curve["label"],
                    meta={"role": "band"},
                )
            )
        fig.add_trace(
            Line(
                x=xs,
                y=mean,
                customdata=[interval_text(a, b, k) for a, b, k in zip(lo, hi, n)],
                mode="lines",
                name=curve["label"],
                line=dict(color=curve["color"], width=2.5),
                legendgroup=curve["label"],
                hovertemplate="epoch %{x}<br>%{y:.3f} %{customdata}<extra>%{fullData.name}</extra>",
                meta={"role": "mean", "label": curve["label"]},
            )
        )
    if reference is not None:  # a dotted line with its own legend entry (a shape's label would sit on the curves)
        xs = [e for c in curves for e in c["epoch"] if not (logx and e <= 0)]
        fig.add_trace(
            go.Scatter(
                x=[min(xs), max(xs)] if xs else [],
                y=[reference, reference],
                mode="lines",
                name=f"{reference:g} = true share",
                line=dict(color="#95a5a6", width=1.5, dash="dot"),
                hoverinfo="skip",
                meta={"role": "reference"},
            )
        )
    if fit_epoch is not None and not (logx and fit_epoch <= 0):
        fig.add_trace(
            go.Scatter(
                x=[fit_epoch, fit_epoch],
                y=[0, 1],
                mode="lines",
                name=f"training set fit (epoch {fit_epoch}, median run)",
                line=dict(color="#2c3e50", width=1.5, dash="dashdot"),
                hoverinfo="skip",
                meta={"role": "fit-epoch"},
            )
        )
    # a few weights: one row of entries just above the plot, under the title's row and clear of the
    # modebar (which appears over the figure's top right corner); more would wrap: they go underneath
    many = len(curves) > 4
    legend = (
        dict(BOTTOM_LEGEND, title=dict(text=legend_title))
        if many
        else dict(
            title=dict(text=legend_title),
            orientation="h",
            yref="paper",
            y=1.0,
            yanchor="bottom",
            x=1.0,
            xanchor="right",
        )
    )
    fig.update_layout(
        template="plotly_white",
        font=FONT,
        title=dict(text=title, x=0.0, xanchor="left", font=dict(size=16)),
        height=460 if many else 380,
        margin=dict(l=70, r=20, t=60 if many else 80, b=130 if many else 50),
        xaxis=dict(title=dict(text="epoch (log scale)" if logx else "epoch"), type="log" if logx else "linear"),
        yaxis=dict(title=dict(text=ytitle), range=[-0.02, 1.02]),
        legend=legend,
        hovermode="x unified",
        uirevision=f"curve-{logx}",
    )
    return fig


def interval_text(lo: float | None, hi: float | None, n: int) -> str:
    """The hover's interval: the seed mean's 95% t-interval and n, or why there is none."""
    if lo is None or hi is None:
        return f"(n={n}: no interval from one seed)"
    return f"[{lo:.3f}, {hi:.3f}] 95% t-interval, n={n} seeds"


# --------------------------------------------------------------------------- slider


def slider_marks(epochs: Sequence[int], max_labels: int = 12) -> dict[int, str]:
    """Labels for an index slider over frame epochs: first, last and evenly spaced ones between."""
    n = len(epochs)
    if n == 0:
        return {}
    picks: range | list[int]
    if n <= max_labels:
        picks = range(n)
    else:
        picks = sorted({round(k * (n - 1) / (max_labels - 1)) for k in range(max_labels)})
    return {i: str(epochs[i]) for i in picks}


def spread_figure(
    curves: Sequence[dict],
    logx: bool = False,
    title: str = "Spread across weights",
    fit_epoch: int | None = None,
    gl: bool = True,
) -> go.Figure:
    """max - min over weights of the seed-mean curve, per epoch: the paper's effect in one line per
    setting of the other swept parameters. A curve is {"label", "epoch": [...], "value": [...]}."""
    if not any(c["epoch"] for c in curves):
        return empty_figure("No spread yet: it needs at least two weights with metrics.", height=300)
    fig = go.Figure()
    for i, curve in enumerate(curves):
        keep = [k for k, e in enumerate(curve["epoch"]) if not (logx and e <= 0)]
        fig.add_trace(
            (go.Scattergl if gl else go.Scatter)(
                x=[curve["epoch"][k] for k in keep],
                y=[curve["value"][k] for k in keep],
                mode="lines",
                name=curve["label"],
                line=dict(color=series_color(i), width=2.5),
                meta={"role": "spread"},
            )
        )
    if fit_epoch is not None and not (logx and fit_epoch <= 0):
        fig.add_trace(
            go.Scatter(
                x=[fit_epoch, fit_epoch],
                y=[0, 1],
                mode="lines",
                name="training set fit (median run)",
                line=dict(color="#2c3e50", width=1.5, dash="dashdot"),
                hoverinfo="skip",
                meta={"role": "fit-epoch"},
            )
        )
    fig.update_layout(
        template="plotly_white",
        font=FONT,
        height=360,
        margin=dict(l=70, r=20, t=50, b=105),
        title=dict(text=title, x=0.0, xanchor="left", font=dict(size=16)),
        xaxis=dict(title=dict(text="epoch (log scale)" if logx else "epoch"), type="log" if logx else "linear"),
        yaxis=dict(title=dict(text="max - min over weights"), range=[-0.02, 1.02]),
        legend=BOTTOM_LEGEND,
        uirevision=f"spread-{logx}",
    )
    return fig


def effect_figure(
    points: Sequence[dict], epoch: int | None = None, reference: str | None = None, gap: str | None = None
) -> go.Figure:
    """Realised vs intended fraction predicted positive per weight (log x), seed means with 95%
    bars and n. `reference` says what "intended" is (analysis.REFERENCE_NAMES); `gap`, why it has
    no value at this epoch. The gap between the lines is what weighting failed to do."""
    if not points:
        return empty_figure("Needs an unweighted run (w = 1) with intended-effect metrics.", height=300)
    ws = [p["weight"] for p in points]

    def bars(name: str) -> dict:
        lo, hi = [p.get(f"{name}_lo") for p in points], [p.get(f"{name}_hi") for p in points]
        if all(v is None for v in lo):
            return dict(visible=False)
        up = [None if h is None or p[name] is None else h - p[name] for p, h in zip(points, hi)]
        down = [None if lo_ is None or p[name] is None else p[name] - lo_ for p, lo_ in zip(points, lo)]
        return dict(type="data", array=up, arrayminus=down, thickness=1.5, width=4)

    def n_label(name: str) -> str:
        ns = sorted({int(p[f"{name}_n"]) for p in points if p.get(name) is not None and p.get(f"{name}_n")})
        return "" if not ns else f", n = {ns[0]}" if len(ns) == 1 else f", n = {ns[0]}-{ns[-1]}"

    fig = go.Figure(
        [
            go.Scatter(
                x=ws,
                y=[p["intended"] for p in points],
                mode="lines+markers",
                name=f"intended{n_label('intended')}",
                error_y=bars("intended"),
                line=dict(color=series_color(0), dash="dash", width=2),
                marker=dict(symbol="circle-open", size=9),
                meta={"role": "intended"},
            ),
            go.Scatter(
                x=ws,
                y=[p["realised"] for p in points],
                mode="lines+markers",
                name=f"realised (trained with the weight{n_label('realised')})",
                error_y=bars("realised"),
                line=dict(color=series_color(1), width=2.5),
                marker=dict(size=9),
                meta={"role": "realised"},
            ),
        ]
    )
    at = f" at epoch {epoch}" if epoch is not None else ""
    caption = (
        "intended: " + reference.replace(" (", "<br>(", 1)
        if reference
        else "intended: log w added to the unweighted model"
    )
    fig.update_layout(
        template="plotly_white",
        font=FONT,
        height=380,
        margin=dict(l=70, r=20, t=85, b=105),
        title=dict(
            text=f"Realised vs intended effect{at}",
            xref="paper",
            x=0.0,
            xanchor="left",
            font=dict(size=16),
            subtitle=dict(text=caption, font=dict(size=11)),
        ),
        xaxis=dict(
            title=dict(text="positive-class weight (log scale)"),
            type="log",
            tickvals=ws,
            ticktext=[f"{w:g}" for w in ws],
        ),
        yaxis=dict(title=dict(text="test fraction predicted positive"), range=[-0.02, 1.02]),
        legend=BOTTOM_LEGEND,
        hovermode="x unified",
    )
    if gap and all(p["intended"] is None for p in points):
        fig.add_annotation(
            text=f"intended not recorded{at}:<br>{gap}",
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.9,
            showarrow=False,
            font=dict(size=11),
        )
    return fig

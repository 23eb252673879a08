"""Line charts over epochs: the seed-mean curve per sweep group with its 95% band (the paper's
frac_pred_pos), and the spread across weights."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from ..style import series_color
from .base import BOTTOM_LEGEND, FONT, _rgba, empty_figure


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
            band = dict(x=xs, mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip",
                        legendgroup=curve["label"], meta={"role": "band"})  # fmt: skip
            fig.add_trace(Line(y=[m if h is None else h for m, h in zip(mean, hi)], **band))
            fig.add_trace(
                Line(
                    y=[m if low is None else low for m, low in zip(mean, lo)],
                    fill="tonexty",
                    fillcolor=_rgba(curve["color"], 0.18),
                    **band,
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

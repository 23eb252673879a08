"""Realised vs intended effect of the weights: per weight, the fraction predicted positive the
weighted model reached against the one the weight was meant to give."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from ..style import series_color
from .base import BOTTOM_LEGEND, FONT, empty_figure


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

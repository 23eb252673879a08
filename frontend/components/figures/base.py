"""What every figure shares: the font, the legend under half-width plots, the placeholder figure
shown where there is nothing to draw yet, and the translucent colour of seed bands."""

from __future__ import annotations

import plotly.graph_objects as go

FONT = dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size=13, color="#2c3e50")
# half-width figures: a legend under the plot leaves the title its whole width
BOTTOM_LEGEND = dict(orientation="h", yref="container", y=0.0, yanchor="bottom", x=0.0, xanchor="left")


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

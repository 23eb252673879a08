"""The compare page's pure parts: the tray in the URL, labels, the config diff, overlaid figures."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from .figures import FONT, empty_figure, level_line
from .style import NEGATIVE, POSITIVE, series_color
from .sweep import SHORT, _fmt

MAX_RUNS = 24  # a tray is for reading side by side; the experiment view averages larger sets


def parse_tray(value: str | None) -> list[int]:
    """'1,7,12' -> [1, 7, 12]: positive ids, first occurrence kept, junk ignored, at most MAX_RUNS."""
    out: list[int] = []
    for part in (value or "").replace(" ", ",").split(","):
        if part.isdigit() and int(part) > 0 and int(part) not in out:
            out.append(int(part))
    return out[:MAX_RUNS]


def tray_search(run_ids: Sequence[int], **extra) -> str:
    params = [f"runs={','.join(str(i) for i in run_ids)}"] if run_ids else []
    params += [f"{k}={v}" for k, v in extra.items() if v not in (None, "")]
    return "?" + "&".join(params) if params else ""


def config_diff(runs: Sequence[dict], names: dict[int, str]) -> tuple[list[str], list[list[str]]]:
    """Rows of (parameter, value per run) for the parameters that differ, the experiment first."""
    keys: list[str] = []
    for run in runs:
        keys += [k for k in run["params"] if k not in keys]
    rows = []
    if len({run["experiment_id"] for run in runs}) > 1:
        rows.append(
            ["experiment", *[f"#{r['experiment_id']} {names.get(r['experiment_id'], '')}".strip() for r in runs]]
        )
    for key in keys:
        values = [_fmt(r["params"].get(key, "–")) for r in runs]
        if len(set(values)) > 1:
            rows.append([key, *values])
    return [f"#{r['id']}" for r in runs], rows


def run_label(run: dict, varying: Sequence[str]) -> str:
    """'#12 (w=10, seed=1)': what differs between the compared runs, and always the seed (two runs
    that differ only in it would otherwise read the same)."""
    shown = [k for k in varying if k not in ("experiment", "seed")][:3] + ["seed"]
    parts = ", ".join(f"{SHORT.get(k, k)}={_fmt(run['params'].get(k))}" for k in shown)
    return f"#{run['id']}" + (f" ({parts})" if parts else "")


def overlay_curves(series: Sequence[dict], metric: str, split: str, logx: bool) -> go.Figure:
    """One line per run. A series is {"label", "epoch": [...], "value": [...]}."""
    if not any(s["epoch"] for s in series):
        return empty_figure(f"No {split} {metric} recorded for these runs yet.")
    fig = go.Figure()
    for i, s in enumerate(series):
        keep = [k for k, e in enumerate(s["epoch"]) if not (logx and e <= 0)]
        fig.add_trace(
            go.Scattergl(
                x=[s["epoch"][k] for k in keep],
                y=[s["value"][k] for k in keep],
                mode="lines",
                name=s["label"],
                line=dict(color=series_color(i), width=2.2, dash=["solid", "dash", "dot", "dashdot"][(i // 8) % 4]),
                meta={"role": "compare-curve"},
            )
        )
    fig.update_layout(
        template="plotly_white",
        font=FONT,
        height=380,
        margin=dict(l=60, r=20, t=50, b=50),
        hovermode="x unified",
        title=dict(text=f"{split} {metric}", x=0.0, xanchor="left"),
        xaxis=dict(title=dict(text="epoch (log scale)" if logx else "epoch"), type="log" if logx else "linear"),
        legend=dict(title=dict(text="run"), orientation="v"),
        uirevision=f"compare-{logx}",
    )
    return fig


def overlay_boundaries(panels: Sequence[dict], epoch: int) -> go.Figure:
    """Every run's decision boundary (the P = 0.5 contour) on one set of axes, over the training
    points: once where the runs share their data, else each data set's own, outlined in its runs'
    colour. A panel is {"label", "xs", "ys", "z", "points"}; z None: no frame yet. Image runs
    (a one-row strip of test images, not a grid) have no boundary to draw."""
    drawn = [p for p in panels if p.get("z") is not None and len(p["ys"]) > 1]
    if not drawn:
        return empty_figure("No boundary frames for these runs (image data sets have none).")
    fig = go.Figure()
    datasets: dict[tuple, list[int]] = {}
    for i, p in enumerate(drawn):
        datasets.setdefault(tuple(map(tuple, p["points"])), []).append(i)
    for points, users in datasets.items():
        whose = "" if len(datasets) == 1 else " of " + ", ".join(drawn[i]["label"].split(" ")[0] for i in users)
        edge = "white" if len(datasets) == 1 else series_color(users[0])
        for cls, name, color, symbol in (
            (0, "negative class", NEGATIVE, "circle"),
            (1, "positive class", POSITIVE, "diamond"),
        ):
            pts = [p for p in points if (p[2] >= 0.5) == bool(cls)]
            fig.add_trace(
                go.Scatter(
                    x=[p[0] for p in pts],
                    y=[p[1] for p in pts],
                    mode="markers",
                    name=name + whose,
                    hoverinfo="skip",
                    marker=dict(color=color, symbol=symbol, size=6, opacity=0.55, line=dict(color=edge, width=0.8)),
                    meta={"role": "compare-points"},
                )
            )
    for i, p in enumerate(drawn):
        color = series_color(i)
        lx, ly = level_line(p["xs"], p["ys"], p["z"])
        fig.add_trace(
            go.Scatter(
                x=lx,
                y=ly,
                mode="lines",
                line=dict(color=color, width=2.5),
                name=p["label"],
                showlegend=True,
                hoverinfo="skip",
                meta={"role": "compare-boundary"},
            )
        )
    xs = [x for p in drawn for x in p["xs"]]
    ys = [y for p in drawn for y in p["ys"]]
    fig.update_layout(
        template="plotly_white",
        font=FONT,
        height=460,
        margin=dict(l=50, r=20, t=50, b=50),
        title=dict(text=f"Decision boundaries at epoch {epoch}", x=0.0, xanchor="left"),
        xaxis=dict(range=[min(xs), max(xs)], showgrid=False, zeroline=False, title=dict(text="x1"), constrain="domain"),
        yaxis=dict(
            range=[min(ys), max(ys)],
            showgrid=False,
            zeroline=False,
            title=dict(text="x2"),
            scaleanchor="x",
            constrain="domain",
        ),
        legend=dict(orientation="v"),
        uirevision="compare-boundary",
    )
    return fig

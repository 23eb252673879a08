"""A preset's thumbnail: a schematic of its sweep drawn as a small inline SVG (no server round trip).

Two classes (blue circles, vermillion diamonds, as in the boundary panels) and one boundary line per
swept weight, shifted towards the negative class the more the positive class weighs: the picture
of the *intended* effect that the paper shows fading. Other swept axes are listed underneath.
"""

from __future__ import annotations

import math
from urllib.parse import quote

from dash import html

from .style import NEGATIVE, POSITIVE, series_color
from .sweep import SHORT, _fmt

W, H = 240, 110
NEG_POINTS = [(38, 72), (52, 88), (30, 92), (64, 70), (46, 58), (70, 94), (24, 62)]
POS_POINTS = [(180, 46), (198, 32), (172, 28), (208, 54), (190, 66), (218, 38)]


CAPTION_CHARS = 44  # what fits across the picture at 10 px; longer axes are cut with an ellipsis


def svg(weights: list[float], caption: list[str] | None = None) -> str:
    """`caption`: one line per other swept axis, bottom-aligned (the full text is the image's title)."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}">',
        f'<rect width="{W}" height="{H}" fill="#f8f9fa"/>',
    ]
    span = max((abs(math.log(w)) for w in weights if w > 0), default=1.0) or 1.0  # the widest weight spans the picture
    for i, w in enumerate(sorted(weights)):
        shift = -40 * math.log(w) / span if w > 0 else 0.0  # heavier positive class: boundary towards the negatives
        x = W / 2 + shift
        parts.append(
            f'<line x1="{x - 30:.1f}" y1="{H}" x2="{x + 26:.1f}" y2="16" stroke="{series_color(i)}" stroke-width="2.5"/>'
        )
        parts.append(
            f'<text x="{x + 26:.1f}" y="11" text-anchor="middle" font-family="sans-serif" font-size="10" fill="{series_color(i)}">{_fmt(w)}</text>'
        )
    for x, y in NEG_POINTS:
        parts.append(f'<circle cx="{x}" cy="{y}" r="4" fill="{NEGATIVE}" stroke="white"/>')
    for x, y in POS_POINTS:
        parts.append(f'<path d="M{x} {y - 5}L{x + 5} {y}L{x} {y + 5}L{x - 5} {y}Z" fill="{POSITIVE}" stroke="white"/>')
    lines = caption or []
    for k, line in enumerate(lines):
        cut = line if len(line) <= CAPTION_CHARS else line[: CAPTION_CHARS - 1] + "…"
        text = cut.replace("&", "&amp;").replace("<", "&lt;")
        y = H - 6 - 12 * (len(lines) - 1 - k)
        parts.append(
            f'<text x="{W - 6}" y="{y}" text-anchor="end" font-family="sans-serif" font-size="10" fill="#2c3e50">{text}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def thumbnail(preset: dict) -> html.Img:
    sweep = preset["quick"]["spec"].get("sweep") or {}
    weights = [float(w) for w in sweep.get("pos_weight", [1.0])]
    others = [
        f"{SHORT.get(k, k)} ∈ {{{', '.join(_fmt(v) for v in vals)}}}"
        for k, vals in sweep.items()
        if k not in ("pos_weight", "seed")
    ]
    label = f"{len(weights)} weights: " + ", ".join(_fmt(w) for w in weights) + "".join(f"; {o}" for o in others)
    return html.Img(
        src="data:image/svg+xml;utf8," + quote(svg(weights, others)),
        alt=label,
        title=label,
        className="preset-thumb w-100 rounded mb-2",
    )

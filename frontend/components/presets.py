"""The presets gallery's cards: pure builders from `GET /api/v1/presets` items (no server)."""

from __future__ import annotations

import re

import dash_bootstrap_components as dbc
from dash import html

from .thumbnail import thumbnail

# data sets a preset may need downloaded first (`needs`), by their display names
DATASETS = {"cifar10": "CIFAR-10"}


def slug(text: str) -> str:
    """'real data' -> 'real-data', 'CIFAR' -> 'cifar': a preset's display tag as an experiment tag
    (lowercase a-z, 0-9, '.', '_', '-'; at most 32 characters)."""
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")[:32]


def preset_tags(preset: dict) -> list[str]:
    """The tags an experiment submitted from a preset carries: the preset's own, and its name."""
    return list(dict.fromkeys(t for t in (*map(slug, preset.get("tags", [])), slug(preset["name"])) if t))


def run_button_id(name: str, variant: str) -> dict:
    """Pattern-matching id of a Run button: variant is "quick" or "full"."""
    return {"type": "preset-run", "name": name, "variant": variant}


def size(variant: dict) -> str:
    runs, epochs = variant["runs"], variant["epochs"]
    return f"{runs} run{'s' * (runs != 1)} × {epochs:,} epoch{'s' * (epochs != 1)}"


def preset_card(preset: dict) -> html.Div:
    name = preset["name"]
    needs = preset.get("needs")
    badges = [dbc.Badge(tag, color="light", className="me-1 border preset-tag") for tag in preset.get("tags", [])]
    checks = preset.get("expected", [])
    body = [
        thumbnail(preset),
        html.Div(badges, className="mb-2"),
        html.H5(preset["title"], className="card-title preset-title"),
        html.P(preset["claim"], className="card-text preset-claim"),
        html.Div(preset["source"], className="small text-muted fst-italic mb-2 preset-source"),
    ]
    if checks:
        body.append(
            html.Details(
                [
                    html.Summary(f"What it checks ({len(checks)})", className="small"),
                    html.Ul([html.Li(c) for c in checks], className="small mb-0 ps-3 mt-1"),
                ],
                className="mb-2 preset-checks",
            )
        )
    if needs and not preset.get("needs_met"):
        label = DATASETS.get(needs, needs)
        body.append(
            dbc.Alert(
                [
                    html.Strong(f"Needs {label}. "),
                    "Run ",
                    html.Code(f"iwlab data download {needs}", className="text-dark"),
                    " where the workers run.",
                ],
                color="warning",
                className="small py-1 px-2 mb-2 preset-needs",
            )
        )
    footer = html.Div(
        [
            html.Div(
                [
                    dbc.Button(
                        "Run quick", id=run_button_id(name, "quick"), color="primary", size="sm", className="me-2"
                    ),
                    html.Span(size(preset["quick"]), className="small text-muted preset-quick-size"),
                ],
                className="d-flex align-items-center mb-1",
            ),
            html.Div(
                [
                    dbc.Button(
                        "Run full",
                        id=run_button_id(name, "full"),
                        color="primary",
                        outline=True,
                        size="sm",
                        className="me-2",
                    ),
                    html.Span(size(preset["full"]), className="small text-muted preset-full-size"),
                ],
                className="d-flex align-items-center",
            ),
        ]
    )
    card = dbc.Card(
        [dbc.CardBody(body, className="d-flex flex-column"), dbc.CardFooter(footer, className="bg-white")],
        className="h-100 shadow-sm preset-card",
    )
    return html.Div(card, id=f"preset-{name}", className="col")


def gallery(presets: list[dict]) -> html.Div:
    return html.Div(
        [preset_card(p) for p in presets],
        id="presets-gallery",
        className="row row-cols-1 row-cols-md-2 row-cols-xl-3 g-3",
    )

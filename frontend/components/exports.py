"""An experiment's export bar: tidy CSV and JSON downloads, the figure format of the camera button,
and the spec as an `iwlab submit` command to paste into a shell. Pure builders."""

from __future__ import annotations

import re

import dash_bootstrap_components as dbc
import yaml
from dash import dcc, html

from ..downloads import href

FORMATS = ("png", "svg")


def cli_command(spec: dict, api_url: str, tags: list[str] | None = None) -> str:
    """A shell snippet that writes the spec to a file and submits it (`iwlab submit` reads YAML),
    with the experiment's tags (tags are slugs: nothing to quote)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", spec.get("name", "experiment")).strip("-") or "experiment"
    body = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True).rstrip()
    flags = "".join(f" --tag {t}" for t in tags or [])
    return f"cat > {name}.yaml <<'EOF'\n{body}\nEOF\niwlab submit {name}.yaml --server {api_url}{flags}"


def graph_config(fmt: str = "png") -> dcc.Graph.Config:
    """Plotly's modebar: the camera button saves the figure as PNG (2x) or SVG."""
    return {"displaylogo": False, "toImageButtonOptions": {"format": "svg" if fmt == "svg" else "png", "scale": 2}}


def export_bar(experiment: dict, api_url: str, fmt: str = "png") -> html.Div:
    command = cli_command(experiment["spec"], api_url, experiment.get("tags"))
    exp_id = experiment["id"]
    return html.Div(
        [
            html.Span("Export", className="small text-muted me-1"),
            html.A(
                "CSV",
                href=href("experiments", exp_id, "csv"),
                className="btn btn-sm btn-outline-primary",
                id="export-csv",
                download="",
            ),
            html.A(
                "JSON",
                href=href("experiments", exp_id, "json"),
                className="btn btn-sm btn-outline-primary",
                id="export-json",
                download="",
            ),
            dbc.Select(
                id="figure-format",
                value=fmt,
                size="sm",
                style={"width": "9rem"},
                options=[{"label": f"figures as {f.upper()}", "value": f} for f in FORMATS],
            ),
            html.Span(
                [
                    dcc.Clipboard(
                        content=command,
                        id="copy-cli",
                        title="copy as an iwlab submit command",
                        className="d-inline-block me-1",
                    ),
                    "copy as CLI",
                ],
                className="btn btn-sm btn-outline-primary d-inline-flex align-items-center",
            ),
            html.Details(
                [
                    html.Summary("command", className="small"),
                    html.Pre(command, id="cli-command", className="small bg-light p-2 mb-0 mt-1"),
                ],
                className="ms-1",
            ),
        ],
        className="d-flex align-items-center gap-2 flex-wrap mt-2",
        id="export-bar",
    )

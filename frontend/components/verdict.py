"""The verdict card on a preset's experiment page: the preset's expected outcomes beside what its
runs measured (`GET /experiments/{id}/verdict`, evaluated by the engine's checks as `iwlab run
--preset` prints them), with the n and 95% interval of each check that compares arms over seeds,
met / not met, refreshed when another run succeeds."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from ..client import ApiClient, ApiError
from .figures import FONT

MARK = {True: ("met", "success"), False: ("not met", "danger"), None: ("pending", "secondary")}


def progress_key(store: dict | None) -> list | None:
    """What the verdict depends on: which runs have finished, and how."""
    if not store:
        return None
    return sorted(
        (r["id"], r["status"], r.get("finished_at"))
        for r in store["runs"]
        if r["status"] in ("succeeded", "failed", "cancelled")
    )


def card(verdict: dict | None):
    """Nothing for a spec that is no preset's; the table otherwise."""
    if not verdict or not verdict.get("preset"):
        return None
    checks = verdict.get("checks") or []
    n, total = verdict["runs_measured"], verdict["runs_total"]
    met = sum(c["met"] is True for c in checks)
    if verdict["final"]:
        state = f"final: {met} of {len(checks)} expectations met, on the {n} of {total} runs that succeeded"
    else:
        state = f"so far: measured on the {n} of {total} runs that have succeeded; it changes as more finish"
    rows = [
        html.Tr(
            [
                html.Td(c["claim"]),
                html.Td(html.Code(c["measured"])),
                *interval_cells(c),
                html.Td(dbc.Badge(MARK[c["met"]][0], color=MARK[c["met"]][1], className="text-uppercase verdict-mark")),
            ]
        )
        for c in checks
    ]
    head = [html.Th("expected"), html.Th("measured"), html.Th("n"), html.Th("95% interval"), html.Th("")]
    table = dbc.Table(
        [html.Thead(html.Tr(head)), html.Tbody(rows)],
        size="sm",
        className="mb-0 align-middle",
        id="verdict-table",
    )
    body = [
        html.Div(state, className="small text-muted mb-2", id="verdict-state"),
        table if checks else html.Div(verdict.get("note") or ""),
    ]
    if verdict.get("calibration"):
        body.append(
            dcc.Graph(
                id="calibration-graph",
                figure=calibration_figure(verdict["calibration"]),
                config={"displaylogo": False},
                className="mt-3",
            )
        )
    title = [
        html.Span("Verdict: ", className="fw-semibold"),
        f"{verdict['preset']} ({verdict['variant']}), {verdict.get('title') or ''}",
    ]
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)], className="shadow-sm mb-4", id="verdict-card")


def interval_cells(check: dict) -> list:
    """n and the 95% t-interval of a check that compares arms over seeds; a check that reads one
    number (a spread, a minimum) has neither, and the cell says so rather than stay blank."""
    if check.get("interval") is None:
        why = (
            "this check reads one number: no interval"
            if check["met"] is not None
            else "not measurable on the runs finished so far"
        )
        return [
            html.Td("-", title=why, className="text-muted verdict-n"),
            html.Td("-", title=why, className="text-muted verdict-ci"),
        ]
    low, high = check["interval"]
    return [
        html.Td(str(check["n"]), className="verdict-n"),
        html.Td(f"[{low:.3f}, {high:.3f}]", className="text-nowrap verdict-ci"),
    ]


def calibration_figure(cells: list[dict]) -> go.Figure:
    """Realised minus intended boundary shift over L2 x weight: 0 (white) where the weight does what
    the Bayes boundary of the generating data says it should (fractions of the centre segment)."""
    l2s = sorted({c["weight_decay"] for c in cells})
    weights = sorted({c["weight"] for c in cells})
    at = {(c["weight_decay"], c["weight"]): c["realised"] - c["intended"] for c in cells}
    z = [[at.get((wd, w)) for w in weights] for wd in l2s]
    limit = max((abs(v) for row in z for v in row if v is not None), default=1.0) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"w = {w:g}" for w in weights],
            y=[f"L2 {wd:g}" for wd in l2s],
            zmid=0,
            zmin=-limit,
            zmax=limit,
            colorscale="RdBu",
            text=[["" if v is None else f"{v:+.3f}" for v in row] for row in z],
            texttemplate="%{text}",
            colorbar={"title": {"text": "realised -<br>intended"}},
            meta={"role": "calibration"},
        )
    )
    fig.update_layout(
        template="plotly_white",
        font=FONT,
        height=360,
        margin={"l": 80, "r": 20, "t": 50, "b": 50},
        title={"text": "Boundary shift, realised minus intended, per L2 and weight", "x": 0.0, "xanchor": "left"},
        xaxis_title="positive-class weight",
        yaxis_title="L2 coefficient",
    )
    return fig


def fetch(client: ApiClient, experiment_id: int):
    try:
        return card(client.verdict(experiment_id))
    except ApiError as err:
        if err.status == 404:
            return None
        return dbc.Alert(f"Cannot load the preset's verdict: {err.message}", color="warning", className="py-2")


def slots(client: ApiClient, experiment_id: int, store: dict | None) -> list:
    """The card as first drawn, and what it was drawn for."""
    return [
        dcc.Store(id="verdict-key", data=progress_key(store)),
        html.Div(fetch(client, experiment_id) if store else None, id="verdict"),
    ]


def register(app, client: ApiClient) -> None:
    @app.callback(
        Output("verdict", "children"),
        Output("verdict-key", "data"),
        Input("exp-store", "data"),
        State("verdict-key", "data"),
        State("exp-id", "data"),
        prevent_initial_call=True,
    )
    def refresh(store, seen, experiment_id):
        key = progress_key(store)
        if key is None or key == seen:  # a poll with no run newly finished: nothing to re-measure
            return dash.no_update, dash.no_update
        return fetch(client, experiment_id), key

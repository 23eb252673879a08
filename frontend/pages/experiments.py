"""`/`: every experiment with its status and progress; polls while any is queued or running."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from ..client import ApiClient, ApiError
from ..components.style import FINISHED
from ..components.tables import experiments_table

LIMIT = 100


def layout(client: ApiClient, poll_seconds: float) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.Div([html.H2("Experiments", className="mb-0"), html.Div("Each experiment sweeps the positive-class weight (and seeds); open one to watch its boundary move.", className="text-muted")]),
                    html.Div(
                        [
                            dcc.Link(dbc.Button("Presets", color="primary", outline=True, id="browse-presets"), href="/"),
                            dcc.Link(dbc.Button("+ New experiment", color="primary", id="new-experiment"), href="/new"),
                        ],
                        className="d-flex gap-2",
                    ),
                ],
                className="d-flex justify-content-between align-items-end mb-3 gap-3",
            ),
            dbc.Card(dbc.CardBody(id="experiments-body", children=dbc.Spinner(color="primary")), className="shadow-sm"),
            dcc.Interval(id="list-poll", interval=int(poll_seconds * 1000)),
        ]
    )


def empty_state() -> html.Div:
    return html.Div(
        [
            html.H4("No experiments yet"),
            html.P(
                "An experiment trains the same small network once per importance weight given to the positive class "
                "(and per seed), and records how the decision boundary moves epoch by epoch.",
                className="text-muted mx-auto", style={"maxWidth": "38rem"},
            ),
            html.Div(
                [
                    dcc.Link(dbc.Button("Run a preset from the paper", color="primary", size="lg"), href="/"),
                    dcc.Link(dbc.Button("Start your own experiment", color="primary", outline=True, size="lg"), href="/new"),
                ],
                className="d-flex gap-2 justify-content-center",
            ),
        ],
        className="text-center py-5", id="empty-state",
    )


def register(app, client: ApiClient) -> None:
    @app.callback(
        Output("experiments-body", "children"),
        Output("list-poll", "disabled"),
        Input("list-poll", "n_intervals"),
    )
    def refresh(_n):
        try:
            page = client.list_experiments(limit=LIMIT)
        except ApiError as err:
            return dbc.Alert(f"Cannot load experiments: {err.message}", color="danger", className="mb-0"), False
        items = page["items"]
        if not items:
            return empty_state(), True
        active = any(e["status"] not in FINISHED for e in items)
        note = html.Div(f"Showing the latest {len(items)} of {page['total']}.", className="small text-muted mt-2") if page["total"] > len(items) else None
        return [experiments_table(items), note], not active

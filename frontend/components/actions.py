"""Cancel and Retry buttons on runs, wherever a run table or a run page shows them.

One callback for the whole app: a click calls the API, then bumps `run-action-done`, which the page
around the buttons listens to and reloads. A page with buttons includes `slots()`.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html

from ..client import ApiClient, ApiError


def slots() -> list:
    return [html.Div(id="run-action-msg"), dcc.Store(id="run-action-done", data=0)]


def register(app, client: ApiClient) -> None:
    @app.callback(
        Output("run-action-msg", "children"),
        Output("run-action-done", "data"),
        Input({"type": "run-action", "action": ALL, "id": ALL}, "n_clicks"),
        State("run-action-done", "data"),
        prevent_initial_call=True,
    )
    def act(_clicks, done):
        trigger = ctx.triggered_id
        if not trigger or not ctx.triggered or not ctx.triggered[0]["value"]:
            return dash.no_update, dash.no_update  # the buttons just (re)appeared
        call = client.cancel_run if trigger["action"] == "cancel" else client.retry_run
        try:
            call(trigger["id"])
        except ApiError as err:
            alert = dbc.Alert(
                f"Could not {trigger['action']} run {trigger['id']}: {err.message}",
                color="danger",
                dismissable=True,
                className="py-2",
            )
            return alert, (done or 0) + 1
        return None, (done or 0) + 1

"""Cancel a whole experiment from its page: a button while runs are queued or running, a question
that says how many runs stop and what is kept, then `POST /experiments/{id}/cancel`. The page
reloads through `run-action-done`, as after a run's own Cancel (components/actions.py)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, html

from ..client import ApiClient, ApiError
from . import confirm

PREFIX = "exp-cancel"


def active_runs(exp: dict) -> int:
    counts = exp.get("status_counts") or {}
    return counts.get("queued", 0) + counts.get("running", 0)


def shown(exp: dict | None) -> dict:
    return {} if exp and active_runs(exp) else {"display": "none"}


def button(exp: dict | None):
    """Shown while something can still be cancelled. It sits outside the polled header: a button
    drawn again at every poll can lose the click that lands while it is replaced."""
    return dbc.Button(
        "Cancel experiment",
        id=PREFIX,
        color="danger",
        outline=True,
        size="sm",
        className="py-0",
        n_clicks=0,
        style=shown(exp),
    )


def modal() -> dbc.Modal:
    return confirm.modal(PREFIX, "Cancel this experiment?", "Cancel its runs")


def facts(exp: dict) -> list:
    n, total = active_runs(exp), exp.get("runs_total", 0)
    stop = (
        f"{n} of {total} runs are queued or running; they are cancelled (running ones stop at their next write "
        "and keep the epochs recorded so far)."
    )
    return confirm.facts(
        [html.Strong(f"{exp['name']} (#{exp['id']}): "), stop],
        "Finished runs keep their results. A cancelled run can be retried later, from epoch 0.",
    )


def register(app, client: ApiClient) -> None:
    @app.callback(Output(PREFIX, "style"), Input("exp-store", "data"), prevent_initial_call=True)
    def show(store):
        return shown((store or {}).get("experiment"))

    @app.callback(
        Output(f"{PREFIX}-modal", "is_open"),
        Output(f"{PREFIX}-body", "children"),
        Input(PREFIX, "n_clicks"),
        State("exp-store", "data"),
        prevent_initial_call=True,
    )
    def ask(clicks, store):
        if not clicks or not store:
            return dash.no_update, dash.no_update
        return True, facts(store["experiment"])

    @app.callback(
        Output(f"{PREFIX}-modal", "is_open", allow_duplicate=True),
        Input(f"{PREFIX}-no", "n_clicks"),
        prevent_initial_call=True,
    )
    def back(clicks):
        return False if clicks else dash.no_update

    @app.callback(
        Output(f"{PREFIX}-modal", "is_open", allow_duplicate=True),
        Output("run-action-msg", "children", allow_duplicate=True),
        Output("run-action-done", "data", allow_duplicate=True),
        Input(f"{PREFIX}-yes", "n_clicks"),
        State("exp-id", "data"),
        State("run-action-done", "data"),
        prevent_initial_call=True,
    )
    def cancel_all(clicks, experiment_id, done):
        if not clicks:
            return dash.no_update, dash.no_update, dash.no_update
        try:
            client.cancel_experiment(experiment_id)
        except ApiError as err:
            alert = dbc.Alert(
                f"Could not cancel experiment {experiment_id}: {err.message}",
                color="danger",
                dismissable=True,
                className="py-2",
            )
            return False, alert, (done or 0) + 1
        return False, None, (done or 0) + 1

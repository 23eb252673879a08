"""`/presets`: the paper's reproductions as cards; Run quick / Run full submits one and opens it."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html

from ..client import ApiClient, ApiError
from ..components.presets import gallery, preset_tags


def layout(client: ApiClient) -> html.Div:
    try:
        presets = client.presets()
        body = gallery(presets) if presets else dbc.Alert("The API lists no presets.", color="secondary")
    except ApiError as err:
        presets, body = [], dbc.Alert(f"Cannot load the presets: {err.message}", color="danger")
    return html.Div(
        [
            html.Div(
                [
                    html.H2("Presets", className="mb-0"),
                    html.Div(
                        "Byrd & Lipton (2019) and the remedies since, one click each. Quick runs on 2 CPU cores in "
                        "about two minutes; full uses the paper's settings.",
                        className="text-muted",
                    ),
                ],
                className="mb-3",
            ),
            html.Div(id="preset-error"),
            # what Run quick / Run full submit: the spec, tagged with the preset's tags and name
            dcc.Store(id="presets-store", data={p["name"]: {v: p[v]["spec"] | {"tags": preset_tags(p)} for v in ("quick", "full")} for p in presets}),
            body,
        ]
    )


def register(app, client: ApiClient) -> None:
    @app.callback(
        Output("url", "pathname", allow_duplicate=True),
        Output("preset-error", "children"),
        Input({"type": "preset-run", "name": ALL, "variant": ALL}, "n_clicks"),
        State("presets-store", "data"),
        prevent_initial_call=True,
    )
    def run(clicks, specs):
        trigger = ctx.triggered_id
        if not trigger or not any(clicks) or not ctx.triggered or not ctx.triggered[0]["value"]:
            return dash.no_update, dash.no_update  # the buttons just appeared
        spec = (specs or {}).get(trigger["name"], {}).get(trigger["variant"])
        if spec is None:
            return dash.no_update, dbc.Alert(f"No preset {trigger['name']!r}.", color="danger")
        try:
            exp = client.create_experiment(spec)
        except ApiError as err:
            return dash.no_update, dbc.Alert([html.Strong("Not started. "), f"The API refused {trigger['name']} ({trigger['variant']}): {err.message}"], color="danger", id="preset-error-alert")
        return f"/experiments/{exp['id']}", None

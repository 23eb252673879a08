"""`/presets`: the paper's reproductions as cards; Run quick / Run full submits one and opens it."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html

from ..client import ApiClient, ApiError
from ..components import confirm
from ..components.presets import gallery, preset_tags, size
from ..components.sweep_builder import duration, estimate_seconds


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
            dcc.Store(
                id="presets-store",
                data={
                    p["name"]: {v: p[v]["spec"] | {"tags": preset_tags(p)} for v in ("quick", "full")} for p in presets
                },
            ),
            dcc.Store(
                id="presets-sizes", data={p["name"]: {v: size(p[v]) for v in ("quick", "full")} for p in presets}
            ),
            dcc.Store(id="full-pending"),
            confirm.modal("full", "Start the full reproduction?", "Start full run", color="primary"),
            body,
        ]
    )


def full_facts(name: str, spec: dict, sizes: dict) -> list:
    """What Run full commits to: the run count and the time on one worker, beside the quick variant's."""
    seconds = estimate_seconds(spec.get("sweep") or {}, spec.get("base") or {})
    when = (
        f"about {duration(seconds)[1:]} of training on one worker"
        if seconds is not None
        else "no time estimate for this model yet"
    )
    return confirm.facts(
        [html.Strong(f"{name}, full: "), f"{sizes.get('full', '')}, {when}."],
        f"The quick variant ({sizes.get('quick', '')}) shows the same effect in minutes.",
        "Runs can be cancelled from the experiment's page (Cancel experiment) or with `iwlab cancel`.",
    )


def register(app, client: ApiClient) -> None:
    @app.callback(
        Output("url", "pathname", allow_duplicate=True),
        Output("preset-error", "children"),
        Output("full-modal", "is_open"),
        Output("full-body", "children"),
        Output("full-pending", "data"),
        Input({"type": "preset-run", "name": ALL, "variant": ALL}, "n_clicks"),
        Input("full-yes", "n_clicks"),
        Input("full-no", "n_clicks"),
        State("presets-store", "data"),
        State("presets-sizes", "data"),
        State("full-pending", "data"),
        prevent_initial_call=True,
    )
    def run(clicks, _yes, _no, specs, sizes, pending):
        trigger = ctx.triggered_id
        keep = dash.no_update
        if trigger == "full-no":
            return keep, keep, False, keep, None
        if trigger == "full-yes":
            if not pending:
                return keep, keep, False, keep, None
            trigger = {"name": pending, "variant": "full"}
        elif not trigger or not any(clicks) or not ctx.triggered or not ctx.triggered[0]["value"]:
            return keep, keep, keep, keep, keep  # the buttons just appeared
        spec = (specs or {}).get(trigger["name"], {}).get(trigger["variant"])
        if spec is None:
            return keep, dbc.Alert(f"No preset {trigger['name']!r}.", color="danger"), False, keep, None
        if trigger["variant"] == "full" and ctx.triggered_id != "full-yes":  # ask first
            return (
                keep,
                None,
                True,
                full_facts(trigger["name"], spec, (sizes or {}).get(trigger["name"], {})),
                trigger["name"],
            )
        try:
            exp = client.create_experiment(spec)
        except ApiError as err:
            alert = dbc.Alert(
                [
                    html.Strong("Not started. "),
                    f"The API refused {trigger['name']} ({trigger['variant']}): {err.message}",
                ],
                color="danger",
                id="preset-error-alert",
            )
            return keep, alert, False, keep, None
        return f"/experiments/{exp['id']}", None, False, keep, None

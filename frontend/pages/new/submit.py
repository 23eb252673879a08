"""Submitting the form: the banner and red outlines when it is refused (parse errors, the catalog's
limits, the API's 422), the confirmation before a long sweep, and the move to the new experiment."""

from __future__ import annotations

import math

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, ctx, html

from ...client import ApiClient, ApiError
from ...components import confirm
from ...components import run_fields as rf
from ...components import sweep_builder as axes
from .spec import AXES, FIELDS, build_spec, describe_errors, extra_axes, limit_errors, own_label
from .state import OWN, RUN_VALUES, SUBMIT_STATES, submitted

LONG_SECONDS = 3600  # a sweep estimated to train longer than this asks before it starts


def register(app, client: ApiClient) -> None:
    @app.callback(
        Output("form-error", "children", allow_duplicate=True),
        *[Input(FIELDS[f][0], "value") for f in OWN],
        *[Input(i, "value") for pair in AXES for i in pair],
        *RUN_VALUES,
        prevent_initial_call=True,
    )
    def clear_banner(*_values):
        """The banner spoke of the values submitted; once one changes it no longer holds (the fields' own messages stay)."""
        return []

    @app.callback(
        Output("url", "pathname"),
        Output("form-error", "children"),
        Output("api-errors", "data"),
        *[Output(FIELDS[f][0], "invalid") for f in OWN],
        *[Output(vid, "invalid") for _, vid in AXES],
        Output("long-modal", "is_open"),
        Output("long-body", "children"),
        Input("submit", "n_clicks"),
        Input("long-yes", "n_clicks"),
        *SUBMIT_STATES,
        prevent_initial_call=True,
    )
    def submit(n_clicks, confirmed, *states):
        keep = dash.no_update
        if not n_clicks:  # the output (url) lives outside this page, so Dash calls this when the form appears
            return keep, keep, keep, *[keep] * (len(OWN) + len(AXES)), keep, keep
        form, pairs, catalog = submitted(states)
        fields = catalog.get("fields") or rf.describe(rf.FALLBACK_SCHEMA)
        swept = {p for p, _ in pairs if p}

        def refuse(messages: list[str], bad: set[str], api_errors: dict | None = None):
            """The alert, the API's messages for the run fields, and red outlines on the form's own
            fields and the builder's value boxes (a swept parameter's box, not its unused base field)."""
            marks = [f in bad for f in OWN] + [bool(p) and p in bad for p, _ in pairs]
            return keep, _alert(messages), api_errors or {}, *marks, False, keep

        try:
            extra = extra_axes(pairs, catalog.get("params") or {})
            spec = build_spec(form, extra=extra, params=fields)
        except ValueError as err:
            bad = {f for f in OWN if str(err).startswith(own_label(f, fields))} | {
                p for p, _ in pairs if p and str(err).startswith(f"{p}:")
            }
            listed = {n for n in fields if str(err).startswith(fields[n]["label"] + ":")}
            return refuse(
                [str(err)], bad, {n: {"message": str(err).partition(": ")[2], "value": form.get(n)} for n in listed}
            )
        problems = limit_errors(form, fields, extra)
        if problems:  # the inline messages already say so; the API would only repeat it
            return refuse([f"{fields[n]['label']}: {m}" for n, m in problems.items()], set())
        seconds = axes.estimate_seconds(
            spec["sweep"],
            {name: form.get(name) or 1 for name in ("epochs", "n_train", "batch_size")}
            | {"model": form.get("model"), "width": form.get("width")},
        )
        if ctx.triggered_id != "long-yes" and seconds is not None and seconds > LONG_SECONDS:  # ask first
            runs = math.prod(len(v) for v in spec["sweep"].values())
            return (
                keep,
                None,
                keep,
                *[keep] * (len(OWN) + len(AXES)),
                True,
                confirm.facts(
                    [
                        html.Strong(
                            f"{runs} run{'s' * (runs != 1)}, about {axes.duration(seconds)[1:]} of training on one worker. "
                        )
                    ],
                    "Cancel it later from its page (Cancel experiment) or with `iwlab cancel`.",
                ),
            )
        try:
            exp = client.create_experiment(spec)
        except ApiError as err:
            if err.status != 422:
                return refuse([f"The API refused the experiment: {err.message}"], set())
            errors = describe_errors(err.detail, fields)
            bad = {f for f, _ in errors} | {
                p for p in swept if any(f"sweep.{p}" in m or m.startswith(f"{p}:") for _, m in errors)
            }
            on_fields = {
                f: {"message": m.partition(": ")[2], "value": form.get(f)}
                for f, m in errors
                if f in fields and f not in swept and f not in OWN
            }
            return refuse([m for _, m in errors], bad, on_fields)
        return f"/experiments/{exp['id']}", None, {}, *[False] * (len(OWN) + len(AXES)), False, keep

    @app.callback(
        Output("long-modal", "is_open", allow_duplicate=True), Input("long-no", "n_clicks"), prevent_initial_call=True
    )
    def back(clicks):
        return False if clicks else dash.no_update


def _alert(messages: list[str]) -> dbc.Alert:
    body = html.Ul([html.Li(m) for m in messages], className="mb-0 ps-3") if len(messages) > 1 else messages[0]
    return dbc.Alert([html.Strong("Not started. "), body], color="danger", id="form-error-alert", className="mt-2")

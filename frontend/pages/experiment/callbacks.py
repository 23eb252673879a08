"""The page's callbacks: polling, the slider and Play, the toggles, the URL."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, ctx

from ...client import ApiClient, ApiError
from ...components import sweep
from ...components.exports import graph_config
from ...components.figures import (
    slider_marks,
)
from .base import GRAPHS, PAUSE, PLAY, SPLIT, _int
from .data import figures_cached, load_state, panels_for, run_page, split_options
from .layout import curve_heading, load_error, slice_runs
from .views import analysis_view, boundary_view, curve_view, effect_view, epoch_at, slider_value


def register(app, client: ApiClient) -> None:
    """Callbacks for what changes after the page is drawn; none fires on its first drawing
    (`layout` already holds every output), hence prevent_initial_call throughout."""

    @app.callback(
        Output("exp-store", "data"),
        Output("exp-header", "children"),
        Output("run-table", "children"),
        Output("seed-select", "options"),
        Output("seed-select", "disabled"),
        Output("seed-select", "value"),
        Output("exp-poll", "disabled"),
        Input("exp-poll", "n_intervals"),
        Input("run-action-done", "data"),  # a run was cancelled or retried: show it, and poll again
        State("exp-id", "data"),
        State("seed-select", "value"),
        State("initial-format", "data"),
        State("run-pager", "active_page"),
        prevent_initial_call=True,
    )
    def load(_n, _acted, experiment_id, seed, fmt, page):
        try:
            s = load_state(client, experiment_id, seed, fmt, page)
        except ApiError as err:
            return dash.no_update, load_error(experiment_id, err), "", [], True, dash.no_update, err.status == 404
        chosen = s["seed"] if s["seed"] != seed else dash.no_update
        return s["store"], s["header"], s["table"], s["seed_options"], s["seed_disabled"], chosen, s["done"]

    @app.callback(
        Output("run-table", "children", allow_duplicate=True),
        Input("run-pager", "active_page"),
        State("exp-id", "data"),
        prevent_initial_call=True,
    )
    def turn_page(page, experiment_id):
        try:
            return run_page(client.runs(experiment_id), page)
        except ApiError as err:
            return dbc.Alert(f"Cannot load the runs: {err.message}", color="danger")

    @app.callback(
        Output("panels-store", "data"),
        Input("exp-store", "data"),
        Input("seed-select", "value"),
        Input("slice-select", "value"),
        prevent_initial_call=True,
    )
    def panels(store, seed, chosen):
        if not store:
            return dash.no_update
        runs = slice_runs(store, chosen)
        seeds = sweep.seeds(runs)
        return panels_for(client, runs, _int(seed, seeds[0] if seeds else 0), store["experiment"]["spec"])

    @app.callback(
        Output("curve-store", "data"),
        Input("exp-store", "data"),
        Input("split", "value"),
        Input("slice-select", "value"),
        Input("class-select", "value"),
        prevent_initial_call=True,
    )
    def curves(store, split, chosen, metric):
        if not store:
            return dash.no_update
        try:
            runs = slice_runs(store, chosen)
            exp = store["experiment"]
            return figures_cached(client, exp["id"], runs, split or SPLIT, metric, exp["spec"])
        except ApiError:
            return dash.no_update

    @app.callback(
        Output("split", "options"),
        Output("class-select", "options"),
        Output("class-select", "className"),
        Output("curve-heading", "children"),
        Output("class-select", "value"),
        Input("curve-store", "data"),
        State("class-select", "value"),
        prevent_initial_call=True,
    )
    def split_choices(data, shown):
        options = (data or {}).get("metric_options") or []
        metric = (data or {}).get("metric") if options else None
        hidden = "" if options else " d-none"
        # the select shows what is drawn (the default class before anyone picks one)
        value = dash.no_update if metric == shown else metric
        return split_options(data or {}), options, "me-3" + hidden, curve_heading(data), value

    @app.callback(
        Output("spread-graph", "figure"),
        Output("effect-graph", "figure"),
        Input("curve-store", "data"),
        Input("logx", "value"),
        Input("epoch-slider", "value"),
        State("panels-store", "data"),
        prevent_initial_call=True,
    )
    def analysis_panels(data, logx, index, meta):
        if not data:
            return dash.no_update, dash.no_update
        if set(ctx.triggered_prop_ids) == {"epoch-slider.value"}:  # only the effect follows the slider
            return dash.no_update, effect_view(data, epoch_at(meta, index))
        return analysis_view(data, logx, epoch_at(meta, index))

    @app.callback(
        Output("epoch-slider", "max"),
        Output("epoch-slider", "marks"),
        Output("epoch-slider", "value"),
        Output("play-interval", "disabled"),
        Output("play", "children"),
        Input("panels-store", "data"),
        Input("play", "n_clicks"),
        Input("play-interval", "n_intervals"),
        State("epoch-slider", "value"),
        State("epoch-slider", "max"),
        State("play-interval", "disabled"),
        State("initial-epoch", "data"),
        prevent_initial_call=True,
    )
    def control(meta, _clicks, _ticks, value, old_max, paused, initial_epoch):
        epochs = (meta or {}).get("epochs") or []
        last = max(len(epochs) - 1, 0)
        trigger = ctx.triggered_id
        if trigger == "play":
            if not epochs:
                return dash.no_update, dash.no_update, dash.no_update, True, PLAY
            if paused:  # start (from the beginning when at the end)
                start = 0 if value is None or value >= last else value
                return dash.no_update, dash.no_update, start, False, PAUSE
            return dash.no_update, dash.no_update, dash.no_update, True, PLAY
        if trigger == "play-interval":
            if paused or value is None:
                return dash.no_update, dash.no_update, dash.no_update, dash.no_update, dash.no_update
            nxt = min(value + 1, last)
            if nxt < last:  # touch only the slider: a tick still in flight must not undo a Pause click
                return dash.no_update, dash.no_update, nxt, dash.no_update, dash.no_update
            return dash.no_update, dash.no_update, nxt, True, PLAY
        # new frame list (while training, or another seed)
        if not epochs:
            return 0, {}, None, dash.no_update, dash.no_update
        return (
            last,
            slider_marks(epochs),
            slider_value(epochs, value, old_max, paused, initial_epoch),
            dash.no_update,
            dash.no_update,
        )

    @app.callback(
        Output("boundary-graph", "figure"),
        Output("probe-strip", "children"),
        Output("epoch-label", "children"),
        Input("epoch-slider", "value"),
        Input("panels-store", "data"),
        prevent_initial_call=True,
    )
    def boundary(index, meta):
        fig, body, label = boundary_view(
            client, meta, index, patch=set(ctx.triggered_prop_ids) == {"epoch-slider.value"}
        )
        return dash.no_update if fig is None else fig, body, label

    @app.callback(
        Output("curve-graph", "figure"),
        Input("curve-store", "data"),
        Input("logx", "value"),
        Input("epoch-slider", "value"),
        State("panels-store", "data"),
        prevent_initial_call=True,
    )
    def curve(data, logx, index, meta):
        epoch = epoch_at(meta, index)
        curves = (data or {}).get("curves") or []
        if set(ctx.triggered_prop_ids) == {"epoch-slider.value"} and curves and any(c["epoch"] for c in curves):
            patch = Patch()
            patch["data"][0]["x"] = [epoch, epoch] if epoch is not None else [None, None]
            return patch
        return curve_view(data, logx, epoch)

    @app.callback(
        [Output(g, "config") for g in GRAPHS]
        + [Output(g, "figure", allow_duplicate=True) for g in GRAPHS]
        + [Output("initial-format", "data")],
        Input("figure-format", "value"),
        State("initial-format", "data"),
        prevent_initial_call=True,
    )
    def figure_format(fmt, current):
        if fmt == current:  # the header (and its select) re-rendered: a new config would redraw every figure
            return [dash.no_update] * (2 * len(GRAPHS) + 1)
        # a graph takes a new config only when it redraws: a one-field patch of each figure makes it
        patches = []
        for _ in GRAPHS:
            patch = Patch()
            patch["layout"]["meta"] = {"format": fmt}
            patches.append(patch)
        return [graph_config(fmt)] * len(GRAPHS) + patches + [fmt]

    @app.callback(
        Output("exp-url", "search"),
        Input("epoch-slider", "value"),
        Input("seed-select", "value"),
        Input("logx", "value"),
        Input("split", "value"),
        Input("initial-format", "data"),
        Input("slice-select", "value"),
        Input("class-select", "value"),
        State("play-interval", "disabled"),
        State("panels-store", "data"),
        State("logx-default", "data"),
        prevent_initial_call=True,
    )
    def sync_url(index, seed, logx, split, fmt, chosen, metric, paused, meta, logx_default):
        if paused is False:  # no history entry per animation frame
            return dash.no_update
        epochs = (meta or {}).get("epochs") or []
        params = []
        if seed is not None:
            params.append(f"seed={seed}")
        if epochs and index is not None:
            params.append(f"epoch={epochs[min(index, len(epochs) - 1)]}")
        if bool(logx) != bool(logx_default):
            params.append(f"logx={int(bool(logx))}")
        if split and split != SPLIT:
            params.append(f"split={split}")
        if fmt and fmt != "png":
            params.append(f"fig={fmt}")
        if chosen not in (None, "0"):
            params.append(f"slice={chosen}")
        if metric:  # set only with more than two classes
            params.append(f"metric={metric}")
        return "?" + "&".join(params) if params else ""

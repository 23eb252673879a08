"""`/compare?runs=1,7,12`: any runs from any experiments side by side: overlaid curves, the
parameters that differ, and their decision boundaries overlaid at one epoch.

The tray is the `runs` query parameter and nothing else, so a link is the comparison; runs are added
from any experiment with the picker, or with the Compare links of the experiment and run pages.
URL state: `?runs=..&split=test&metric=frac_pred_pos&logx=1&epoch=E`.

Over 300 lines: a page keeps its layout and callbacks together; split it as the experiment page
was (frontend/pages/experiment/) when a part grows on its own.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html

from ..client import ApiClient, ApiError
from ..components import readouts
from ..components.compare import (
    MAX_RUNS,
    config_diff,
    overlay_boundaries,
    overlay_curves,
    parse_tray,
    run_label,
    tray_search,
)
from ..components.exports import graph_config
from ..components.figures import empty_figure, slider_marks
from ..components.style import FINISHED
from ..components.tables import status_badge

MAX_POINTS = 300
SPLITS = readouts.SPLITS | {"train": "train"}
METRICS = ("frac_pred_pos", "acc", "balanced_acc", "loss")


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def layout(client: ApiClient, query: dict) -> html.Div:
    tray = parse_tray(query.get("runs"))
    try:
        experiments = client.list_experiments(limit=200)["items"]
    except ApiError:
        experiments = []
    picker = dbc.Card(
        dbc.CardBody(
            html.Div(
                [
                    html.Span("Add runs from", className="small text-muted"),
                    dbc.Select(
                        id="pick-experiment",
                        size="sm",
                        style={"width": "18rem"},
                        placeholder="an experiment…",
                        options=[{"label": f"#{e['id']} {e['name']}", "value": str(e["id"])} for e in experiments],
                    ),
                    dcc.Dropdown(
                        id="pick-runs",
                        multi=True,
                        placeholder="runs (empty: all of them)",
                        style={"minWidth": "22rem"},
                        className="flex-grow-1",
                    ),
                    dbc.Button("Add", id="pick-add", size="sm", color="primary", n_clicks=0),
                    dbc.Button("Clear", id="tray-clear", size="sm", color="secondary", outline=True, n_clicks=0),
                ],
                className="d-flex align-items-center gap-2 flex-wrap",
            )
        ),
        className="shadow-sm mb-3",
    )
    controls = html.Div(
        [
            dbc.Select(
                id="cmp-split",
                size="sm",
                style={"width": "11rem"},
                value=query.get("split") if query.get("split") in SPLITS else "test",
                options=[{"label": v, "value": k} for k, v in SPLITS.items()],
            ),
            dbc.Select(
                id="cmp-metric",
                size="sm",
                style={"width": "12rem"},
                value=query.get("metric") or METRICS[0],
                options=[{"label": m, "value": m} for m in METRICS],
            ),
            dbc.Switch(id="cmp-logx", label="log epoch axis", value=query.get("logx") == "1", className="mb-0"),
        ],
        className="d-flex align-items-center gap-3",
    )
    return html.Div(
        [
            dcc.Location(id="cmp-url", refresh=False),
            dcc.Store(id="tray", data=tray),
            dcc.Store(id="cmp-runs"),
            dcc.Store(id="cmp-initial-epoch", data=_int(query.get("epoch"))),
            html.Div(
                [
                    html.H2("Compare runs", className="mb-0"),
                    html.Div("Any runs from any experiments; the link carries the selection.", className="text-muted"),
                ],
                className="mb-3",
            ),
            picker,
            html.Div(id="tray-chips", className="d-flex flex-wrap gap-2 mb-3"),
            html.Div(
                id="cmp-body",
                children=[
                    dbc.Card(
                        [
                            dbc.CardHeader(
                                html.Div(
                                    [html.Span("Curves", className="fw-semibold"), controls],
                                    className="d-flex justify-content-between align-items-center flex-wrap gap-2",
                                )
                            ),
                            dbc.CardBody(
                                dcc.Graph(id="cmp-curves", figure=empty_figure("Loading…"), config=graph_config())
                            ),
                        ],
                        className="shadow-sm mb-4",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                dbc.Card(
                                    [
                                        dbc.CardHeader("What differs", className="fw-semibold"),
                                        dbc.CardBody(id="cmp-diff"),
                                    ],
                                    className="shadow-sm mb-4",
                                ),
                                lg=5,
                            ),
                            dbc.Col(
                                dbc.Card(
                                    [
                                        dbc.CardHeader("Boundaries, overlaid", className="fw-semibold"),
                                        dbc.CardBody(
                                            [
                                                dcc.Slider(
                                                    id="cmp-epoch",
                                                    min=0,
                                                    max=0,
                                                    step=1,
                                                    value=None,
                                                    marks={},
                                                    updatemode="mouseup",
                                                ),
                                                dcc.Graph(
                                                    id="cmp-boundary",
                                                    figure=empty_figure("Loading…"),
                                                    config=graph_config(),
                                                ),
                                            ]
                                        ),
                                    ],
                                    className="shadow-sm mb-4",
                                ),
                                lg=7,
                            ),
                        ]
                    ),
                ],
            ),
        ]
    )


def chips(runs: list[dict], missing: list[int]) -> list:
    out = [
        html.Span(
            [
                dcc.Link(f"#{r['id']}", href=f"/runs/{r['id']}", className="fw-semibold me-1"),
                html.Span(f"exp {r['experiment_id']}", className="small text-muted me-1"),
                status_badge(r["status"]),
                dbc.Button(
                    "×",
                    id={"type": "tray-remove", "id": r["id"]},
                    color="link",
                    size="sm",
                    className="p-0 ms-1 text-decoration-none",
                    title="remove",
                ),
            ],
            className="border rounded-pill px-2 py-1 bg-white tray-chip d-inline-flex align-items-center",
        )
        for r in runs
    ]
    out += [html.Span(f"#{i} not found", className="border rounded-pill px-2 py-1 text-muted small") for i in missing]
    return out


def empty_state() -> html.Div:
    return html.Div(
        [
            html.H4("Nothing to compare yet"),
            html.P(
                "Pick an experiment above and add some (or all) of its runs; add more from other experiments. "
                "The experiment and run pages have Compare links too.",
                className="text-muted mx-auto",
                style={"maxWidth": "36rem"},
            ),
        ],
        className="text-center py-5",
        id="compare-empty",
    )


def register(app, client: ApiClient) -> None:
    @app.callback(
        Output("pick-runs", "options"),
        Output("pick-runs", "value"),
        Input("pick-experiment", "value"),
        prevent_initial_call=True,
    )
    def pick_runs(experiment_id):
        try:
            runs = client.runs(int(experiment_id))
        except (ApiError, TypeError, ValueError):
            return [], []
        return [
            {
                "label": f"#{r['id']} "
                + ", ".join(f"{k}={v}" for k, v in r["params"].items() if k in ("pos_weight", "seed")),
                "value": r["id"],
            }
            for r in runs
        ], []

    @app.callback(
        Output("tray", "data"),
        Input("pick-add", "n_clicks"),
        Input("tray-clear", "n_clicks"),
        Input({"type": "tray-remove", "id": ALL}, "n_clicks"),
        State("tray", "data"),
        State("pick-experiment", "value"),
        State("pick-runs", "value"),
        State("pick-runs", "options"),
        prevent_initial_call=True,
    )
    def edit_tray(_add, _clear, removes, tray, experiment_id, picked, options):
        trigger = ctx.triggered_id
        tray = list(tray or [])
        if trigger == "tray-clear":
            return []
        if trigger == "pick-add":
            ids = picked or [o["value"] for o in options or []]
            return (tray + [i for i in ids if i not in tray])[:MAX_RUNS]
        if isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0]["value"]:
            return [i for i in tray if i != trigger["id"]]
        return dash.no_update

    @app.callback(
        Output("cmp-url", "search"),
        Input("tray", "data"),
        Input("cmp-split", "value"),
        Input("cmp-metric", "value"),
        Input("cmp-logx", "value"),
        Input("cmp-epoch", "value"),
        prevent_initial_call=True,
    )
    def sync_url(tray, split, metric, logx, epoch):
        extra = {
            "split": split if split != "test" else None,
            "metric": metric if metric != METRICS[0] else None,
            "logx": "1" if logx else None,
            "epoch": epoch,
        }
        return tray_search(tray or [], **extra)

    @app.callback(
        Output("cmp-runs", "data"),
        Output("tray-chips", "children"),
        Output("cmp-diff", "children"),
        Output("cmp-body", "style"),
        Output("cmp-epoch", "max"),
        Output("cmp-epoch", "marks"),
        Output("cmp-epoch", "value"),
        Input("tray", "data"),
        State("cmp-epoch", "value"),
        State("cmp-initial-epoch", "data"),
    )
    def load(tray, epoch, initial):
        runs, missing, names = [], [], {}
        for run_id in tray or []:
            try:
                runs.append(client.run(run_id))
            except ApiError:
                missing.append(run_id)
        if not runs:
            return [], chips([], missing) + [empty_state()], "", {"display": "none"}, 0, {}, None
        for exp_id in {r["experiment_id"] for r in runs}:
            try:
                names[exp_id] = client.experiment(exp_id)["name"]
            except ApiError:
                pass
        columns, rows = config_diff(runs, names)
        varying = [row[0] for row in rows]
        for r in runs:
            r["label"] = run_label(r, varying)
        if rows:
            table = dbc.Table(
                [
                    html.Thead(html.Tr([html.Th("parameter"), *[html.Th(c) for c in columns]])),
                    html.Tbody([html.Tr([html.Td(html.Code(row[0])), *[html.Td(v) for v in row[1:]]]) for row in rows]),
                ],
                size="sm",
                responsive=True,
                className="mb-0",
                id="cmp-diff-table",
            )
        else:
            table = html.P("These runs share every parameter.", className="text-muted mb-0", id="cmp-diff-table")
        last = max(r["epochs"] for r in runs)
        marks = slider_marks(list(range(0, last + 1)), max_labels=8)
        value = epoch if epoch is not None else (initial if initial is not None else last)
        return runs, chips(runs, missing), table, {}, last, marks, min(value, last)

    @app.callback(
        Output("cmp-curves", "figure"),
        Input("cmp-runs", "data"),
        Input("cmp-split", "value"),
        Input("cmp-metric", "value"),
        Input("cmp-logx", "value"),
    )
    def curves(runs, split, metric, logx):
        if not runs:
            return dash.no_update
        series = []
        for r in runs:
            try:
                rows = client.run_metrics(r["id"], split=split, metric=metric, max_points=MAX_POINTS)
            except ApiError:
                rows = []
            series.append(
                {"label": r["label"], "epoch": [m["epoch"] for m in rows], "value": [m["value"] for m in rows]}
            )
        return overlay_curves(series, metric, split, bool(logx))

    @app.callback(Output("cmp-boundary", "figure"), Input("cmp-runs", "data"), Input("cmp-epoch", "value"))
    def boundaries(runs, epoch):
        if not runs or epoch is None:
            return dash.no_update
        panels = []
        for r in runs:
            try:
                info = client.boundary(r["id"], final=r["status"] in FINISHED)
                z = client.boundary_frame(r["id"], epoch)["z"]
            except ApiError:
                continue
            panels.append({"label": r["label"], "xs": info["xs"], "ys": info["ys"], "points": info["points"], "z": z})
        return overlay_boundaries(panels, epoch)

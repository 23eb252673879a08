"""`/runs/<id>`: one run in full: its parameters, where and when it ran, its status history, its
error, every metric it recorded (one chosen metric plotted over every split), downloads and Cancel/Retry.

URL state: `?metric=acc&logx=1`. Polls while the run is queued or running.

Over 300 lines: a page keeps its layout and callbacks together; split it as the experiment page
was (frontend/pages/experiment/) when a part grows on its own.
"""

from __future__ import annotations

import math

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from ..client import ApiClient, ApiError
from ..components import actions, readouts, title
from ..components.exports import graph_config
from ..components.figures import FONT, empty_figure
from ..components.run_fields import choices, describe, relevant
from ..components.strip import class_names
from ..components.style import FINISHED, series_color
from ..components.sweep import _fmt
from ..components.tables import eta, format_time, history_table, progress_bar, run_actions, status_badge
from ..downloads import href

MAX_POINTS = 500
DEFAULT_METRIC = "frac_pred_pos"


def layout(client: ApiClient, run_id: int, query: dict, poll_seconds: float) -> html.Div:
    return html.Div(
        [
            dcc.Location(id="run-url", refresh=False),
            dcc.Store(id="run-id", data=run_id),
            *title.slots(f"Run #{run_id}"),
            dcc.Store(id="run-store"),
            dcc.Interval(id="run-poll", interval=int(poll_seconds * 1000)),
            *actions.slots(),
            html.Div(id="run-header", className="mb-4", children=dbc.Spinner(color="primary")),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            [dbc.CardHeader("Parameters", className="fw-semibold"), dbc.CardBody(id="run-spec")],
                            className="shadow-sm mb-4",
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Card(
                                [dbc.CardHeader("Where and when", className="fw-semibold"), dbc.CardBody(id="run-env")],
                                className="shadow-sm mb-4",
                            ),
                            dbc.Card(
                                [
                                    dbc.CardHeader("Status history", className="fw-semibold"),
                                    dbc.CardBody(id="run-history"),
                                ],
                                className="shadow-sm mb-4",
                            ),
                            dbc.Card(
                                [
                                    dbc.CardHeader(
                                        html.Div(
                                            [
                                                html.Span("Metrics", className="fw-semibold"),
                                                html.Div(
                                                    [
                                                        dbc.Select(
                                                            id="run-metric",
                                                            value=query.get("metric") or DEFAULT_METRIC,
                                                            size="sm",
                                                            style={"width": "14rem"},
                                                        ),
                                                        dbc.Switch(
                                                            id="run-logx",
                                                            label="log epoch axis",
                                                            value=query.get("logx") == "1",
                                                            className="mb-0 ms-3",
                                                        ),
                                                    ],
                                                    className="d-flex align-items-center",
                                                ),
                                            ],
                                            className="d-flex justify-content-between align-items-center",
                                        )
                                    ),
                                    dbc.CardBody(
                                        [
                                            dcc.Graph(
                                                id="run-graph", figure=empty_figure("Loading…"), config=graph_config()
                                            ),
                                            html.Div(id="run-metrics-table"),
                                        ]
                                    ),
                                ],
                                className="shadow-sm mb-4",
                            ),
                        ],
                        lg=8,
                    ),
                ]
            ),
        ]
    )


def header(run: dict) -> html.Div:
    done, total = run["epochs_done"], run["epochs"]
    left = eta(run)
    return html.Div(
        [
            html.Div(
                [
                    dcc.Link(
                        f"← Experiment {run['experiment_id']}",
                        href=f"/experiments/{run['experiment_id']}",
                        className="small",
                    )
                ]
            ),
            html.Div(
                [
                    html.H2([f"Run #{run['id']} ", status_badge(run["status"], id="run-status")], className="mb-1"),
                    html.Div(
                        [
                            *run_actions(run),
                            html.A(
                                "CSV",
                                href=href("runs", run["id"], "csv"),
                                className="btn btn-sm btn-outline-primary",
                                id="run-export-csv",
                                download="",
                            ),
                            dcc.Link(
                                "Compare…",
                                href=f"/compare?runs={run['id']}",
                                className="btn btn-sm btn-outline-primary",
                            ),
                        ],
                        className="d-flex gap-2 align-items-center",
                    ),
                ],
                className="d-flex justify-content-between align-items-end flex-wrap gap-2",
            ),
            html.Div(
                [
                    progress_bar(
                        done / total if total else 0.0,
                        f"epoch {done} of {total}",
                        run["status"],
                        className="flex-grow-1",
                    ),
                    html.Span(left, className="small text-muted ms-2 run-eta"),
                ],
                className="d-flex align-items-center mt-2",
            ),
        ]
    )


def spec_table(run: dict, fields: dict[str, dict]):
    """The parameters that apply to this run (no boundary grid on images, no poly exponent without
    the poly loss: `fields`, the catalog's run parameters, say which; without them every parameter
    is listed), under the class its weight applies to."""
    params = run["params"]
    taken = choices(fields, params)
    # An empty class_weights mapping is "no class weights": nothing to show on a run it does not weigh.
    shown = {k: v for k, v in params.items() if relevant(fields, k, taken) and v != {}}
    neg, pos = class_names({"base": params})
    rows = [
        html.Tr([html.Th(k, className="fw-normal text-muted"), html.Td(_fmt(v), className="font-monospace")])
        for k, v in shown.items()
    ]
    hidden = len(params) - len(shown)
    return html.Div(
        [
            html.Div(
                [
                    html.Span("positive class (weighted by pos_weight): ", className="text-muted"),
                    html.Strong(pos, id="run-positive"),
                    html.Span(f"; negative: {neg}", className="text-muted"),
                ],
                className="small mb-2",
            ),
            dbc.Table(html.Tbody(rows), size="sm", className="mb-0", id="run-spec-table"),
            html.Div(
                f"{hidden} parameter{'s' * (hidden != 1)} that do not apply to this run's data, model or loss are left out.",
                className="small text-muted mt-2",
            )
            if hidden
            else None,
        ]
    )


def environment(run: dict) -> html.Div:
    """Where and when the run trained, as the run row says (its latest attempt; every step is in the status history)."""
    history = [("queued", run.get("created_at")), ("started", run.get("started_at")), ("last heartbeat", run.get("heartbeat_at")),
               (run["status"] if run["status"] in FINISHED else "finished", run.get("finished_at"))]  # fmt: skip
    facts = [
        ("worker host", run.get("worker") or "not claimed yet"),
        (
            "attempts",
            f"{run.get('attempts', 0)}" + (" (resumed after a worker died)" if run.get("attempts", 0) > 1 else ""),
        ),
        ("training set fit at", f"epoch {run['fit_epoch']}" if run.get("fit_epoch") is not None else "not yet"),
        ("weight", readouts.weight_text(run)),
        *environment_facts(run.get("environment")),
        *[(label, format_time(at)) for label, at in history if at],
    ]
    if run.get("cancel_requested") and run["status"] not in FINISHED:
        facts.append(("cancel", "requested: stops at the next flush"))
    items = [html.Tr([html.Th(k, className="fw-normal text-muted"), html.Td(v)]) for k, v in facts]
    error = (
        [
            html.H6("Error", className="mt-3 text-danger"),
            html.Pre(
                run["error"],
                id="run-error",
                className="small bg-light p-2 mb-0 text-danger",
                style={"whiteSpace": "pre-wrap"},
            ),
        ]
        if run.get("error")
        else []
    )
    return html.Div(
        [
            dbc.Table(html.Tbody(items), size="sm", className="mb-0", id="run-env-table"),
            readouts.not_recorded(run),
            *error,
        ]
    )


def environment_facts(env: dict | None) -> list[tuple[str, str]]:
    """The worker's own record of where it trained (None until a worker has claimed the run)."""
    if not env:
        return []
    packages = ", ".join(f"{name} {v}" for name, v in (env.get("packages") or {}).items() if v)
    device = f"{env.get('device_name') or ''} ({env.get('device')}, {env.get('torch_threads')} torch threads)"
    return [
        ("device", device),
        ("packages", packages),
        ("python", f"{env.get('python')} on {env.get('platform')}"),
        ("iwlab commit", env.get("git_commit") or "not a git checkout"),
    ]


def metric_figure(rows: list[dict], metric: str, logx: bool) -> go.Figure:
    """One line per split of the chosen metric."""
    series: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        if r["metric"] == metric and not (logx and r["epoch"] <= 0) and not math.isnan(r["value"]):
            series.setdefault(r["split"], []).append((r["epoch"], r["value"]))
    if not series:
        return empty_figure(f"No {metric} recorded yet.")
    fig = go.Figure(
        [
            go.Scattergl(
                x=[e for e, _ in pts],
                y=[v for _, v in pts],
                mode="lines",
                name=split,
                line=dict(color=series_color(i), width=2.5),
                meta={"role": "run-metric"},
            )
            for i, (split, pts) in enumerate(sorted(series.items()))
        ]
    )
    fig.update_layout(
        template="plotly_white",
        font=FONT,
        height=340,
        margin=dict(l=60, r=20, t=50, b=50),
        title=dict(text=metric, x=0.0, xanchor="left"),
        hovermode="x unified",
        xaxis=dict(title=dict(text="epoch (log scale)" if logx else "epoch"), type="log" if logx else "linear"),
        legend=dict(
            title=dict(text="split"), orientation="h", yref="container", y=0.98, yanchor="top", x=1.0, xanchor="right"
        ),
    )
    return fig


def last_values(rows: list[dict]) -> dbc.Table:
    """Every metric the run recorded, at its latest epoch: splits as columns."""
    last: dict[tuple[str, str], tuple[int, float]] = {}
    for r in rows:
        key = (r["metric"], r["split"])
        if key not in last or r["epoch"] >= last[key][0]:
            last[key] = (r["epoch"], r["value"])
    splits = sorted({s for _, s in last})
    metrics = sorted({m for m, _ in last})
    head = html.Thead(html.Tr([html.Th("metric (latest epoch)"), *[html.Th(s) for s in splits]]))
    body = html.Tbody(
        [
            html.Tr(
                [html.Td(html.Code(m)), *[html.Td(f"{last[(m, s)][1]:.4g}" if (m, s) in last else "") for s in splits]]
            )
            for m in metrics
        ]
    )
    return dbc.Table([head, body], size="sm", hover=True, responsive=True, className="mb-0 mt-3", id="run-metrics")


def register(app, client: ApiClient) -> None:
    @app.callback(
        Output("run-store", "data"),
        Output("run-header", "children"),
        Output("run-spec", "children"),
        Output("run-env", "children"),
        Output("run-history", "children"),
        Output("run-poll", "disabled"),
        Input("run-poll", "n_intervals"),
        Input("run-action-done", "data"),
        State("run-id", "data"),
    )
    def load(_n, _acted, run_id):
        try:
            run = client.run(run_id)
            rows = client.run_metrics(run_id, max_points=MAX_POINTS)
            events = client.run_history(run_id)
        except ApiError as err:
            gone = err.status == 404
            msg = f"Run {run_id} does not exist." if gone else f"Cannot load run {run_id}: {err.message}"
            alert = dbc.Alert(
                [msg, " ", dcc.Link("Back to the experiments", href="/experiments")],
                color="warning" if gone else "danger",
            )
            return dash.no_update, alert, "", "", "", gone
        try:
            fields = describe(client.run_schema())
        except ApiError:  # the parameters are still worth listing, all of them
            fields = {}
        return (
            {"run": run, "rows": rows},
            header(run),
            spec_table(run, fields),
            environment(run),
            history_table(events),
            run["status"] in FINISHED,
        )

    @app.callback(
        Output("run-graph", "figure"),
        Output("run-metric", "options"),
        Output("run-metrics-table", "children"),
        Input("run-store", "data"),
        Input("run-metric", "value"),
        Input("run-logx", "value"),
    )
    def metrics(store, metric, logx):
        if not store:
            return dash.no_update, dash.no_update, dash.no_update
        rows = store["rows"]
        names = sorted({r["metric"] for r in rows})
        return (
            metric_figure(rows, metric, bool(logx)),
            [{"label": n, "value": n} for n in names],
            last_values(rows) if rows else "",
        )

    @app.callback(
        Output("run-url", "search"), Input("run-metric", "value"), Input("run-logx", "value"), prevent_initial_call=True
    )
    def sync_url(metric, logx):
        params = [f"metric={metric}"] if metric and metric != DEFAULT_METRIC else []
        if logx:
            params.append("logx=1")
        return "?" + "&".join(params) if params else ""

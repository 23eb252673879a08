"""The page for one URL state, drawn in one go (`layout`, `initial_view`).

Over 300 lines because `layout` is one declaration of the page's component tree (cards, stores,
controls): split, the tree would be read in pieces that only make sense together."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ...client import ApiClient, ApiError
from ...components import actions, cancel, strip, sweep, title, verdict
from ...components.exports import FORMATS, graph_config
from ...components.figures import (
    empty_figure,
    slider_marks,
)
from .base import LOG_AFTER, METRIC, PLAY, PLAY_MS, SPLIT, SPLITS, _int
from .data import VIEWS, FinishedCache, figures_cached, load_state, panels_for, split_options
from .views import analysis_view, boundary_view, curve_view, epoch_at, slider_value


def layout(client: ApiClient, experiment_id: int, query: dict, poll_seconds: float) -> html.Div:
    """The whole page, drawn here, server-side, in the routing callback's one round trip: the
    callbacks below only fire on what changes afterwards (a poll, the slider, a toggle). Drawing it
    through their chain cost five round trips before the last figure appeared (bench/dashboard.py)."""
    seed = _int(query.get("seed"))
    epoch = _int(query.get("epoch"))
    logx = (
        query.get("logx") in ("1", "true", "yes") if "logx" in query else None
    )  # None: by the run length (log_by_default)
    split = query["split"] if query.get("split") in SPLITS else SPLIT
    fmt = query["fig"] if query.get("fig") in FORMATS else "png"
    view = initial_view(client, experiment_id, seed, epoch, split, logx, fmt, query.get("slice"), query.get("metric"))
    loading = empty_figure("Loading…")
    kind = view.get("kind", "2d")
    images = kind in ("images", "none")  # no boundary graph: the strip, or why there is none
    card_title = {
        "images": "What the weight changes: test images per weight",
        "none": "What the weight changes",
    }.get(kind, "Decision boundary per weight")
    boundary_card = dbc.Card(
        [
            dbc.CardHeader(
                html.Div(
                    [
                        html.Span(card_title, className="fw-semibold", id="first-card-title"),
                        html.Div(
                            [
                                html.Div(
                                    [
                                        dbc.Label(
                                            view.get("slice_name", ""),
                                            html_for="slice-select",
                                            className="mb-0 me-2 small text-muted",
                                        ),
                                        dbc.Select(
                                            id="slice-select",
                                            value=view.get("slice"),
                                            options=view.get("slice_options", []),
                                            size="sm",
                                            style={"width": "12rem"},
                                        ),
                                    ],
                                    className="d-flex align-items-center me-3"
                                    + ("" if view.get("slice_options") else " d-none"),
                                ),
                                dbc.Label(
                                    "seed",
                                    html_for="seed-select",
                                    # no picture to pick a seed's run for: the curves average the seeds
                                    className="mb-0 me-2 small text-muted" + (" d-none" if kind == "none" else ""),
                                ),
                                dbc.Select(
                                    id="seed-select",
                                    value=view.get("seed", None if seed is None else str(seed)),
                                    options=view.get("seed_options", []),
                                    disabled=view.get("seed_disabled", False),
                                    size="sm",
                                    style={"width": "6rem"},
                                    className="d-none" if kind == "none" else None,
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
                    html.Div(
                        [
                            dbc.Button(
                                PLAY,
                                id="play",
                                color="primary",
                                size="sm",
                                className="me-3 text-nowrap",
                                style={"minWidth": "6.5rem"},
                                n_clicks=0,
                            ),
                            html.Div(
                                dcc.Slider(
                                    id="epoch-slider",
                                    min=0,
                                    step=1,
                                    allow_direct_input=False,
                                    updatemode="drag",
                                    **view.get("slider", {"max": 0, "marks": {}, "value": None}),
                                ),
                                className="flex-grow-1",
                            ),
                            html.Span(
                                view.get("epoch_label", ""),
                                id="epoch-label",
                                className="ms-3 fw-semibold text-nowrap",
                                style={"minWidth": "7rem"},
                            ),
                        ],
                        className="d-flex align-items-center mb-2" + (" d-none" if kind == "none" else ""),
                    ),
                    dcc.Graph(
                        id="boundary-graph",
                        figure=view.get("boundary") or loading,
                        config=graph_config(fmt),
                        style={"display": "none"} if images else {},
                    ),
                    html.Div(view.get("strip"), id="probe-strip", className="mb-2"),
                    None
                    if kind == "none"
                    else html.P(strip.caption(view["classes"]), className="small text-muted mb-0")
                    if images
                    else html.P(
                        [
                            "Background: the model's P(positive); black line: its decision boundary (P = 0.5); "
                            "diamonds: the positive class, whose importance weight varies across panels. "
                            "Early on the weight drags the boundary towards the lighter class; as the network fits the "
                            "separable training data the boundaries converge (Byrd & Lipton, 2019).",
                        ],
                        className="small text-muted mb-0",
                    ),
                ]
            ),
        ],
        className="shadow-sm mb-4",
    )
    curve_card = dbc.Card(
        [
            dbc.CardHeader(
                html.Div(
                    [
                        html.Span(
                            curve_heading(view.get("curves")),
                            className="fw-semibold",
                            id="curve-heading",
                        ),
                        html.Div(
                            [
                                dbc.Select(
                                    id="class-select",
                                    value=(view.get("curves") or {}).get("metric"),
                                    options=(view.get("curves") or {}).get("metric_options") or [],
                                    size="sm",
                                    style={"width": "12rem"},
                                    className="me-3"
                                    + ("" if (view.get("curves") or {}).get("metric_options") else " d-none"),
                                ),
                                dbc.RadioItems(
                                    id="split",
                                    value=split,
                                    inline=True,
                                    className="btn-group btn-group-sm me-3",
                                    inputClassName="btn-check",
                                    labelClassName="btn btn-outline-primary",
                                    labelCheckedClassName="active",
                                    options=view.get("split_options", split_options(None)),
                                ),
                                dbc.Switch(
                                    id="logx",
                                    label="log epoch axis",
                                    value=view.get("logx", bool(logx)),
                                    className="mb-0",
                                ),
                            ],
                            className="d-flex align-items-center",
                        ),
                    ],
                    className="d-flex justify-content-between align-items-center flex-wrap gap-2",
                )
            ),
            dbc.CardBody(dcc.Graph(id="curve-graph", figure=view.get("curve", loading), config=graph_config(fmt))),
        ],
        className="shadow-sm mb-4",
    )
    small_loading = empty_figure("Loading…", height=300)
    analysis_card = dbc.Card(
        [
            dbc.CardHeader("Does the weight still matter?", className="fw-semibold"),
            dbc.CardBody(
                dbc.Row(
                    [
                        dbc.Col(
                            dcc.Graph(
                                id="spread-graph", figure=view.get("spread", small_loading), config=graph_config(fmt)
                            ),
                            lg=6,
                        ),
                        dbc.Col(
                            dcc.Graph(
                                id="effect-graph", figure=view.get("effect", small_loading), config=graph_config(fmt)
                            ),
                            lg=6,
                        ),
                    ]
                )
            ),
        ],
        className="shadow-sm mb-4",
    )
    pages = view.get("run_pages", 1)
    runs_card = dbc.Card(
        [
            dbc.CardHeader(
                html.Div(
                    [
                        html.Span("Runs", className="fw-semibold"),
                        cancel.button((view.get("store") or {}).get("experiment")),
                    ],
                    className="d-flex justify-content-between align-items-center",
                )
            ),
            dbc.CardBody(
                [
                    *actions.slots(),
                    html.Div(id="run-table", children=view.get("table", dbc.Spinner(color="primary"))),
                    dbc.Pagination(
                        id="run-pager",
                        max_value=pages,
                        active_page=1,
                        fully_expanded=False,
                        size="sm",
                        className="mt-3 mb-0" + ("" if pages > 1 else " d-none"),
                    ),
                ]
            ),
        ],
        className="shadow-sm",
    )
    return html.Div(
        [
            dcc.Location(id="exp-url", refresh=False),
            dcc.Store(id="exp-id", data=experiment_id),
            *title.slots((view.get("store") or {}).get("experiment", {}).get("name", f"Experiment {experiment_id}")),
            dcc.Store(id="exp-store", data=view.get("store")),
            dcc.Store(id="panels-store", data=view.get("panels")),
            dcc.Store(id="curve-store", data=view.get("curves")),
            dcc.Store(id="initial-epoch", data=epoch),
            dcc.Store(id="logx-default", data=view.get("logx_default", False)),
            dcc.Store(id="initial-format", data=fmt),
            # a finished experiment loads once: no poll ticks queue up behind its (large) first answer
            dcc.Interval(id="exp-poll", interval=int(poll_seconds * 1000), disabled=view.get("done", False)),
            dcc.Interval(id="play-interval", interval=PLAY_MS, disabled=True),
            html.Div(view.get("header"), id="exp-header", className="mb-4"),
            cancel.modal(),
            *verdict.slots(client, experiment_id, view.get("store")),
            boundary_card,
            curve_card,
            analysis_card,
            runs_card,
        ]
    )


def initial_view(
    client: ApiClient,
    experiment_id: int,
    seed: int | None,
    epoch: int | None,
    split: str,
    logx: bool | None,
    fmt: str,
    slice_value: str | None = None,
    metric: str | None = None,
) -> dict:
    """What every component of the page shows first (the callbacks' outputs for the URL's state),
    or, when the experiment cannot be read, only the header's alert: the poll then retries."""
    try:
        loaded = load_state(client, experiment_id, None if seed is None else str(seed), fmt)
    except ApiError as err:
        return {"header": load_error(experiment_id, err), "done": err.status == 404}
    store = loaded["store"]
    loaded["logx_default"] = log_by_default(store["experiment"])
    logx = loaded["logx"] = loaded["logx_default"] if logx is None else logx
    options = sweep.slices(store["runs"])
    loaded["slice"] = chosen = (
        slice_value
        if _int(slice_value) is not None and 0 <= _int(slice_value) < len(options)
        else ("0" if options else None)
    )
    loaded["slice_options"] = [{"label": o["label"], "value": str(i)} for i, o in enumerate(options)]
    loaded["slice_name"] = "showing" if options else ""
    runs = slice_runs(store, chosen)
    panels_pending = client.submit(panels_for, client, runs, _int(loaded["seed"], 0), store["experiment"]["spec"])
    try:
        curves = figures_cached(client, store["experiment"]["id"], runs, split, metric, store["experiment"]["spec"])
    except ApiError:
        curves = None
    panels = panels_pending.result()
    index = slider_value(panels["epochs"], None, None, True, epoch)
    boundary, strip_body, label = boundary_view(client, panels, index)
    view = {**loaded, "panels": panels, "curves": curves, "boundary": boundary, "strip": strip_body, "epoch_label": label,
            "kind": panels["kind"], "classes": panels["classes"],
            "slider": {"max": max(len(panels["epochs"]) - 1, 0), "marks": slider_marks(panels["epochs"]) if panels["epochs"] else {}, "value": index}}  # fmt: skip
    if curves is not None:
        at = epoch_at(panels, index)

        def draw() -> tuple[dict, dict, dict]:
            spread, effect = analysis_view(curves, logx, at)
            return curve_view(curves, logx, at).to_plotly_json(), spread.to_plotly_json(), effect.to_plotly_json()

        key = FinishedCache.key(runs, client.api_url, store["experiment"]["id"], split, curves["metric"], logx, at)
        view["curve"], view["spread"], view["effect"] = VIEWS.get(key, draw)
        view["split_options"] = split_options(curves)
    return view


def curve_heading(curves: dict | None) -> list:
    """The curve card's heading: the readout drawn (one class's, with more than two classes)."""
    metric = (curves or {}).get("metric") or METRIC
    return [html.Code(metric), " per weight (seed mean, band: its 95% t-interval)"]


def log_by_default(exp: dict) -> bool:
    """A long run's whole effect sits in its first epochs: beyond LOG_AFTER epochs the axis starts logarithmic."""
    return (_int(exp["spec"].get("base", {}).get("epochs"), 0) or 0) > LOG_AFTER


def slice_runs(store: dict, chosen: str | None) -> list[dict]:
    """The runs the figures show: with a second swept axis, the chosen slice across the weights."""
    options = sweep.slices(store["runs"])
    index = _int(chosen)
    return sweep.in_slice(
        store["runs"], options[index]["params"] if index is not None and 0 <= index < len(options) else None
    )


def load_error(experiment_id: int, err: ApiError) -> dbc.Alert:
    gone = err.status == 404
    msg = (
        f"Experiment {experiment_id} does not exist."
        if gone
        else f"Cannot load experiment {experiment_id}: {err.message}"
    )
    return dbc.Alert(
        [msg, " ", dcc.Link("Back to the experiments", href="/experiments")], color="warning" if gone else "danger"
    )

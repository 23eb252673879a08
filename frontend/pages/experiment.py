"""`/experiments/<id>`: status, runs, the boundary per weight with an epoch slider, the paper's
frac_pred_pos curves per evaluation split, the spread across weights and realised vs intended effect.

URL state: `?seed=S&epoch=E&logx=1&split=ood&fig=svg&slice=1` (logx: 1 or 0 where it differs from the
default, which is log beyond LOG_AFTER epochs). `layout` draws the whole page for that state
in one go; afterwards the callbacks carry changes through (all data through the API):

    exp-poll ──> exp-store (experiment + runs) ──> panels-store (one run per group, its frame epochs)
                         │                                   │
                         └──> curve-store (mean/CI per group)│──> epoch-slider ──> boundary-graph (frames
                                                              │        ▲                fetched per run+epoch)
                                                 play/interval┘────────┘               curve-graph (marker)

Polling stops once every run has finished. The slider moves over frame *indices*: frames are
recorded at log-spaced epochs, so playing them shows the early movement in as much detail as the end.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, ctx, dcc, html

from ..client import ApiClient, ApiError
from ..components import actions, analysis, cancel, strip, sweep, title, verdict
from ..components.compare import MAX_RUNS, tray_search
from ..components.exports import FORMATS, export_bar, graph_config
from ..components.figures import (
    BOUNDARY,
    HEATMAP,
    TRACES_PER_PANEL,
    boundary_figure,
    curve_figure,
    effect_figure,
    empty_figure,
    level_line,
    slider_marks,
    spread_figure,
)
from ..components.style import FINISHED, series_color, weight_colors
from ..components.tables import count_summary, progress_bar, runs_table, status_badge, sweep_summary

PLAY_MS = 450
LOG_AFTER = 100  # epochs
RUN_PAGE_SIZE = 25
POOL = ThreadPoolExecutor(8)  # the API requests of one callback go out side by side
METRIC, SPLIT = "frac_pred_pos", "test"
# curves are thinned server-side to this many epochs (log- and evenly spaced); exports stay full.
# So few points draw faster as SVG than as WebGL (gl=False below): a WebGL context costs ~0.5 s
# per figure where the browser has no GPU (bench/dashboard.py), SVG ~0.05-0.2 s.
MAX_POINTS = 200
SPLITS = {"test": "in-domain test", "ood": "out-of-domain", "noise": "noise"}
PLAY, PAUSE = "▶ Play", "❚❚ Pause"
GRAPHS = ("boundary-graph", "curve-graph", "spread-graph", "effect-graph")


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


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
    view = initial_view(client, experiment_id, seed, epoch, split, logx, fmt, query.get("slice"))
    loading = empty_figure("Loading…")
    images = view.get("images", False)
    card_title = "What the weight changes: test images per weight" if images else "Decision boundary per weight"
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
                                dbc.Label("seed", html_for="seed-select", className="mb-0 me-2 small text-muted"),
                                dbc.Select(
                                    id="seed-select",
                                    value=view.get("seed", None if seed is None else str(seed)),
                                    options=view.get("seed_options", []),
                                    disabled=view.get("seed_disabled", False),
                                    size="sm",
                                    style={"width": "6rem"},
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
                        className="d-flex align-items-center mb-2",
                    ),
                    dcc.Graph(
                        id="boundary-graph",
                        figure=view.get("boundary") or loading,
                        config=graph_config(fmt),
                        style={"display": "none"} if images else {},
                    ),
                    html.Div(view.get("strip"), id="probe-strip", className="mb-2"),
                    html.P(strip.caption(view["classes"]), className="small text-muted mb-0")
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
                            [html.Code("frac_pred_pos"), " per weight (seed mean, band: its 95% t-interval)"],
                            className="fw-semibold",
                        ),
                        html.Div(
                            [
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
    panels_pending = POOL.submit(panels_for, client, runs, _int(loaded["seed"], 0), store["experiment"]["spec"])
    try:
        curves = figures_cached(client, store["experiment"]["id"], runs, split)
    except ApiError:
        curves = None
    panels = panels_pending.result()
    index = slider_value(panels["epochs"], None, None, True, epoch)
    boundary, strip_body, label = boundary_view(client, panels, index)
    view = {**loaded, "panels": panels, "curves": curves, "boundary": boundary, "strip": strip_body, "epoch_label": label,
            "images": panels["kind"] == "images", "classes": panels["classes"],
            "slider": {"max": max(len(panels["epochs"]) - 1, 0), "marks": slider_marks(panels["epochs"]) if panels["epochs"] else {}, "value": index}}  # fmt: skip
    if curves is not None:
        at = epoch_at(panels, index)

        def draw() -> tuple[dict, dict, dict]:
            spread, effect = analysis_view(curves, logx, at)
            return curve_view(curves, logx, at).to_plotly_json(), spread.to_plotly_json(), effect.to_plotly_json()

        key = FinishedCache.key(runs, client.api_url, store["experiment"]["id"], split, logx, at)
        view["curve"], view["spread"], view["effect"] = VIEWS.get(key, draw)
        view["split_options"] = split_options(curves)
    return view


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


def load_state(client: ApiClient, experiment_id: int, seed: str | None, fmt: str, page: int = 1) -> dict:
    """The experiment, its runs and what is drawn straight from them (header, run table, seeds)."""
    runs_pending = POOL.submit(client.runs, experiment_id)  # side by side with the experiment
    exp, runs = client.experiment(experiment_id), runs_pending.result()
    seeds = sweep.seeds(runs)
    chosen = str(seeds[0]) if seeds and _int(seed) not in seeds else seed
    return {
        "store": {"experiment": exp, "runs": slim(runs)},
        "header": header(exp, client.api_url, fmt, [r["id"] for r in runs], strip.failure_notice(runs)),
        "table": run_page(runs, page),
        "run_pages": max(1, -(-len(runs) // RUN_PAGE_SIZE)),
        "seed_options": [{"label": str(s), "value": str(s)} for s in seeds],
        "seed_disabled": len(seeds) < 2,
        "seed": chosen,
        "done": bool(runs) and all(r["status"] in FINISHED for r in runs),
    }


def run_page(runs: list[dict], page: int):
    """One page of the run table: a hundred rows of progress bars took ~0.8 s to draw."""
    ordered = sorted(runs, key=lambda r: r["index"])
    page = min(max(page or 1, 1), max(1, -(-len(ordered) // RUN_PAGE_SIZE)))
    return runs_table(ordered[(page - 1) * RUN_PAGE_SIZE : page * RUN_PAGE_SIZE], sweep.varying_params(runs))


def split_options(data: dict | None) -> list[dict]:
    present = None if data is None else (data.get("splits") or [])
    return [
        {"label": label, "value": key, "disabled": present is not None and key not in present}
        for key, label in SPLITS.items()
    ]


def header(exp: dict, api_url: str, fmt: str = "png", run_ids: list[int] | None = None, notice=None) -> html.Div:
    base = exp["spec"].get("base", {})
    facts = " · ".join(
        s
        for s in (
            f"#{exp['id']}",
            base.get("dataset"),
            base.get("model") + (f" {base.get('hidden')}" if base.get("model") == "mlp" else ""),
            f"{base.get('epochs')} epochs",
            f"lr {base.get('lr')}",
            f"batch {base.get('batch_size')}",
            f"wd {base.get('weight_decay')}",
            f"loss {base.get('loss_norm')}",
            sweep_summary(exp["spec"]),
        )
        if s
    )
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            html.Div([dcc.Link("← Experiments", href="/experiments", className="small")]),
                            html.H2([exp["name"], " ", status_badge(exp["status"], id="exp-status")], className="mb-1"),
                            html.Div(facts, className="text-muted small"),
                            export_bar(exp, api_url, fmt),
                        ]
                    ),
                    html.Div(
                        [
                            progress_bar(exp["progress"], f"{exp['progress']:.0%}", exp["status"], id="exp-progress"),
                            html.Div(
                                f"{exp['runs_total']} runs: {count_summary(exp['status_counts'])}",
                                className="small text-muted mt-1 text-end",
                            ),
                            html.Div(
                                dcc.Link(
                                    "Compare these runs →",
                                    href="/compare" + tray_search((run_ids or [])[:MAX_RUNS]),
                                    id="compare-runs",
                                    className="small",
                                ),
                                className="text-end",
                            ),
                            html.Div(
                                dcc.Link(
                                    "Clone into the form →",
                                    href=f"/new?from={exp['id']}",
                                    id="clone-link",
                                    className="small",
                                ),
                                className="text-end",
                            ),
                        ],
                        style={"minWidth": "18rem"},
                    ),
                ],
                className="d-flex justify-content-between align-items-end gap-4 flex-wrap",
            ),
            notice,
        ]
    )


def panels_for(client: ApiClient, runs: list[dict], seed: int | None, spec: dict | None = None) -> dict:
    """One panel per sweep group: the group's run with `seed` and its recorded frame epochs (the
    boundary grid's on 2-D data, the image strip's on images: `kind`), and why there is none yet.

    While that run waits in the queue, another seed of the group that has started stands in (its
    label says which), so a running experiment never shows empty panels for long.
    """

    def panel(gi: int, group: dict) -> dict | None:
        chosen = [r for r in group["runs"] if r["params"].get("seed") == seed]
        others = [r for r in group["runs"] if r["params"].get("seed") != seed and r["status"] != "queued"]
        for run in chosen + others:
            if run["status"] == "queued":
                continue
            try:
                info = client.boundary(run["id"], final=run["status"] in FINISHED)
            except ApiError:
                continue
            if not info.get("epochs"):
                continue
            label = group["label"] if run in chosen else f"{group['label']} (seed {run['params'].get('seed')})"
            return {
                "run_id": run["id"],
                "label": label,
                "group": gi,
                "epochs": info["epochs"],
                "status": run["status"],
                "xs": info["xs"],
                "ys": info["ys"],  # the slider's patches draw each frame's line on them
                "finished_at": run.get("finished_at"),
                "total": run["epochs"],
            }
        return None

    panels = [p for p in POOL.map(panel, *zip(*enumerate(sweep.groups(runs)))) if p is not None] if runs else []
    images = strip.is_images(spec or {})
    return {
        "panels": panels,
        "epochs": sorted({e for p in panels for e in p["epochs"]}),
        "kind": "images" if images else "2d",
        "classes": strip.class_names(spec or {}),
        "empty": strip.empty_reason(runs),
    }


def frame_z(client: ApiClient, run_id: int, epoch: int):
    try:
        return client.boundary_frame(run_id, epoch)["z"]
    except ApiError:
        return None


def curves_for(rows: list[dict], runs: list[dict]) -> list[dict]:
    groups = sweep.groups(runs)
    run_group = {r["id"]: gi for gi, g in enumerate(groups) for r in g["runs"]}
    stats = sweep.aggregate(rows, run_group)
    empty: dict[str, list] = {"epoch": [], "mean": [], "sd": [], "n": [], "lo": [], "hi": []}
    if sweep.varying_params(runs) == ["pos_weight"]:  # the groups are the weights: colours in their order
        colors = weight_colors([g["key"][0] for g in groups])
    else:
        colors = [series_color(gi) for gi in range(len(groups))]
    return [{"label": g["label"], "color": c, **stats.get(gi, empty)} for gi, (g, c) in enumerate(zip(groups, colors))]


def figures_for(client: ApiClient, experiment_id: int, runs: list[dict], split: str) -> dict:
    """Everything the curve, spread and effect panels draw, from requests made side by side: the
    split's thinned curves, every metric at the first and last epoch only (which splits exist),
    and the unweighted runs' intended effect (`reference_rows`)."""
    curve_rows_pending = POOL.submit(
        client.experiment_metrics, experiment_id, split=split, metric=METRIC, max_points=MAX_POINTS
    )
    ends = client.experiment_metrics(experiment_id, max_points=2)
    curve_rows = curve_rows_pending.result()
    curves = curves_for(curve_rows, runs)
    realised = (
        curve_rows
        if split == SPLIT
        else client.experiment_metrics(experiment_id, split=SPLIT, metric=METRIC, max_points=MAX_POINTS)
    )
    effect = analysis.effect_by_epoch(runs, realised, reference_rows(client, experiment_id, runs))
    return {
        "split": split,
        "splits": sorted({r["split"] for r in ends if r["metric"] == METRIC}),
        "curves": curves,
        "spread": analysis.spread_curves(runs, dict(enumerate(curves))),
        "fit_epoch": analysis.median_fit_epoch({r["id"]: r.get("fit_epoch") for r in runs}),
        "effect": effect,
        "empty": strip.empty_reason(runs, "a metric"),
    }


def reference_rows(client: ApiClient, experiment_id: int, runs: list[dict]) -> list[dict]:
    """The unweighted runs' rows of the best reference they recorded, for the swept weights (only
    they carry `<reference>@w`). Every epoch, not thinned: at each epoch the panel shows, the
    reference is then either there or missing for a reason."""
    if not any(r["params"].get(analysis.WEIGHT) == 1.0 for r in runs):
        return []
    weights = sorted({float(w) for r in runs if (w := r["params"].get(analysis.WEIGHT)) is not None})
    for prefix in analysis.REFERENCE_NAMES:
        parts = POOL.map(
            lambda w, p=prefix: client.experiment_metrics(experiment_id, split=SPLIT, metric=f"{p}@{w:g}"), weights
        )
        if rows := [row for part in parts for row in part]:
            return rows
    return []


def slim(runs: list[dict]) -> list[dict]:
    """What the browser keeps of each run (the store travels with every callback): the swept
    parameters, not all forty."""
    keep = {"pos_weight", "seed", *sweep.varying_params(runs)}
    fields = ("id", "index", "status", "epochs", "epochs_done", "fit_epoch", "finished_at")
    return [
        {**{f: r.get(f) for f in fields}, "params": {k: v for k, v in r["params"].items() if k in keep}} for r in runs
    ]


class FinishedCache:
    """Answers computed from finished runs, which never change again: a reload, or switching back to
    a split, draws at once instead of refetching and re-aggregating ~10^4 metric rows. The key holds
    every run's finish time, so a retried run that finishes again is computed afresh."""

    def __init__(self, size: int = 32):
        self._items: OrderedDict[tuple, dict] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    @staticmethod
    def key(runs: list[dict], *extra) -> tuple | None:
        """None (do not cache) while any run (or panel: its run) is unfinished."""
        if not runs or any(r["status"] not in FINISHED for r in runs):
            return None
        return (*extra, tuple((r.get("run_id", r.get("id")), r.get("finished_at")) for r in runs))

    def get(self, key: tuple | None, compute):
        if key is None:
            return compute()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


# Finished experiments: their data (FIGURES), and the figures as Plotly JSON (BOUNDARIES, VIEWS): building
# and validating plotly objects took half of a warm 100-run page's server time (bench/dashboard.py)
FIGURES, BOUNDARIES, VIEWS = FinishedCache(), FinishedCache(), FinishedCache()


def figures_cached(client: ApiClient, experiment_id: int, runs: list[dict], split: str) -> dict:
    key = FinishedCache.key(runs, client.api_url, experiment_id, split)
    return FIGURES.get(key, lambda: figures_for(client, experiment_id, runs, split))


def slider_value(
    epochs: list[int], value: int | None, old_max: int | None, paused: bool, initial_epoch: int | None
) -> int | None:
    """Where the slider sits on a new frame list: the URL's epoch first, then the newest frame; at
    the newest frame it follows training as more are recorded."""
    if not epochs:
        return None
    last = len(epochs) - 1
    if value is None:
        if initial_epoch is not None:
            return max([i for i, e in enumerate(epochs) if e <= initial_epoch] or [0])
        return last
    if old_max is not None and value >= old_max and paused:
        return last
    return min(value, last)


def epoch_at(meta: dict | None, index: int | None) -> int | None:
    epochs = (meta or {}).get("epochs") or []
    return epochs[min(index, len(epochs) - 1)] if epochs and index is not None else None


def boundary_view(client: ApiClient, meta: dict | None, index: int | None, patch: bool = False):
    """(figure, image strip, "epoch e of n"): every panel's frame at the slider's epoch, fetched side
    by side; on image data the strip instead of the figure (None). `patch`: only the frame changed,
    so send the new z arrays rather than a figure."""
    panels = (meta or {}).get("panels") or []
    epoch = epoch_at(meta, index)
    images = (meta or {}).get("kind") == "images"
    if not panels or epoch is None:
        why = (meta or {}).get("empty") or "Loading…"
        return (None, dbc.Alert(why, color="light", className="mb-0"), "") if images else (empty_figure(why), None, "")
    assert meta is not None  # it has panels
    label = f"epoch {epoch} of {max([p.get('total', 0) for p in panels] + [meta['epochs'][-1]])}"
    zs = list(POOL.map(lambda p: frame_z(client, p["run_id"], epoch), panels))
    if images:
        try:
            probe = client.boundary(panels[0]["run_id"], final=panels[0]["status"] in FINISHED)
        except ApiError:
            probe = None
        rows = [None if z is None else z[0] for z in zs]
        return None, strip.strip_view(probe, panels, rows, epoch, tuple(meta["classes"])), label
    if patch:
        fig = Patch()
        for i, (p, z) in enumerate(zip(panels, zs)):
            fig["data"][i * TRACES_PER_PANEL + HEATMAP]["z"] = z
            lx, ly = level_line(p["xs"], p["ys"], z) if z is not None else ([], [])
            fig["data"][i * TRACES_PER_PANEL + BOUNDARY]["x"] = lx
            fig["data"][i * TRACES_PER_PANEL + BOUNDARY]["y"] = ly
        fig["layout"]["title"]["text"] = f"Decision boundary at epoch {epoch}"
        return fig, None, label

    def build():
        full = []
        for p, z in zip(panels, zs):
            try:
                info = client.boundary(
                    p["run_id"], final=p["status"] in FINISHED
                )  # cached by panels_for's request once finished
            except ApiError:
                continue
            full.append({"label": p["label"], "xs": info["xs"], "ys": info["ys"], "points": info["points"], "z": z})
        return boundary_figure(full, epoch).to_plotly_json()

    labels = tuple(p["label"] for p in panels)
    key = (
        FinishedCache.key(panels, client.api_url, epoch, labels) if all(z is not None for z in zs) else None
    )  # a failed fetch is retried
    return BOUNDARIES.get(key, build), None, label


def curve_view(data: dict | None, logx: bool, epoch: int | None):
    curves = (data or {}).get("curves") or []
    split = (data or {}).get("split", SPLIT)
    if data and not curves:
        return empty_figure(f"This experiment has no {SPLITS.get(split, split)} split.")
    if data and not any(c["epoch"] for c in curves):
        return empty_figure(data.get("empty") or "No metrics yet.")
    legend = (
        "weight" if curves and all(c["label"].startswith("w = ") and "," not in c["label"] for c in curves) else "group"
    )
    title = f"Fraction predicted positive, {SPLITS.get(split, split)}"
    return curve_figure(
        curves, epoch, bool(logx), title=title, legend_title=legend, fit_epoch=(data or {}).get("fit_epoch"), gl=False
    )


def analysis_view(data: dict, logx: bool, epoch: int | None = None):
    title = f"Spread across weights ({SPLITS.get(data['split'], data['split'])})"
    spread = spread_figure(data["spread"], bool(logx), title=title, fit_epoch=data["fit_epoch"], gl=False)
    return spread, effect_view(data, epoch)


def effect_view(data: dict, epoch: int | None):
    """Realised vs intended at the slider's epoch, naming the reference it shows."""
    effect = data.get("effect") or {}
    at, points = analysis.effect_at(effect, epoch)
    reference = effect.get("reference")
    return effect_figure(
        points, at, analysis.REFERENCE_NAMES.get(reference or ""), analysis.REFERENCE_GAPS.get(reference or "")
    )


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
        prevent_initial_call=True,
    )
    def curves(store, split, chosen):
        if not store:
            return dash.no_update
        try:
            return figures_cached(client, store["experiment"]["id"], slice_runs(store, chosen), split or SPLIT)
        except ApiError:
            return dash.no_update

    @app.callback(Output("split", "options"), Input("curve-store", "data"), prevent_initial_call=True)
    def split_choices(data):
        return split_options(data or {})

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
        State("play-interval", "disabled"),
        State("panels-store", "data"),
        State("logx-default", "data"),
        prevent_initial_call=True,
    )
    def sync_url(index, seed, logx, split, fmt, chosen, paused, meta, logx_default):
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
        return "?" + "&".join(params) if params else ""

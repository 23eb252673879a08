"""`/experiments?page=2&status=running&q=fade`: experiments with their status and progress, a page
of the API's list at a time (newest first); polls while any shown is queued or running.

The name and status filters apply to the page shown (the API lists by limit/offset only).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from ..client import ApiClient, ApiError
from ..components.style import FINISHED
from ..components.tables import experiments_table

LIMIT = 50
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


def _page(value) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def layout(client: ApiClient, poll_seconds: float, query: dict | None = None) -> html.Div:
    query = query or {}
    filters = html.Div(
        [
            dbc.Input(id="exp-filter-q", type="search", placeholder="filter by name", value=query.get("q", ""), size="sm", style={"width": "16rem"}, debounce=True),
            dbc.Select(id="exp-filter-status", size="sm", style={"width": "11rem"}, placeholder="any status", value=query.get("status") if query.get("status") in STATUSES else "",
                       options=[{"label": "any status", "value": ""}] + [{"label": st, "value": st} for st in STATUSES]),
        ],
        className="d-flex gap-2 mb-2",
    )
    return html.Div(
        [
            dcc.Location(id="list-url", refresh=False),
            dcc.Store(id="list-page", data=_page(query.get("page"))),
            html.Div(
                [
                    html.Div([html.H2("Experiments", className="mb-0"), html.Div("Each experiment sweeps the positive-class weight (and seeds); open one to watch its boundary move.", className="text-muted")]),
                    html.Div(
                        [
                            dcc.Link(dbc.Button("Presets", color="primary", outline=True, id="browse-presets"), href="/"),
                            dcc.Link(dbc.Button("+ New experiment", color="primary", id="new-experiment"), href="/new"),
                        ],
                        className="d-flex gap-2",
                    ),
                ],
                className="d-flex justify-content-between align-items-end mb-3 gap-3",
            ),
            filters,
            dbc.Card(dbc.CardBody(id="experiments-body", children=dbc.Spinner(color="primary")), className="shadow-sm"),
            dcc.Interval(id="list-poll", interval=int(poll_seconds * 1000)),
        ]
    )


def empty_state() -> html.Div:
    return html.Div(
        [
            html.H4("No experiments yet"),
            html.P(
                "An experiment trains the same small network once per importance weight given to the positive class "
                "(and per seed), and records how the decision boundary moves epoch by epoch.",
                className="text-muted mx-auto", style={"maxWidth": "38rem"},
            ),
            html.Div(
                [
                    dcc.Link(dbc.Button("Run a preset from the paper", color="primary", size="lg"), href="/"),
                    dcc.Link(dbc.Button("Start your own experiment", color="primary", outline=True, size="lg"), href="/new"),
                ],
                className="d-flex gap-2 justify-content-center",
            ),
        ],
        className="text-center py-5", id="empty-state",
    )


def pager(page: int, total: int, search: str) -> html.Div | None:
    pages = max(1, -(-total // LIMIT))
    if pages == 1:
        return None
    link = lambda p, text: dcc.Link(text, href=f"/experiments?page={p}{search}", className="btn btn-sm btn-outline-primary", id=f"page-{text.split()[0].lower()}")  # noqa: E731
    return html.Div(
        [link(page - 1, "← Newer") if page > 1 else None, html.Span(f"page {page} of {pages} ({total} experiments)", className="small text-muted"),
         link(page + 1, "Older →") if page < pages else None],
        className="d-flex align-items-center gap-2 mt-3", id="pager",
    )  # fmt: skip


def matches(exp: dict, q: str, status: str) -> bool:
    return (not q or q.lower() in exp["name"].lower()) and (not status or exp["status"] == status)


def register(app, client: ApiClient) -> None:
    @app.callback(
        Output("experiments-body", "children"),
        Output("list-poll", "disabled"),
        Output("list-url", "search"),
        Input("list-poll", "n_intervals"),
        Input("exp-filter-q", "value"),
        Input("exp-filter-status", "value"),
        State("list-page", "data"),
    )
    def refresh(_n, q, status, page):
        q, status, page = (q or "").strip(), status or "", page or 1
        search = "".join(f"&{k}={v}" for k, v in (("q", q), ("status", status)) if v)
        url = f"?page={page}{search}" if page > 1 else ("?" + search[1:] if search else "")
        try:
            listing = client.list_experiments(limit=LIMIT, offset=(page - 1) * LIMIT)
        except ApiError as err:
            return dbc.Alert(f"Cannot load experiments: {err.message}", color="danger", className="mb-0"), False, url
        items = listing["items"]
        if not items and page == 1:
            return empty_state(), True, url
        active = any(e["status"] not in FINISHED for e in items)
        shown = [e for e in items if matches(e, q, status)]
        body = experiments_table(shown) if shown else html.P("No experiment on this page matches.", className="text-muted mb-0", id="no-match")
        return [body, pager(page, listing["total"], search)], not active, url

"""`/experiments?page=2&status=running&q=fade&tag=paper,2-d&sort=-progress`: experiments with their
status, progress and tags, a page of the API's list at a time; polls while any shown is queued or
running.

The API sorts (`sort`, newest first by default) and filters by tag, over every experiment; the name
and status filters apply to the page shown. Clicking a column header sorts by it (again: the other
way), clicking a tag chip filters by that tag (again: stops).
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html

from ..client import ApiClient, ApiError
from ..components.style import FINISHED
from ..components.tables import DEFAULT_SORT, SORT_COLUMNS, experiments_table, next_sort

LIMIT = 50
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
SORTS = {s for key in SORT_COLUMNS.values() for s in (key, f"-{key}")}


def _page(value) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def parse_tags(value: str | None) -> list[str]:
    """'Paper, 2-d,,paper' -> ['paper', '2-d']: what the tag filter box and `?tag=` hold."""
    return list(dict.fromkeys(t.strip().lower() for t in (value or "").split(",") if t.strip()))


def parse_sort(value: str | None) -> str:
    return value if value in SORTS else DEFAULT_SORT


def toggle_tag(current: str | None, tag: str) -> str:
    """The tag filter after a click on a chip: the tag added, or removed if it was there."""
    tags = parse_tags(current)
    return ",".join([t for t in tags if t != tag] if tag in tags else [*tags, tag])


def search_of(page: int, q: str, status: str, tags: list[str], sort: str) -> str:
    """The URL's query for this view (defaults left out), as the address bar and the pager use it."""
    params = [("page", str(page) if page > 1 else ""), ("q", q), ("status", status), ("tag", ",".join(tags)),
              ("sort", sort if sort != DEFAULT_SORT else "")]  # fmt: skip
    return "&".join(f"{k}={v}" for k, v in params if v)


def layout(client: ApiClient, poll_seconds: float, query: dict | None = None) -> html.Div:
    query = query or {}
    filters = html.Div(
        [
            dbc.Input(
                id="exp-filter-q",
                type="search",
                placeholder="filter by name",
                value=query.get("q", ""),
                size="sm",
                style={"width": "16rem"},
                debounce=True,
            ),
            dbc.Select(
                id="exp-filter-status",
                size="sm",
                style={"width": "11rem"},
                placeholder="any status",
                value=query.get("status") if query.get("status") in STATUSES else "",
                options=[{"label": "any status", "value": ""}] + [{"label": st, "value": st} for st in STATUSES],
            ),
            dbc.Input(
                id="exp-filter-tag",
                type="search",
                placeholder="tags, e.g. paper, 2-d",
                value=",".join(parse_tags(query.get("tag"))),
                size="sm",
                style={"width": "14rem"},
                debounce=True,
            ),
        ],
        className="d-flex gap-2 mb-2",
    )
    return html.Div(
        [
            dcc.Location(id="list-url", refresh=False),
            dcc.Store(id="list-page", data=_page(query.get("page"))),
            dcc.Store(id="list-sort", data=parse_sort(query.get("sort"))),
            html.Div(
                [
                    html.Div(
                        [
                            html.H2("Experiments", className="mb-0"),
                            html.Div(
                                "Each experiment sweeps the positive-class weight (and seeds); open one to watch its boundary move.",
                                className="text-muted",
                            ),
                        ]
                    ),
                    html.Div(
                        [
                            dcc.Link(
                                dbc.Button("Presets", color="primary", outline=True, id="browse-presets"), href="/"
                            ),
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
                className="text-muted mx-auto",
                style={"maxWidth": "38rem"},
            ),
            html.Div(
                [
                    dcc.Link(dbc.Button("Run a preset from the paper", color="primary", size="lg"), href="/"),
                    dcc.Link(
                        dbc.Button("Start your own experiment", color="primary", outline=True, size="lg"), href="/new"
                    ),
                ],
                className="d-flex gap-2 justify-content-center",
            ),
        ],
        className="text-center py-5",
        id="empty-state",
    )


def pager(page: int, total: int, search: str) -> html.Div | None:
    pages = max(1, -(-total // LIMIT))
    if pages == 1:
        return None
    link = lambda p, text, which: dcc.Link(
        text, href=f"/experiments?page={p}{search}", className="btn btn-sm btn-outline-primary", id=f"page-{which}"
    )  # noqa: E731
    return html.Div(
        [link(page - 1, "← Previous", "previous") if page > 1 else None, html.Span(f"page {page} of {pages} ({total} experiments)", className="small text-muted"),
         link(page + 1, "Next →", "next") if page < pages else None],
        className="d-flex align-items-center gap-2 mt-3", id="pager",
    )  # fmt: skip


def matches(exp: dict, q: str, status: str) -> bool:
    return (not q or q.lower() in exp["name"].lower()) and (not status or exp["status"] == status)


def refused(err: ApiError) -> str:
    """The API's reason (a 422 names the field), else its message."""
    if err.status == 422 and isinstance(err.detail, list) and err.detail and isinstance(err.detail[0], dict):
        return err.detail[0].get("msg", err.message)
    return err.message


def clicked(values) -> bool:
    """Whether a pattern-matching callback fired for a click, not for buttons that just appeared."""
    return bool(ctx.triggered_id and any(values) and ctx.triggered and ctx.triggered[0]["value"])


def register(app, client: ApiClient) -> None:
    @app.callback(
        Output("experiments-body", "children"),
        Output("list-poll", "disabled"),
        Output("list-url", "search"),
        Output("list-page", "data"),
        Input("list-poll", "n_intervals"),
        Input("exp-filter-q", "value"),
        Input("exp-filter-status", "value"),
        Input("exp-filter-tag", "value"),
        Input("list-sort", "data"),
        State("list-page", "data"),
    )
    def refresh(_n, q, status, tag_text, sort, page):
        q, status, tags, sort = (q or "").strip(), status or "", parse_tags(tag_text), parse_sort(sort)
        # another tag filter or order is another list: its first page
        page = 1 if ctx.triggered_id in ("exp-filter-tag", "list-sort") else (page or 1)
        rest = search_of(1, q, status, tags, sort)
        search = "?" + search_of(page, q, status, tags, sort) if page > 1 or rest else ""
        try:
            listing = client.list_experiments(limit=LIMIT, offset=(page - 1) * LIMIT, sort=sort, tags=tags)
        except ApiError as err:
            bad_filter = err.status == 422  # polling would only be refused again; an outage may pass
            alert = dbc.Alert(
                f"Cannot load experiments: {refused(err)}",
                color="warning" if bad_filter else "danger",
                className="mb-0",
                id="list-error",
            )
            return alert, bad_filter, search, page
        items = listing["items"]
        if not items and page == 1 and not tags:
            return empty_state(), True, search, page
        active = any(e["status"] not in FINISHED for e in items)
        shown = [e for e in items if matches(e, q, status)]
        if shown:
            body = experiments_table(shown, sort, tags)
        else:
            body = html.P(
                "No experiment tagged " + ", ".join(tags) + "."
                if tags and not items
                else "No experiment on this page matches.",
                className="text-muted mb-0",
                id="no-match",
            )
        return [body, pager(page, listing["total"], "&" + rest if rest else "")], not active, search, page

    @app.callback(
        Output("list-sort", "data"),
        Input({"type": "exp-sort", "key": ALL}, "n_clicks"),
        State("list-sort", "data"),
        prevent_initial_call=True,
    )
    def sort_by(clicks, current):
        if not clicked(clicks):
            return dash.no_update  # the headers were drawn again
        return next_sort(parse_sort(current), ctx.triggered_id["key"])

    @app.callback(
        Output("exp-filter-tag", "value"),
        Input({"type": "exp-tag", "tag": ALL, "row": ALL}, "n_clicks"),
        State("exp-filter-tag", "value"),
        prevent_initial_call=True,
    )
    def filter_by_tag(clicks, current):
        if not clicked(clicks):
            return dash.no_update
        return toggle_tag(current, ctx.triggered_id["tag"])

"""`/workers`: the lab's worker processes (alive, busy with which run, queues, GPU, last heartbeat),
from `GET /workers`; refreshed every few seconds. Drain (admins): the worker finishes its run,
hands the rest back to the queue and stops, e.g. before its machine goes away."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html

from ..client import ApiClient, ApiError
from ..components import confirm

LIMIT = 200
STATE_COLOR = {
    "training": "primary",
    "idle": "success",
    "draining": "warning",
    "stopped": "secondary",
    "dead": "danger",
}


def layout(client: ApiClient, poll_seconds: float) -> html.Div:
    return html.Div(
        [
            html.H2("Workers", className="mb-0"),
            html.Div(
                "The processes that train queued runs, from their own heartbeats. Image runs go to GPU workers "
                "while one is alive; everything else trains on CPU workers.",
                className="text-muted mb-3",
            ),
            html.Div(id="workers-msg"),
            dcc.Store(id="drain-pending"),
            confirm.modal("drain", "Drain this worker?", "Drain", color="warning"),
            dbc.Card(dbc.CardBody(id="workers-body", children=dbc.Spinner(color="primary")), className="shadow-sm"),
            dcc.Interval(id="workers-poll", interval=int(max(poll_seconds, 2.0) * 1000)),
        ]
    )


def state(worker: dict) -> str:
    if not worker["alive"]:
        return "stopped" if worker["stopped_at"] else "dead"
    if worker["draining"]:
        return "draining"
    return "training" if worker["busy"] else "idle"


def ago(stamp: str, now: datetime) -> str:
    then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    seconds = max(0, int((now - (then if then.tzinfo else then.replace(tzinfo=UTC))).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    return f"{seconds // 60} min ago" if seconds < 7200 else f"{seconds // 3600} h ago"


def workers_table(items: list[dict], run_links: dict[int, int], now: datetime) -> dbc.Table:
    """`run_links` maps a running run's id to its experiment's id (for the link)."""
    header = html.Thead(
        html.Tr([html.Th(h) for h in ("Worker", "State", "Training", "Queues", "GPU", "Last heartbeat", "")])
    )
    rows = []
    for w in items:
        runs = [
            dcc.Link(f"run {r}", href=f"/experiments/{run_links[r]}", className="me-2")
            if r in run_links
            else html.Span(f"run {r}", className="me-2")
            for r in w["current_runs"]
        ]
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [
                            html.Div(w["name"], className="fw-semibold"),
                            html.Div(f"{w['host']} · pid {w['pid']}", className="small text-muted"),
                        ]
                    ),
                    html.Td(dbc.Badge(state(w), color=STATE_COLOR[state(w)], className="text-uppercase")),
                    html.Td(runs or html.Span("—", className="text-muted")),
                    html.Td(", ".join(w["queues"])),
                    html.Td(w["gpu"] if w["gpu"] is not None else "—"),
                    html.Td(ago(w["heartbeat_at"], now), title=w["heartbeat_at"], className="text-nowrap"),
                    html.Td(drain_button(w), className="text-end"),
                ],
                id={"type": "worker-row", "name": w["name"]},
            )
        )
    return dbc.Table(
        [header, html.Tbody(rows)], hover=True, responsive=True, className="align-middle mb-0", id="workers-table"
    )


def drain_button(worker: dict):
    """Only for a live worker that is not draining yet."""
    if not worker["alive"] or worker["draining"]:
        return None
    return dbc.Button(
        "Drain",
        id={"type": "worker-drain", "name": worker["name"]},
        size="sm",
        color="warning",
        outline=True,
        className="py-0 worker-drain",
        title="finish the current run, hand the rest back to the queue, stop (admins)",
    )


def empty_state() -> html.Div:
    return html.Div(
        [
            html.H4("No worker has registered yet"),
            html.P(
                "Queued runs wait until a worker takes them. Start one on any machine that reaches this lab's "
                "database and broker:",
                className="text-muted",
            ),
            html.Pre(
                "iwlab worker                         # CPU runs\niwlab worker --queues gpu --gpus 0,1  # one process per GPU",
                className="d-inline-block text-start bg-light p-3 rounded",
            ),
        ],
        className="text-center py-5",
        id="workers-empty",
    )


def register(app, client: ApiClient) -> None:
    @app.callback(Output("workers-body", "children"), Input("workers-poll", "n_intervals"))
    def refresh(_n):
        try:
            page = client.workers(limit=LIMIT)
            running = {r for w in page["items"] for r in w["current_runs"]}
            run_links = {r: client.run(r)["experiment_id"] for r in sorted(running)}
        except ApiError as err:
            return dbc.Alert(f"Cannot load the workers: {err.message}", color="danger", className="mb-0")
        if not page["items"]:
            return empty_state()
        alive = sum(w["alive"] for w in page["items"])
        summary = html.Div(f"{alive} alive of {page['total']} registered.", className="small text-muted mb-2")
        return [summary, workers_table(page["items"], run_links, datetime.now(UTC))]

    @app.callback(
        Output("drain-modal", "is_open"),
        Output("drain-body", "children"),
        Output("drain-pending", "data"),
        Input({"type": "worker-drain", "name": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def ask(_clicks):
        if not ctx.triggered_id or not ctx.triggered[0]["value"]:
            return dash.no_update, dash.no_update, dash.no_update  # the buttons just (re)appeared
        name = ctx.triggered_id["name"]
        try:
            others = [
                w
                for w in client.workers(limit=LIMIT)["items"]
                if w["alive"] and not w["draining"] and w["name"] != name
            ]
        except ApiError:
            others = None
        return True, drain_facts(name, others), name

    # Back on its own: the table (and its buttons) re-renders at every poll, and a click batched with
    # such a re-render would be read as the re-render in a shared callback
    @app.callback(
        Output("drain-modal", "is_open", allow_duplicate=True), Input("drain-no", "n_clicks"), prevent_initial_call=True
    )
    def back(clicks):
        return False if clicks else dash.no_update

    @app.callback(
        Output("workers-msg", "children"),
        Output("workers-poll", "n_intervals"),
        Output("drain-modal", "is_open", allow_duplicate=True),
        Input("drain-yes", "n_clicks"),
        State("drain-pending", "data"),
        State("workers-poll", "n_intervals"),
        prevent_initial_call=True,
    )
    def drain(clicks, name, ticks):
        if not clicks or not name:
            return dash.no_update, dash.no_update, False
        try:
            client.drain_worker(name)
        except ApiError as err:
            return (
                dbc.Alert(f"Could not drain {name}: {err.message}", color="danger", dismissable=True, className="py-2"),
                dash.no_update,
                False,
            )
        return (
            dbc.Alert(
                f"{name} is draining: it finishes its run and stops.", color="info", dismissable=True, className="py-2"
            ),
            (ticks or 0) + 1,
            False,
        )


def drain_facts(name: str, others: list[dict] | None) -> list:
    """What a drain does, and what it leaves: said loudest when no other worker would take the queue."""
    lines: list[Any] = [
        [html.Strong(name), " finishes the run it is training, hands the rest back to the queue and stops."]
    ]
    if others == []:
        wait = "Queued runs then wait until another starts (`iwlab worker`). The API and this dashboard stay up."
        lines.append(
            dbc.Alert(
                [html.Strong("It is the last live worker. "), wait],
                color="warning",
                className="py-2 mb-0",
                id="drain-last",
            )
        )
    elif others:
        lines.append(
            f"{len(others)} other live worker{'s' * (len(others) != 1)} take{'s' * (len(others) == 1)} the queue."
        )
    return confirm.facts(*lines)

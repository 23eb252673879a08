"""Tables, badges and progress bars (Dash components) from API JSON. Pure: no HTTP, no callbacks.

Over 300 lines: one pure builder per table the pages show (runs, experiments, parameters,
history, workers), sharing the badges and number formats.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from .style import STATUS_COLOR
from .sweep import SHORT, _fmt

STATUS_ORDER = ("running", "queued", "failed", "cancelled", "succeeded")
DEFAULT_SORT = "-created_at"  # the API's default: newest first
# the experiments table's sortable columns: header -> the API's `sort` key
SORT_COLUMNS = {
    "Experiment": "name",
    "Status": "status",
    "Runs": "runs",
    "Progress": "progress",
    "Created": "created_at",
}
# a first click sorts these descending (biggest, newest first); the others ascending (a to z; running first)
DESCENDING_FIRST = ("runs", "progress", "created_at")


def status_badge(status: str, **kwargs) -> dbc.Badge:
    return dbc.Badge(
        status, color=STATUS_COLOR.get(status, "secondary"), className="status-badge text-uppercase", **kwargs
    )


def progress_bar(fraction: float, label: str = "", status: str = "running", **kwargs) -> dbc.Progress:
    pct = max(0.0, min(1.0, fraction or 0.0)) * 100
    color = {"failed": "danger", "succeeded": "success", "queued": "secondary", "cancelled": "warning"}.get(
        status, "primary"
    )
    return dbc.Progress(
        value=pct,
        label=label,
        color=color,
        striped=status == "running",
        animated=status == "running",
        style={"height": "1.15rem", "minWidth": "8rem"},
        **kwargs,
    )


def format_time(stamp: str | None, seconds: bool = False) -> str:
    """'2026-01-01 12:30', or with `seconds` '2026-01-01 12:30:05' (history steps are often seconds apart)."""
    if not stamp:
        return ""
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime(
            "%Y-%m-%d %H:%M" + (":%S" if seconds else "")
        )
    except ValueError:
        return stamp


def count_summary(status_counts: dict[str, int]) -> str:
    """'4 succeeded, 2 running' in a stable order."""
    parts = [f"{status_counts[s]} {s}" for s in STATUS_ORDER if status_counts.get(s)]
    parts += [f"{n} {s}" for s, n in status_counts.items() if s not in STATUS_ORDER and n]
    return ", ".join(parts)


def sweep_summary(spec: dict) -> str:
    """'w in {0.1, 1, 10} x seed in {0, 1}'."""
    sweep = spec.get("sweep") or {}
    return " × ".join(f"{SHORT.get(k, k)} ∈ {{{', '.join(_fmt(v) for v in vals)}}}" for k, vals in sweep.items())


def next_sort(current: str, key: str) -> str:
    """The sort a click on `key`'s header asks for: the other direction if it is the current key."""
    if current.lstrip("-") == key:
        return key if current.startswith("-") else f"-{key}"
    return f"-{key}" if key in DESCENDING_FIRST else key


def sort_id(key: str) -> dict:
    """Pattern-matching id of a sortable column header."""
    return {"type": "exp-sort", "key": key}


def sort_header(label: str, key: str, current: str, **kwargs) -> html.Th:
    """A header that sorts by its column when clicked; an arrow marks the current order."""
    active = current.lstrip("-") == key
    arrow = ("▼" if current.startswith("-") else "▲") if active else ""
    direction = "descending" if current.startswith("-") else "ascending"
    button = html.Button(
        [label, html.Span(f" {arrow}", className="sort-arrow") if arrow else None],
        id=sort_id(key),
        n_clicks=0,
        className="btn btn-link p-0 fw-bold text-reset text-decoration-none sort-header"
        + (" sort-active" if active else ""),
        title=f"sorted {direction}; click to reverse" if active else f"sort by {label.lower()}",
    )
    aria: dict[str, Any] = {"aria-sort": direction if active else "none"}  # not a Python name: passed as a mapping
    return html.Th(button, **aria, **kwargs)


def tag_id(tag: str, row: int | str = "") -> dict:
    """Pattern-matching id of a tag chip (a click filters the list by that tag); `row` keeps the
    chips of several experiments carrying the same tag apart."""
    return {"type": "exp-tag", "tag": tag, "row": str(row)}


def tag_chips(tags: list[str], active: list[str] | tuple = (), row: int | str = "") -> list:
    """One chip per tag: highlighted while the list is filtered by it, and a click toggles that filter."""
    return [
        html.Button(
            tag,
            id=tag_id(tag, row),
            n_clicks=0,
            title=f"{'stop filtering' if tag in active else 'show only experiments tagged'} {tag}",
            className="badge rounded-pill border me-1 tag-chip "
            + ("bg-primary text-white tag-active" if tag in active else "bg-light text-dark"),
        )
        for tag in tags
    ]


def experiments_table(items: list[dict], sort: str = DEFAULT_SORT, active_tags: list[str] | tuple = ()) -> dbc.Table:
    """One row per experiment; the headers sort (server-side, see the experiments page) and the tag
    chips filter."""
    styles = {"Progress": {"style": {"width": "22%"}}}
    header = html.Thead(
        html.Tr([sort_header(label, key, sort, **styles.get(label, {})) for label, key in SORT_COLUMNS.items()])
    )
    rows = []
    for exp in items:
        base = exp["spec"].get("base", {})
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [
                            dcc.Link(exp["name"], href=f"/experiments/{exp['id']}", className="fw-semibold exp-link"),
                            html.Div(
                                f"#{exp['id']} · {base.get('dataset', '')} · {base.get('model', '')} · {sweep_summary(exp['spec'])}"
                                + (f" · owner #{exp['owner_id']}" if exp.get("owner_id") is not None else ""),
                                className="small text-muted",
                            ),
                            html.Div(tag_chips(exp["tags"], active_tags, row=exp["id"]), className="mt-1 exp-tags")
                            if exp.get("tags")
                            else None,
                        ]
                    ),
                    html.Td(status_badge(exp["status"])),
                    html.Td(
                        [
                            html.Div(f"{exp['runs_total']} runs"),
                            html.Div(count_summary(exp["status_counts"]), className="small text-muted"),
                        ]
                    ),
                    html.Td(progress_bar(exp["progress"], f"{exp['progress']:.0%}", exp["status"])),
                    html.Td(format_time(exp["created_at"]), className="text-nowrap"),
                ],
                id={"type": "exp-row", "id": exp["id"]},
            )
        )
    return dbc.Table(
        [header, html.Tbody(rows)], hover=True, responsive=True, className="align-middle mb-0", id="experiments-table"
    )


EVENT_LABELS = {
    "queued": "submitted",
    "claimed": "taken by a worker",
    "cancel_requested": "cancel requested",
    "requeued": "requeued: worker lost",
    "retried": "retried",
}  # the others (succeeded, failed, cancelled) read as they are


def history_table(events: list[dict]) -> dbc.Table | html.P:
    """A run's status transitions (`GET /runs/{id}/history`), oldest first: when, what happened, the
    status it left the run in, which attempt on which worker, and why."""
    if not events:
        return html.P("No status changes recorded.", className="text-muted small mb-0", id="run-history-table")
    header = html.Thead(
        html.Tr(
            [
                html.Th("when"),
                html.Th("what"),
                html.Th("status"),
                html.Th("attempt"),
                html.Th("worker"),
                html.Th("detail"),
            ]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(format_time(e["at"], seconds=True), className="text-nowrap small"),
                html.Td(EVENT_LABELS.get(e["event"], e["event"])),
                html.Td(status_badge(e["status"])),
                html.Td(e["attempt"] if e.get("attempt") is not None else ""),
                html.Td(e.get("worker") or "", className="small text-muted"),
                html.Td(e.get("detail") or "", className="small"),
            ],
            className="history-row",
        )
        for e in events
    ]
    return dbc.Table(
        [header, html.Tbody(rows)], size="sm", responsive=True, className="align-middle mb-0", id="run-history-table"
    )


def error_cell(error: str | None, limit: int = 200):
    """The first line of a run's error (tracebacks can be long); the whole text on hover."""
    if not error:
        return ""
    first = error.strip().splitlines()[0] if error.strip() else error
    short = first if len(first) <= limit else first[: limit - 1] + "…"
    return html.Code(short, title=error, className="text-danger small run-error")


def eta(run: dict, now: datetime | None = None) -> str:
    """'~3 min left' for a running run, from its pace so far; '' when there is nothing to go on."""
    done, total, started = run.get("epochs_done") or 0, run.get("epochs") or 0, run.get("started_at")
    if run.get("status") != "running" or not done or not started or done >= total:
        return ""
    try:
        start = datetime.fromisoformat(started.replace("Z", "+00:00"))
    except ValueError:
        return ""
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    left = (((now or datetime.now(UTC)) - start).total_seconds() / done) * (total - done)
    if left < 60:
        return f"~{max(1, round(left))} s left"
    if left < 3600:
        return f"~{round(left / 60)} min left"
    return f"~{left / 3600:.1f} h left"


def run_action_id(action: str, run_id: int) -> dict:
    """Pattern-matching id of a run's Cancel or Retry button."""
    return {"type": "run-action", "action": action, "id": run_id}


def run_actions(run: dict) -> list:
    """Cancel while queued or running (not twice), Retry once failed or cancelled."""
    if run["status"] in ("queued", "running"):
        if run.get("cancel_requested"):
            return [html.Span("stopping…", className="small text-muted")]
        return [
            dbc.Button(
                "Cancel",
                id=run_action_id("cancel", run["id"]),
                size="sm",
                color="danger",
                outline=True,
                className="py-0 run-cancel",
            )
        ]
    if run["status"] in ("failed", "cancelled"):
        # a retry starts a fresh attempt (the API deletes its epochs, frames and checkpoint): say so
        done = run.get("epochs_done") or 0
        label = f"Retry from epoch 0 (discards {done} epoch{'s' * (done != 1)})" if done else "Retry from epoch 0"
        return [
            dbc.Button(
                label,
                id=run_action_id("retry", run["id"]),
                size="sm",
                color="primary",
                outline=True,
                className="py-0 run-retry",
                title="a fresh attempt: the recorded epochs, frames and checkpoint are deleted",
            )
        ]
    return []


def runs_table(runs: list[dict], varying: list[str], now: datetime | None = None) -> dbc.Table:
    """One row per run: the swept values, seed, status, 'epoch k of n' progress with an ETA, any
    error text, Cancel/Retry; the run id links to the run's own page."""
    extra = [n for n in varying if n != "pos_weight"]
    # a class_weights sweep leaves pos_weight at 1 in every run: a column of 1s would read as "unweighted"
    weight = "pos_weight" in varying or "class_weights" not in varying
    header = html.Thead(
        html.Tr(
            [
                html.Th("Run"),
                html.Th("Weight") if weight else None,
                *[html.Th(n) for n in extra],
                html.Th("Seed"),
                html.Th("Status"),
                html.Th("Progress", style={"width": "28%"}),
                html.Th("Worker"),
                html.Th("Error"),
                html.Th(""),
            ]
        )
    )
    rows = []
    for run in sorted(runs, key=lambda r: r["index"]):
        p = run["params"]
        done, total = run["epochs_done"], run["epochs"]
        left = eta(run, now)
        rows.append(
            html.Tr(
                [
                    html.Td(dcc.Link(f"#{run['id']}", href=f"/runs/{run['id']}", className="run-link")),
                    html.Td(_fmt(p.get("pos_weight")), className="fw-semibold") if weight else None,
                    *[html.Td(_fmt(p.get(n))) for n in extra],
                    html.Td(p.get("seed")),
                    html.Td(status_badge(run["status"])),
                    html.Td(
                        html.Div(
                            [
                                progress_bar(
                                    done / total if total else 0.0, "", run["status"], className="flex-grow-1"
                                ),
                                html.Span(
                                    [
                                        html.Span(f"epoch {done} of {total}"),
                                        html.Span(f" · {left}", className="text-muted run-eta") if left else None,
                                    ],
                                    className="small text-nowrap run-epochs",
                                    style={"minWidth": "8.5rem"},
                                ),
                            ],
                            className="d-flex align-items-center gap-2",
                        )
                    ),
                    html.Td(run.get("worker") or "", className="small text-muted"),
                    html.Td(error_cell(run.get("error"))),
                    html.Td(run_actions(run), className="text-end"),
                ],
                className="run-row",
            )
        )
    return dbc.Table(
        [header, html.Tbody(rows)],
        hover=True,
        size="sm",
        responsive=True,
        className="align-middle mb-0",
        id="run-table-inner",
    )

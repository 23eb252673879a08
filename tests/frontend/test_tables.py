"""Tables and badges render what the API says: links, counts, 'epoch k of n', error text."""

import dash_bootstrap_components as dbc
from dash import dcc, html

from frontend.components.tables import (
    count_summary,
    experiments_table,
    format_time,
    runs_table,
    status_badge,
    sweep_summary,
)

from .conftest import make_run


def walk(component):
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            yield from walk(child)


def texts(component) -> list[str]:
    out = []
    for c in walk(component):
        kids = getattr(c, "children", None)
        if isinstance(kids, (str, int, float)):
            out.append(str(kids))
        if isinstance(c, dbc.Progress) and c.label:
            out.append(c.label)
    return out


def test_experiments_table_links_each_experiment(experiment):
    table = experiments_table([experiment, experiment | {"id": 2, "name": "other", "status": "succeeded"}])
    links = [c for c in walk(table) if isinstance(c, dcc.Link)]
    assert [(link.href, link.children) for link in links] == [("/experiments/1", "fade"), ("/experiments/2", "other")]
    words = texts(table)
    assert "6 runs" in words and "2 running, 4 succeeded" in words and "75%" in words
    assert "2026-01-01 12:30" in words


def test_runs_table_shows_weight_seed_progress_and_error():
    runs = [
        make_run(1, 0, 0.1, 0, status="running", done=2),
        make_run(2, 1, 10.0, 0, status="failed", done=1, error="ValueError: boom"),
    ]
    table = runs_table(runs, ["pos_weight"])
    words = texts(table)
    assert "epoch 2 of 4" in words and "epoch 1 of 4" in words
    assert "0.1" in words and "10" in words and "ValueError: boom" in words
    bars = [c for c in walk(table) if isinstance(c, dbc.Progress)]
    assert [b.value for b in bars] == [50.0, 25.0] and bars[1].color == "danger"


def test_runs_table_adds_a_column_per_other_swept_parameter():
    runs = [make_run(1, 0, 1.0, 0, lr=0.1), make_run(2, 1, 1.0, 0, lr=0.01)]
    assert "lr" in texts(runs_table(runs, ["pos_weight", "lr"]))


def test_long_errors_are_cut_to_their_first_line_with_the_rest_on_hover():
    from frontend.components.tables import error_cell

    cell = error_cell("IntegrityError: " + "x" * 500 + "\nTraceback ...")
    assert len(cell.children) == 200 and cell.children.endswith("…") and "Traceback" in cell.title
    assert error_cell(None) == ""


def test_small_helpers():
    assert status_badge("failed").color == "danger"
    assert count_summary({"succeeded": 1, "queued": 2, "odd": 1}) == "2 queued, 1 succeeded, 1 odd"
    assert sweep_summary({"sweep": {"pos_weight": [0.1, 1.0], "seed": [0]}}) == "w ∈ {0.1, 1} × seed ∈ {0}"
    assert format_time(None) == "" and format_time("garbage") == "garbage"


def test_eta_extrapolates_the_pace_of_a_running_run():
    from datetime import UTC, datetime

    from frontend.components.tables import eta

    now = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)
    run = make_run(1, 0, 1.0, 0, status="running", done=1) | {"started_at": "2026-01-01T00:00:00", "epochs": 4}
    assert eta(run, now) == "~30 min left"  # 10 min per epoch, 3 to go
    assert eta(run | {"epochs_done": 3}, now) == "~3 min left"
    assert eta(run | {"epochs": 1000, "epochs_done": 999, "started_at": "2026-01-01T00:09:59Z"}, now) == "~1 s left"
    assert eta(run | {"status": "queued"}, now) == "" and eta(run | {"epochs_done": 0}, now) == ""


def test_runs_offer_cancel_while_active_and_retry_once_stopped():
    from frontend.components.tables import run_action_id

    runs = [make_run(1, 0, 1.0, 0, status="running", done=2), make_run(2, 1, 1.0, 1, status="queued", done=0),
            make_run(3, 2, 1.0, 2, status="failed"), make_run(4, 3, 1.0, 3, status="cancelled", done=1),
            make_run(5, 4, 1.0, 4), make_run(6, 5, 1.0, 5, status="running") | {"cancel_requested": True}]  # fmt: skip
    table = runs_table(runs, [])
    buttons = {b.id["id"]: b.id for b in walk(table) if isinstance(b, dbc.Button)}
    assert buttons == {
        1: run_action_id("cancel", 1),
        2: run_action_id("cancel", 2),
        3: run_action_id("retry", 3),
        4: run_action_id("retry", 4),
    }
    assert "stopping…" in texts(table)
    assert [link.href for link in walk(table) if isinstance(link, dcc.Link)] == [f"/runs/{i}" for i in range(1, 7)]


def test_sortable_headers_mark_the_current_order_and_a_click_reverses_it(experiment):
    from frontend.components.tables import next_sort, sort_id

    table = experiments_table([experiment], sort="-progress")
    headers = {b.id["key"]: b for b in walk(table) if isinstance(b, html.Button) and b.id.get("type") == "exp-sort"}
    assert list(headers) == ["name", "status", "runs", "progress", "created_at"]

    def arrow(button) -> str:
        return "".join(c.children for c in walk(button) if getattr(c, "className", None) == "sort-arrow")

    assert {k: arrow(b) for k, b in headers.items()} == {
        "name": "",
        "status": "",
        "runs": "",
        "progress": " ▼",
        "created_at": "",
    }
    by_name = {
        b.id["key"]: arrow(b)
        for b in walk(experiments_table([experiment], sort="name"))
        if isinstance(b, html.Button) and b.id.get("type") == "exp-sort"
    }
    assert by_name["name"] == " ▲" and by_name["created_at"] == ""
    assert arrow(experiments_table([experiment])) == " ▼"  # newest first by default
    assert headers["name"].id == sort_id("name")
    assert next_sort("-progress", "progress") == "progress" and next_sort("progress", "progress") == "-progress"
    assert (
        next_sort("-created_at", "name") == "name"
        and next_sort("name", "runs") == "-runs"
        and next_sort("name", "status") == "status"
    )


def test_tag_chips_are_drawn_per_row_and_highlight_the_active_filter(experiment):
    from frontend.components.tables import tag_id

    table = experiments_table([experiment | {"tags": ["2-d", "paper"]}, experiment | {"id": 2, "tags": ["paper"]}, experiment | {"id": 3, "tags": []}],
                              active_tags=["paper"])  # fmt: skip
    chips = [b for b in walk(table) if isinstance(b, html.Button) and b.id.get("type") == "exp-tag"]
    assert [c.id for c in chips] == [tag_id("2-d", 1), tag_id("paper", 1), tag_id("paper", 2)]
    assert [c.children for c in chips] == ["2-d", "paper", "paper"]
    assert ["tag-active" in c.className for c in chips] == [False, True, True]
    assert not [
        b for b in walk(experiments_table([experiment])) if isinstance(b, html.Button) and b.id.get("type") == "exp-tag"
    ]


def test_history_table_lists_each_transition_with_its_attempt_worker_and_reason():
    from frontend.components.tables import history_table

    events = [
        {"at": "2026-01-01T10:00:00Z", "event": "queued", "status": "queued", "attempt": None, "worker": None, "detail": None},
        {"at": "2026-01-01T10:00:02Z", "event": "claimed", "status": "running", "attempt": 1, "worker": "cpu-1@box", "detail": None},
        {"at": "2026-01-01T10:03:00Z", "event": "requeued", "status": "queued", "attempt": 1, "worker": "cpu-1@box", "detail": "worker cpu-1@box stopped sending heartbeats"},
        {"at": "2026-01-01T10:03:05Z", "event": "claimed", "status": "running", "attempt": 2, "worker": "cpu-2@box", "detail": "resumed from the checkpoint of epoch 40"},
        {"at": "2026-01-01T10:04:00Z", "event": "failed", "status": "failed", "attempt": 2, "worker": "cpu-2@box", "detail": "ValueError: boom"},
    ]  # fmt: skip
    table = history_table(events)
    rows = [texts(tr) for tr in walk(table) if isinstance(tr, html.Tr)][1:]
    assert rows[0] == ["2026-01-01 10:00:00", "submitted", "queued", "", "", ""]
    assert rows[2] == [
        "2026-01-01 10:03:00",
        "requeued: worker lost",
        "queued",
        "1",
        "cpu-1@box",
        "worker cpu-1@box stopped sending heartbeats",
    ]
    assert rows[3][1:] == ["taken by a worker", "running", "2", "cpu-2@box", "resumed from the checkpoint of epoch 40"]
    assert [b.color for b in walk(table) if isinstance(b, dbc.Badge)] == [
        "secondary",
        "primary",
        "secondary",
        "primary",
        "danger",
    ]
    assert "No status changes recorded." in texts(history_table([]))

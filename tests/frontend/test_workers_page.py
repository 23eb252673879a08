"""The workers page's pure builders from hand-made API JSON: state, links to runs, empty state."""

from datetime import UTC, datetime

from frontend.pages.workers import ago, empty_state, state, workers_table

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def worker(name: str, **kw) -> dict:
    return {
        "name": name,
        "host": "box",
        "pid": 7,
        "queues": ["cpu"],
        "gpu": None,
        "alive": True,
        "busy": False,
        "current_runs": [],
        "draining": False,
        "started_at": "2026-01-01T11:00:00Z",
        "heartbeat_at": "2026-01-01T11:59:55Z",
        "stopped_at": None,
    } | kw


def text(component) -> str:
    """Every string in a Dash component tree."""
    if isinstance(component, str):
        return component
    children = getattr(component, "children", None)
    if children is None:
        return ""
    return " ".join(text(c) for c in (children if isinstance(children, list) else [children]))


def test_state_reads_alive_busy_draining_and_how_it_stopped():
    assert state(worker("a")) == "idle"
    assert state(worker("a", busy=True, current_runs=[3])) == "training"
    assert state(worker("a", busy=True, draining=True)) == "draining"
    assert state(worker("a", alive=False)) == "dead"  # silent: no goodbye
    assert state(worker("a", alive=False, stopped_at="2026-01-01T11:59:00Z")) == "stopped"


def test_table_links_each_running_run_to_its_experiment_and_shows_the_gpu():
    table = workers_table(
        [worker("gpu0@box", busy=True, current_runs=[12], gpu="0", queues=["gpu"]), worker("cpu@box")], {12: 4}, NOW
    )
    body = table.children[1].children
    assert len(body) == 2
    link = body[0].children[2].children[0]
    assert link.href == "/experiments/4" and link.children == "run 12"
    assert "training" in text(body[0]) and "gpu" in text(body[0]) and "5 s ago" in text(body[0])
    assert "idle" in text(body[1]) and "—" in text(body[1])


def test_ago_reads_like_a_person_would_say_it():
    assert ago("2026-01-01T11:59:30Z", NOW) == "30 s ago"
    assert ago("2026-01-01T11:30:00+00:00", NOW) == "30 min ago"
    assert ago("2026-01-01T09:00:00", NOW) == "3 h ago"  # no zone: UTC, as the API stores it


def test_empty_state_says_how_to_start_a_worker():
    assert "iwlab worker --queues gpu --gpus 0,1" in text(empty_state())


def test_only_a_live_worker_that_is_not_draining_offers_drain():
    table = workers_table(
        [
            worker("a@box"),
            worker("b@box", draining=True),
            worker("c@box", alive=False, stopped_at="2026-01-01T11:59:00Z"),
        ],
        {},
        NOW,
    )
    buttons = [row.children[-1].children for row in table.children[1].children]
    assert buttons[0].id == {"type": "worker-drain", "name": "a@box"} and buttons[1:] == [None, None]

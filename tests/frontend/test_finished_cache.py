"""The experiment page's cache of answers computed from finished runs (pure logic, no services)."""

from frontend.pages.experiment import FinishedCache


def run(run_id: int, status: str = "succeeded", finished_at: str | None = "2026-01-01T00:00:00Z") -> dict:
    return {"id": run_id, "status": status, "finished_at": finished_at}


def counting():
    calls = []
    return calls, lambda: calls.append(1) or len(calls)


def test_finished_runs_are_computed_once():
    cache, (calls, compute) = FinishedCache(), counting()
    runs = [run(1), run(2, "failed")]
    first = cache.get(FinishedCache.key(runs, 7, "test"), compute)
    assert cache.get(FinishedCache.key(runs, 7, "test"), compute) == first
    assert len(calls) == 1


def test_unfinished_runs_are_never_cached():
    assert FinishedCache.key([run(1), run(2, "running", None)], 7, "test") is None
    assert FinishedCache.key([], 7, "test") is None
    cache, (calls, compute) = FinishedCache(), counting()
    cache.get(None, compute), cache.get(None, compute)
    assert len(calls) == 2


def test_other_splits_and_retried_runs_are_computed_afresh():
    cache, (calls, compute) = FinishedCache(), counting()
    cache.get(FinishedCache.key([run(1)], 7, "test"), compute)
    cache.get(FinishedCache.key([run(1)], 7, "ood"), compute)
    cache.get(
        FinishedCache.key([run(1, finished_at="2026-01-02T00:00:00Z")], 7, "test"), compute
    )  # retried, finished again
    assert len(calls) == 3


def test_panels_are_keyed_by_their_run():
    panels = [{"run_id": 3, "status": "succeeded", "finished_at": "t"}]
    assert FinishedCache.key(panels, 10) != FinishedCache.key([{**panels[0], "run_id": 4}], 10)


def test_least_recently_used_entries_are_dropped():
    cache, (calls, compute) = FinishedCache(size=2), counting()
    for split in ("test", "ood", "noise", "test"):
        cache.get(FinishedCache.key([run(1)], 7, split), compute)
    assert len(calls) == 4  # "test" was evicted by "noise"

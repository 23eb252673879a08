"""A run's effective weight and its missing readouts reach the API from a real worker, on both
paths a worker trains by: a run alone (worker/tasks.py) and siblings in one program (worker/siblings.py)."""

from __future__ import annotations

from tests.services import wait_for
from worker.engine.data import make_data
from worker.engine.geometry import NOT_SEPARABLE
from worker.engine.losses import effective_pos_weight
from worker.engine.spec import RunSpec

from .test_siblings import all_finished, submit

BASE = {"model": "logreg", "epochs": 4, "frames": 2}


def test_the_worker_records_effective_weight_and_missing_readouts(make_lab, isolated_redis_url):
    lab = make_lab(isolated_redis_url)
    worker = lab.start_worker("worker")
    alone = submit(lab.client, {"name": "alone", "base": BASE | {"pos_weight": 10}, "sweep": {"seed": [0]}})
    noisy = submit(lab.client, {"name": "noisy", "base": BASE | {"label_noise": 0.1}, "sweep": {"pos_weight": [1, 10]}})
    states = wait_for(
        lambda: all_finished(lab.client, alone + noisy), timeout=180, what="both experiments to finish", interval=0.3
    )
    assert [s["status"] for s in states] == ["succeeded"] * 3
    assert "claimed 2 runs of one experiment to train together" in worker.log_path.read_text()

    # separable blobs, balanced 100 + 100, batch 8, loss_norm sum: docs/readouts.md's measured 7.82
    single = lab.client.get(f"/api/v1/runs/{alone[0]['id']}").json()
    assert round(single["effective_pos_weight"], 2) == 7.82
    assert single["missing_readouts"] == {}, "a line separates blobs: every readout is recorded"

    # flipped labels: no line separates the classes; the counts move with the flips
    n_neg, n_pos = (int(c) for c in make_data(RunSpec(**noisy[1]["params"])).counts)
    runs = [lab.client.get(f"/api/v1/runs/{r['id']}").json() for r in noisy]
    assert abs(runs[0]["effective_pos_weight"] - 1.0) < 1e-12, "w = 1 weighs both classes alike"
    assert abs(runs[1]["effective_pos_weight"] - effective_pos_weight(n_pos, n_neg, 8, 10.0, "sum")) < 1e-9
    for run in runs:
        assert run["missing_readouts"] == {"svm_cosine": NOT_SEPARABLE, "svm_angle": NOT_SEPARABLE}
        names = {row["metric"] for row in lab.client.get(f"/api/v1/runs/{run['id']}/metrics").json()}
        assert names and not names & set(run["missing_readouts"]), "a missing readout has no rows"

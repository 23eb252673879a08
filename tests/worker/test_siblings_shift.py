"""A lab-server sweep over per-example weights (covariate_shift, example_weights none / given)
trains as one batched program (issue 12, item 7), each run's stored rows equal to the per-run engine's."""

import math

import torch

from tests.services import wait_for
from worker.engine.spec import RunSpec
from worker.engine.train import train

from .test_siblings import TOL, all_finished, submit


def test_an_example_weights_sweep_trains_as_one_program(make_lab, isolated_redis_url):
    lab = make_lab(isolated_redis_url)
    worker = lab.start_worker("worker")
    base = {"dataset": "covariate_shift", "model": "logreg", "n_train": 100, "n_test": 60, "epochs": 10, "frames": 2}
    sweep = {"example_weights": ["none", "given"], "seed": [0, 1]}
    runs = submit(lab.client, {"name": "shift", "base": base, "sweep": sweep})
    states = wait_for(lambda: all_finished(lab.client, runs), timeout=120, what="the sweep to finish", interval=0.3)
    assert [s["status"] for s in states] == ["succeeded"] * 4
    assert "claimed 4 runs of one experiment to train together" in worker.log_path.read_text()

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for run in runs:
            reference = {
                (r.epoch, split, name): value
                for r in train(RunSpec(**run["params"]), device="cpu")
                for split, values in r.metrics.items()
                for name, value in values.items()
                if math.isfinite(value)
            }
            stored = {
                (row["epoch"], row["split"], row["metric"]): row["value"]
                for row in lab.client.get(f"/api/v1/runs/{run['id']}/metrics").json()
            }
            assert stored.keys() == reference.keys()
            assert (10, "target", "acc") in stored  # the target sample's readouts
            assert ((10, "train", "effective_sample_size") in stored) == (run["params"]["example_weights"] == "given")
            worst = max(abs(stored[k] - v) for k, v in reference.items())
            assert worst <= TOL, f"run {run['id']}: differs from the per-run engine by {worst}"
    finally:
        torch.set_num_threads(threads)

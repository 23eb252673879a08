"""A lab-server sweep over per-example weights (covariate_shift, example_weights none / given)
trains as one batched program (issue 12, item 7), each run's stored rows equal to the per-run engine's."""

from tests.services import wait_for

from .test_siblings import all_finished, assert_rows_equal_the_per_run_engine, submit


def test_an_example_weights_sweep_trains_as_one_program(make_lab, isolated_redis_url):
    lab = make_lab(isolated_redis_url)
    worker = lab.start_worker("worker")
    base = {"dataset": "covariate_shift", "model": "logreg", "n_train": 100, "n_test": 60, "epochs": 10, "frames": 2}
    sweep = {"example_weights": ["none", "given"], "seed": [0, 1]}
    runs = submit(lab.client, {"name": "shift", "base": base, "sweep": sweep})
    states = wait_for(lambda: all_finished(lab.client, runs), timeout=120, what="the sweep to finish", interval=0.3)
    assert [s["status"] for s in states] == ["succeeded"] * 4
    assert "claimed 4 runs of one experiment to train together" in worker.log_path.read_text()

    for run in runs:
        stored = assert_rows_equal_the_per_run_engine(lab.client, run)
        assert (10, "target", "acc") in stored  # the target sample's readouts
        assert ((10, "train", "effective_sample_size") in stored) == (run["params"]["example_weights"] == "given")

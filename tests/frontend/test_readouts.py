"""The run page's weight line and "Not recorded" list, from hand-made API JSON."""

from frontend.components import readouts
from frontend.pages import run

from .conftest import make_run
from .test_tables import texts

WHY = "the training data are not linearly separable, so there is no max-margin boundary to compare with"


def facts(r: dict) -> dict[str, str]:
    words = texts(run.environment(r))
    return {words[i]: words[i + 1] for i in range(len(words) - 1)}


def test_the_run_page_shows_nominal_and_effective_weight_and_each_missing_readout_with_its_reason():
    r = make_run(5, 0, 10.0, 1, batch_size=8, loss_norm="sum") | {
        "effective_pos_weight": 7.8171,
        "missing_readouts": {"svm_cosine": WHY, "svm_angle": WHY},
    }
    assert facts(r)["weight"] == "nominal 10, effective 7.817 (loss_norm sum, batch 8)"
    words = texts(run.environment(r))
    at = words.index("Not recorded")
    assert words[at + 1 : at + 5] == ["svm_angle", f": {WHY}", "svm_cosine", f": {WHY}"]


def test_weight_line_before_a_worker_measured_it_and_under_resampling_powers_and_drw():
    queued = make_run(1, 0, 4.0, 0, status="queued", batch_size=16, loss_norm="mean")
    assert (
        readouts.weight_text(queued)
        == "nominal 4, effective not known until a worker has built the training data (loss_norm mean, batch 16)"
    )
    assert "Not recorded" not in texts(run.environment(queued)) and "Every readout is recorded." not in texts(
        run.environment(queued)
    )
    done = queued | {"effective_pos_weight": 4.0, "missing_readouts": {}}
    assert "Every readout is recorded." in texts(run.environment(done)) and "Not recorded" not in texts(
        run.environment(done)
    )
    power = make_run(2, 0, 10.0, 0, weight_power=2.0, resample=True, batch_size=8) | {"effective_pos_weight": 100.0}
    assert readouts.weight_text(power) == "nominal 10 ** 2, effective 100 (resampled, batch mean, batch 8)"
    drw = make_run(3, 0, 1.0, 0, drw_epoch=160, drw_beta=0.9999, batch_size=128, loss_norm="sum") | {
        "effective_pos_weight": 9.6
    }
    assert (
        readouts.weight_text(drw)
        == "nominal 1, effective 9.6 (loss_norm sum, batch 128, from epoch 160, class-balanced weights (beta 0.9999))"
    )


def test_a_run_of_three_classes_has_no_effective_positive_weight_and_says_why():
    why = "defined for two classes (the weight of the positive class against the negative one)"
    r = make_run(4, 0, 1.0, 0, class_weights={"a": 1.0, "b": 2.0, "c": 4.0}) | {
        "effective_pos_weight": None,
        "missing_readouts": {"effective_pos_weight": why},
    }
    assert (
        readouts.weight_text(r)
        == "nominal a: 1 / b: 2 / c: 4, effective not defined (see Not recorded) (loss_norm sum, batch 8)"
    )
    scheme = r | {"params": r["params"] | {"class_weights": "inverse_frequency"}}
    assert readouts.weight_text(scheme).startswith("nominal inverse_frequency, effective not defined")
    words = texts(run.environment(r))
    assert words[words.index("Not recorded") + 1 :][:2] == ["effective_pos_weight", f": {why}"]

"""CIFAR-10 with all ten classes (issue 12): K logits, a long-tailed training set (Cao et al.'s
exponential profile), per-class readouts; the binary pair stays as it was."""

from __future__ import annotations

import pytest

from tests.worker.test_datasets import write_cifar_tree
from worker.engine.data import make_data
from worker.engine.spec import CIFAR10_CLASSES, RunSpec
from worker.engine.train import train


def ten(tmp_path, **kw) -> RunSpec:
    return RunSpec(
        **{
            "dataset": "cifar10",
            "classes": list(CIFAR10_CLASSES),
            "data_path": str(tmp_path),
            "ood": 0,
            "n_train": 40,
            "n_test": 2,
            **kw,
        }
    )


def test_ten_classes_are_read_and_relabelled_in_the_order_given(tmp_path):
    write_cifar_tree(tmp_path, per_class=40)
    data = make_data(ten(tmp_path))
    assert data.classes == CIFAR10_CLASSES and data.counts.tolist() == [40.0] * 10
    for c in range(10):  # every image of CIFAR class i is grey at 20 * i
        assert set(data.x_train[data.y_train == c, 0, 0, 0].tolist()) == {20 * c}
    assert "ood" not in data.evals


def test_the_long_tail_is_exponential_from_the_first_class_to_the_last(tmp_path):
    write_cifar_tree(tmp_path, per_class=40)
    counts = make_data(ten(tmp_path, imbalance=10)).counts.tolist()
    assert counts == [max(1, round(40 * 10 ** (-c / 9))) for c in range(10)]
    assert counts[0] / counts[-1] == 10


def test_ten_classes_train_with_class_weights_and_per_class_readouts(tmp_path):
    write_cifar_tree(tmp_path, per_class=12)
    run = ten(tmp_path, model="logreg", epochs=2, n_train=12, imbalance=4, class_weights="inverse_frequency")
    training = train(run, device="cpu")
    last = list(training)[-1].metrics["test"]
    assert training.grid is None  # the image strip records P(positive): two classes only
    assert {f"frac_pred_{c}" for c in CIFAR10_CLASSES} | {f"acc_{c}" for c in CIFAR10_CLASSES} | {
        "balanced_acc"
    } <= set(last)
    assert "frac_pred_pos" not in last and training.missing["effective_pos_weight"].startswith(
        "defined for two classes"
    )
    assert training.model[-1].out_features == 10


def test_many_classes_refuse_what_only_two_can_mean(tmp_path):
    with pytest.raises(ValueError, match="use class_weights"):
        ten(tmp_path, pos_weight=2.0)
    with pytest.raises(ValueError, match="label_noise"):
        ten(tmp_path, label_noise=0.1)
    assert RunSpec(dataset="cifar10").classes == ["cat", "dog"]  # the default pair is unchanged
    with pytest.raises(ValueError, match="two different class names"):
        RunSpec(dataset="digits", classes=["1", "2", "3"])

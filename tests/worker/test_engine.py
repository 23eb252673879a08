"""The engine on its own: determinism, and the effect Byrd & Lipton describe."""

import math

import pytest
import torch

from worker.engine.data import make_data
from worker.engine.spec import RunSpec, frame_epochs
from worker.engine.train import train


def history(spec: RunSpec) -> list[dict]:
    return [r.metrics for r in train(spec, device="cpu")]


def test_same_seed_gives_identical_metrics():
    spec = RunSpec(model="mlp", hidden=[16], epochs=5, pos_weight=4.0, seed=3)
    assert history(spec) == history(spec)


def test_another_seed_gives_other_metrics():
    spec = RunSpec(model="mlp", hidden=[16], epochs=5, pos_weight=4.0, seed=3)
    assert history(spec) != history(spec.model_copy(update={"seed": 4}))


def test_data_depend_on_data_seed_only():
    a, b = make_data(RunSpec(seed=0)), make_data(RunSpec(seed=7, pos_weight=10))
    assert torch.equal(a.x_train, b.x_train)
    assert not torch.equal(a.x_train, make_data(RunSpec(data_seed=1)).x_train)


@pytest.mark.parametrize("dataset", ["blobs", "wang_gaussians", "moons"])
def test_datasets_have_both_classes_and_a_balanced_test_split(dataset):
    data = make_data(RunSpec(dataset=dataset, n_train=100, n_test=50))
    assert 0 < data.y_train.float().mean() < 1
    assert data.y_test.sum() == 50 and len(data.y_test) == 100
    if dataset == "wang_gaussians":
        assert int(data.y_train.sum()) == 10  # minority is a tenth of the majority
        # the true boundary is x2 = x1: positives above it, negatives below
        assert torch.all((data.x_train[:, 1] > data.x_train[:, 0]) == (data.y_train == 1))


def test_boundary_frames_at_log_spaced_epochs():
    frames = [r.epoch for r in train(RunSpec(epochs=100, frames=8), device="cpu") if r.boundary is not None]
    assert frames == frame_epochs(100, 8)
    assert frames[:3] == [0, 1, 2] and frames[-1] == 100
    gaps = [b - a for a, b in zip(frames, frames[1:])]
    assert gaps[-1] > gaps[1]  # denser early, where the boundary moves


def test_frame_epochs_cover_short_runs():
    assert frame_epochs(1, 24) == [0, 1]
    assert frame_epochs(3, 24) == [0, 1, 2, 3]


def test_weighted_positive_class_moves_the_boundary_towards_negatives():
    """Up-weighting the positive class makes more test points positive early in training."""
    fracs = {w: history(RunSpec(epochs=1, pos_weight=w))[1]["test"]["frac_pred_pos"] for w in (0.1, 10.0)}
    assert fracs[10.0] > 0.5 > fracs[0.1]


def test_weighting_effect_fades_once_the_data_are_fit():
    """docs/science.md's headline on separable 2-D data, no regularisation: weights {1/10, 1, 10} spread the
    test fraction predicted positive by >= 0.3 at epoch 1 and by <= 0.05 at the end."""
    runs = {
        w: history(RunSpec(model="logreg", lr=0.03, batch_size=8, epochs=150, pos_weight=w)) for w in (0.1, 1.0, 10.0)
    }

    def spread(epoch):
        fracs = [h[epoch]["test"]["frac_pred_pos"] for h in runs.values()]
        return max(fracs) - min(fracs)

    assert spread(1) >= 0.3
    assert all(h[-1]["train"]["acc"] >= 0.99 for h in runs.values()), "read the final spread only once every model fits"
    assert spread(150) <= 0.05


def test_l2_keeps_part_of_the_effect():
    """With weight decay 0.1 the weights keep moving the boundary (spread stays well above 0.05)."""
    final = {
        w: history(RunSpec(model="logreg", epochs=150, weight_decay=0.1, pos_weight=w, frames=2))[-1]
        for w in (0.1, 10.0)
    }
    assert final[10.0]["test"]["frac_pred_pos"] - final[0.1]["test"]["frac_pred_pos"] > 0.1
    assert all(m["train"]["acc"] >= 0.75 for m in final.values())


def test_loss_norm_mean_scales_the_step_with_the_weights():
    """Dividing by the batch size lets a big weight take bigger steps; by the weight sum it does not."""
    norms = {
        n: history(RunSpec(model="logreg", epochs=1, pos_weight=10.0, loss_norm=n))[1]["train"]["param_norm"]
        for n in ("sum", "mean")
    }
    assert norms["mean"] > 2 * norms["sum"]
    assert all(math.isfinite(v) for v in norms.values())


def test_resuming_from_a_checkpoint_equals_an_uninterrupted_run(tmp_path):
    spec = RunSpec(model="mlp", hidden=[16], epochs=8, pos_weight=4.0, seed=5, frames=4)
    full = history(spec)
    first = train(spec, device="cpu")
    head = []
    for result in first:
        head.append(result.metrics)
        if result.epoch == 3:
            break
    torch.save(first.checkpoint(), tmp_path / "ckpt.pt")
    torch.manual_seed(999)  # whatever happened in between must not matter
    tail = [r.metrics for r in train(spec, device="cpu", resume=torch.load(tmp_path / "ckpt.pt"))]
    assert head + tail == full


def test_eval_points_evaluates_log_spaced_epochs_and_the_last():
    epochs = [r.epoch for r in train(RunSpec(epochs=50, eval_points=6, frames=2), device="cpu")]
    assert epochs == frame_epochs(50, 6)
    assert epochs[0] == 0 and epochs[-1] == 50 and len(epochs) < 10

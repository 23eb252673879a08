"""Image runs record P(positive) on a fixed strip of test images at the frame epochs."""

from __future__ import annotations

import numpy as np

from worker.engine.probe import SIZE
from worker.engine.spec import RunSpec, frame_epochs
from worker.engine.train import train


def frames(**params) -> tuple:
    training = train(RunSpec(dataset="digits", model="mlp", epochs=12, frames=5, **params), device="cpu")
    recorded = {r.epoch: r.boundary for r in training if r.boundary is not None}
    return training, recorded


def test_the_strip_is_the_same_test_images_for_every_weight_and_its_frames_are_probabilities():
    light, light_frames = frames(pos_weight=1.0)
    heavy, heavy_frames = frames(pos_weight=64.0, seed=3)
    assert light.grid.xs == heavy.grid.xs and light.grid.points == heavy.grid.points
    labels = [p[0] for p in light.grid.points]
    assert labels.count(0) == labels.count(1) == SIZE // 2
    test_x, test_y = light.data.x_test, light.data.y_test
    for index, (label, *pixels) in zip(light.grid.xs, light.grid.points):
        assert label == int(test_y[int(index)])
        assert np.allclose(np.array(pixels) / 255, test_x[int(index)].numpy(), atol=0.5 / 255)
    assert sorted(light_frames) == frame_epochs(12, 5)
    for z in light_frames.values():
        assert z.shape == (1, SIZE) and np.all((z >= 0) & (z <= 1))
    # the weight moves the strip's P(positive) up: after training, higher on (almost) every image
    assert np.mean(heavy_frames[12] > light_frames[12]) > 0.75


def test_image_runs_record_no_2d_geometry():
    training = train(RunSpec(dataset="digits", model="mlp", epochs=1), device="cpu")
    assert all("geometry" not in r.metrics for r in training)

"""The engine's configuration is its caller's: device, threads and the data folder are parameters,
and the environment variables that configure the worker and the CLI (read by backend.settings)
change nothing when the engine is called directly."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from backend.settings import Settings
from tests.worker.test_datasets import write_cifar_tree
from worker.engine.data import make_data
from worker.engine.images import DatasetError
from worker.engine.spec import RunSpec
from worker.engine.train import train

CIFAR = {"dataset": "cifar10", "model": "convnet", "n_train": 3, "n_test": 3}


def test_the_data_folder_is_the_callers_not_the_environment(tmp_path, monkeypatch):
    folder = write_cifar_tree(tmp_path / "datasets")
    monkeypatch.setenv("IWLAB_DATASETS", str(folder))
    monkeypatch.setenv("IWLAB_HOME", str(tmp_path))
    with pytest.raises(DatasetError, match="no data folder given"):
        make_data(RunSpec(**CIFAR))
    data = make_data(RunSpec(**CIFAR), folder)
    assert data.classes == ("cat", "dog") and len(data.y_train) == 6
    assert any((folder / "cache").iterdir())  # decoded once into the given folder's cache


def test_threads_are_the_callers_not_the_environment(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setenv("IWLAB_THREADS", "3")
    try:
        train(RunSpec(n_train=20, epochs=1), device="cpu", threads=2)
        assert torch.get_num_threads() == 2
        train(RunSpec(n_train=20, epochs=1), device="cpu")
        assert torch.get_num_threads() == 1  # the default: one thread per process
    finally:
        torch.set_num_threads(before)


def test_the_worker_and_cli_read_threads_from_their_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("IWLAB_THREADS", "4")
    assert Settings(home=tmp_path).threads == 4
    monkeypatch.setenv("IWLAB_THREADS", "-1")
    with pytest.raises(ValidationError, match="threads"):
        Settings(home=tmp_path)

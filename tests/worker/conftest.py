"""Data for engine tests: a session cache for decoded images, and the real CIFAR-10 JPEGs."""

import os
from pathlib import Path

import pytest

from tests.services import in_ci

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def datasets_cache(tmp_path_factory) -> Path:
    """Decoded images are cached under IWLAB_DATASETS; keep the tests' cache out of the user's."""
    folder = tmp_path_factory.mktemp("datasets")
    old = os.environ.get("IWLAB_DATASETS")
    os.environ["IWLAB_DATASETS"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("IWLAB_DATASETS", None)
    else:
        os.environ["IWLAB_DATASETS"] = old


@pytest.fixture(scope="session")
def cifar_jpeg() -> Path:
    """The real CIFAR-10 images as JPEGs (../shared/data/cifar10-jpeg.tar.gz, or IWLAB_TEST_CIFAR)."""
    path = Path(os.environ.get("IWLAB_TEST_CIFAR") or ROOT.parent / "shared/data/cifar10-jpeg.tar.gz")
    if not path.is_file():
        message = f"no CIFAR-10 JPEG archive at {path}: set IWLAB_TEST_CIFAR to a cifar10-jpeg.tar.gz"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path

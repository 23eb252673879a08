"""Worker-side fixtures: a session cache for decoded images and the real CIFAR-10 JPEGs (engine
tests), and a lab server assembled from real parts (lifecycle tests): the API in-process with its
maintenance loop, Postgres, a Redis broker, and Celery worker processes started and killed by the test."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import Settings
from tests.services import in_ci, spawn, stop, tail

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def datasets_cache(tmp_path_factory) -> Iterator[Path]:
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


# fast lifecycle clocks, so a dead worker is noticed in seconds instead of minutes
LIFECYCLE = {"flush_seconds": 0.2, "checkpoint_seconds": 0.0, "dead_after_seconds": 3.0, "maintenance_seconds": 0.5}


@dataclass
class Lab:
    client: TestClient
    settings: Settings
    env: dict[str, str]
    home: Path
    workers: list = field(default_factory=list)

    def start_worker(self, name: str, *args: str, **env: str):
        """`iwlab worker ARGS` with extra IWLAB_* / other environment variables."""
        log = self.home / f"{name}.log"
        proc = spawn([sys.executable, "-m", "backend.cli", "worker", *args], env=self.env | env, log=log)
        proc.log_path = log  # type: ignore[attr-defined]  # the log travels with the process, for the tests that read it
        self.workers.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(f"--- {w.log_path.name}\n{tail(w.log_path)}" for w in self.workers)


@pytest.fixture
def make_lab(postgres_url: str, tmp_path: Path) -> Iterator:
    """`make_lab(broker_url, database_url=None, **lifecycle_settings) -> Lab` (default: a fresh
    database on the session's Postgres); its workers are stopped at teardown."""
    labs: list[Lab] = []
    contexts = []

    def _make(broker_url: str, database_url: str | None = None, **lifecycle: float) -> Lab:
        db_url = database_url or postgres_url
        env = (
            os.environ
            | {
                "IWLAB_HOME": str(tmp_path),
                "IWLAB_DATABASE_URL": db_url,
                "IWLAB_BROKER_URL": broker_url,
                "IWLAB_DEVICE": "cpu",
                "OMP_NUM_THREADS": "1",  # 2-D models: one thread is several times faster on a shared CPU
            }
            | {f"IWLAB_{k.upper()}": str(v) for k, v in (LIFECYCLE | lifecycle).items()}
        )
        settings = Settings(home=tmp_path, database_url=db_url, broker_url=broker_url, **(LIFECYCLE | lifecycle))  # type: ignore[arg-type]  # pydantic checks the lifecycle values
        ctx = TestClient(create_app(settings))  # migrates the database before any worker starts
        contexts.append(ctx)
        lab = Lab(ctx.__enter__(), settings, env, tmp_path)
        labs.append(lab)
        return lab

    try:
        yield _make
    finally:
        for lab in labs:
            for proc in lab.workers:
                stop(proc)
            print(lab.logs())  # pytest shows it only when the test failed
        for ctx in contexts:
            ctx.__exit__(None, None, None)


@pytest.fixture
def isolated_redis_url(redis_url: str) -> str:
    """The session's Redis, on a database of its own, so no message of another test reaches this one."""
    return redis_url.rsplit("/", 1)[0] + f"/{random.randint(1, 15)}"

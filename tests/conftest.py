"""Shared fixtures: real Redis, real Postgres, real Chromium, isolated state dirs.

Helpers (free_port, wait_for, wait_for_http, spawn, stop) live in ``tests/services.py``;
import them as ``from tests.services import wait_for_http``.

Environment knobs:
  IWLAB_TEST_REDIS_URL     use a running Redis instead of starting one
  IWLAB_TEST_DATABASE_URL  use a running Postgres (base URL, e.g.
                           postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
  IWLAB_TEST_CHROMIUM      Chromium binary (default /usr/bin/chromium)
  IWLAB_SCREENSHOTS        where the browser tests save screenshots (default test-artifacts/screenshots)
  CI=true                  a missing service fails the test instead of skipping it
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so `tests.services` imports however pytest is started
    sys.path.insert(0, str(ROOT))

from tests import services  # noqa: E402
from tests.services import (  # noqa: E402
    APT_HINT,
    CHROMIUM_ARGS,
    PostgresServer,
    RedisServer,
    ThrowawayPostgres,
    find_chromium,
    find_pg_bin,
    missing,
)

# Left out of `make test-fast`: modules and tests that take 5-40 s each (real Celery workers,
# killed process trees, generated requests, a report's training). Measured with --durations=60
# on 2 shared cores: these took ~280 s of the 460 s that the rest of the suite took without them.
LONG = {
    "tests/backend/test_cli.py::test_missing_cifar_exits_2_saying_what_to_download",
    "tests/backend/test_cli.py::test_report_on_a_spec_that_is_not_a_preset",
    "tests/backend/test_cli.py::test_report_writes_figures_and_a_summary",
    "tests/backend/test_cli.py::test_up_serves_the_embedded_stack_and_submit_waits_for_it",
    "tests/backend/test_fuzz.py",
    "tests/backend/test_hardening_dashboard.py",
    "tests/backend/test_hardening_durability.py::test_a_database_outage_longer_than_the_timeout_does_not_make_live_workers_dead",
    "tests/backend/test_hardening_fuzz.py",
    "tests/worker/test_celery_pipeline.py",
    "tests/worker/test_database_restart.py",
    "tests/worker/test_dataset_store.py::test_an_uploaded_image_archive_trains_on_a_worker_that_did_not_have_it",
    "tests/worker/test_siblings.py",
    "tests/worker/test_outbox.py",
    "tests/worker/test_parallel.py::test_training_processes_stop_when_their_caller_is_killed",
    "tests/worker/test_resume_and_cancel.py",
    "tests/worker/test_workers.py",
}


def pytest_configure(config: pytest.Config) -> None:
    # A SIGTERM (CI timeout, `kill`) becomes KeyboardInterrupt, so fixture teardown still
    # stops the servers this session started instead of leaving them orphaned.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        main_pid = os.getpid()

        def _interrupt(signum, frame):
            if os.getpid() != main_pid:  # a forked child: die as it would have
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)
                return
            raise KeyboardInterrupt(f"signal {signum}")

        signal.signal(signal.SIGTERM, _interrupt)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks by place, so that `make test-fast` can leave out what takes long: every browser test,
    and the tests in LONG."""
    for item in items:
        parts = item.path.relative_to(ROOT).parts
        module = "/".join(parts)
        if parts[:2] == ("tests", "e2e"):
            item.add_marker(pytest.mark.browser)
        if module in LONG or f"{module}::{item.nodeid.split('::')[-1].split('[')[0]}" in LONG:
            item.add_marker(pytest.mark.long)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"iwlab services: CI={'true' if services.in_ci() else 'false'}"
        f" redis-server={shutil.which('redis-server') or 'missing'}"
        f" postgres={find_pg_bin() or 'missing'}"
        f" chromium={find_chromium() or 'missing'}"
    ]


# --------------------------------------------------------------------------- redis


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` of a throwaway redis-server (or $IWLAB_TEST_REDIS_URL)."""
    env = os.environ.get("IWLAB_TEST_REDIS_URL")
    if env:
        yield env
        return
    binary = shutil.which("redis-server")
    if not binary:
        missing("redis-server", APT_HINT["redis"])
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    try:
        yield server.url
    finally:
        server.stop()


# --------------------------------------------------------------------------- postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A Postgres server: ``.url(dbname)`` and ``.create_database() -> url``."""
    env = os.environ.get("IWLAB_TEST_DATABASE_URL")
    if env:
        server = PostgresServer(env)
    else:
        pg_bin = find_pg_bin()
        if pg_bin is None:
            missing("PostgreSQL server binaries (initdb, pg_ctl)", APT_HINT["postgres"])
        server = ThrowawayPostgres(pg_bin)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL of a fresh, empty Postgres database for this test."""
    return postgres_server.create_database()


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        missing(f"Chromium ({os.environ.get('IWLAB_TEST_CHROMIUM') or '/usr/bin/chromium'})", APT_HINT["chromium"])
    return path


@pytest.fixture(scope="session")
def chromium_args() -> list[str]:
    """Flags for headless Chromium on this closed network (a fresh copy per session)."""
    return list(CHROMIUM_ARGS)


# --------------------------------------------------------------------------- state, processes


@pytest.fixture
def iwlab_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated IWLAB_HOME for this test (also exported to the environment)."""
    home = tmp_path / "iwlab-home"
    home.mkdir()
    monkeypatch.setenv("IWLAB_HOME", str(home))
    return home


@pytest.fixture
def spawn() -> Iterator:
    """``spawn(cmd, log=..., env=..., cwd=...) -> Popen``; every process is killed at teardown."""
    started = []

    def _spawn(cmd, **kwargs):
        proc = services.spawn(cmd, **kwargs)
        started.append(proc)
        return proc

    try:
        yield _spawn
    finally:
        for proc in reversed(started):
            services.stop(proc)

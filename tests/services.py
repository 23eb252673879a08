"""Throwaway services for the test suite: ports, waiting, Redis, Postgres, Chromium.

Tests never share state with a developer's own servers: each session starts its own
Redis and Postgres on free ports in temporary directories, unless the environment points
at running ones (``IWLAB_TEST_REDIS_URL``, ``IWLAB_TEST_DATABASE_URL``). Every process
started here runs in its own session (process group) and is killed at teardown, even
when a test failed; an ``atexit`` hook is the last safety net.

With ``CI=true`` a missing service is a failure, not a skip: CI must not go green by
skipping the tests that matter.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

# Flags for headless Chromium on a closed network: no GPU, no sandbox (root in CI),
# and none of the background traffic (QUIC, updates, sync) that would hang on timeouts.
CHROMIUM_ARGS: list[str] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

APT_HINT = {
    "redis": "redis-server",
    "postgres": "postgresql",
    "chromium": "chromium",
}


# --------------------------------------------------------------------------- basics


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def missing(what: str, package: str) -> NoReturn:
    """Fail under CI, skip locally, saying what to install."""
    msg = (
        f"{what} is not available; install it with `apt-get install -y {package}` "
        f"(or run `make test`, which installs it as root)"
    )
    if in_ci():
        pytest.fail(f"CI=true: {msg}", pytrace=False)
    pytest.skip(msg)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(
    predicate: Callable[[], Any],
    timeout: float = 30.0,
    what: str = "condition",
    interval: float = 0.1,
) -> Any:
    """Poll ``predicate`` until it returns something truthy; return that value.

    Exceptions raised by the predicate count as "not yet". On timeout raise
    ``TimeoutError`` naming ``what`` and the last exception seen.
    """
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)


def wait_for_http(url: str, timeout: float = 30.0, status: int | None = 200) -> httpx.Response:
    """Wait until GET ``url`` answers (with ``status``, or any status < 500 if None)."""

    def ok() -> httpx.Response | None:
        r = httpx.get(url, timeout=2.0)
        good = r.status_code == status if status is not None else r.status_code < 500
        return r if good else None

    return wait_for(ok, timeout=timeout, what=f"HTTP {status or '<500'} from {url}")


# --------------------------------------------------------------------------- processes

_LIVE: set[subprocess.Popen] = set()


def spawn(
    cmd: Sequence[str],
    *,
    log: str | os.PathLike | None = None,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
) -> subprocess.Popen:
    """Start ``cmd`` in its own process group, output to ``log`` (or discarded).

    Use :func:`stop` (or the ``spawn`` fixture, which stops for you) to end it with all
    of its children.
    """
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed in stop()
    proc = subprocess.Popen(
        list(cmd),
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    proc._iwlab_log = out  # type: ignore[attr-defined]
    _LIVE.add(proc)
    return proc


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(proc: subprocess.Popen, timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
    """Signal the process group, wait, then SIGKILL what is left. Idempotent."""
    if proc.poll() is None:
        _signal_group(proc, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    # Children (e.g. uvicorn workers, postgres backends) may outlive the leader.
    _signal_group(proc, signal.SIGKILL)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    log = getattr(proc, "_iwlab_log", None)
    if log not in (None, subprocess.DEVNULL):
        log.close()
    _LIVE.discard(proc)


@atexit.register
def _stop_all() -> None:
    for proc in list(_LIVE):
        stop(proc, timeout=3)


def tail(path: str | os.PathLike, n: int = 40) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------- redis


def redis_ping(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=1.0) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


class RedisServer:
    """A redis-server on a free port, nothing persisted."""

    def __init__(self, binary: str, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.log = workdir / "redis.log"
        self.proc = spawn(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(workdir),
            ],
            log=self.log,
            cwd=workdir,
        )
        try:
            wait_for(self._ready, timeout=20, what=f"redis-server on port {self.port}")
        except Exception:
            self.stop()
            raise

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited:\n{tail(self.log)}")
        return redis_ping("127.0.0.1", self.port)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        stop(self.proc)


# --------------------------------------------------------------------------- postgres


def find_pg_bin() -> Path | None:
    """Directory holding initdb/pg_ctl/postgres: $IWLAB_TEST_PG_BIN, newest Debian one, or PATH."""
    env = os.environ.get("IWLAB_TEST_PG_BIN")
    if env and (Path(env) / "initdb").exists():
        return Path(env)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _sqlalchemy_to_libpq(url: str) -> str:
    """postgresql+psycopg://... -> postgresql://... for psycopg.connect."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresServer:
    """A Postgres server the tests may create databases on.

    ``url(dbname)`` gives a SQLAlchemy URL for a database on it; ``create_database()``
    creates a fresh, uniquely named database and returns its URL.
    """

    driver = "postgresql+psycopg"

    def __init__(self, base_url: str):
        from sqlalchemy.engine import make_url

        self.base = make_url(base_url)
        if self.base.drivername in ("postgresql", "postgres"):
            self.base = self.base.set(drivername=self.driver)
        self._created: list[str] = []

    # -- URLs
    def url(self, dbname: str = "postgres") -> str:
        return self.base.set(database=dbname).render_as_string(hide_password=False)

    @property
    def port(self) -> int:
        return self.base.port or 5432

    def _admin(self):
        import psycopg

        return psycopg.connect(_sqlalchemy_to_libpq(self.url("postgres")), autocommit=True, connect_timeout=5)

    def create_database(self, prefix: str = "iwlab_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return self.url(name)

    def drop_created(self) -> None:
        """Drop the databases this session created (only matters on a shared server)."""
        if not self._created:
            return
        try:
            with self._admin() as conn:
                for name in self._created:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:  # noqa: BLE001 - best effort on teardown
            pass
        self._created.clear()

    def stop(self) -> None:
        self.drop_created()


class ThrowawayPostgres(PostgresServer):
    """initdb + postgres on a free port in a temp dir; trust auth, 127.0.0.1 only, no fsync.

    Postgres refuses to run as root, so as root every binary runs via
    ``runuser -u postgres --`` on a directory owned by postgres (outside /tmp/pytest-of-root,
    which is mode 0700).
    """

    def __init__(self, pg_bin: Path):
        self.pg_bin = pg_bin
        self.root = Path(tempfile.mkdtemp(prefix="iwlab-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "run"
        self.log = self.root / "postgres.log"
        self.sock.mkdir()
        self.log.touch()
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root, ignore_errors=True)
                raise RuntimeError(
                    "running as root but there is no 'postgres' user (apt-get install postgresql)"
                ) from None
            for p in (self.root, self.sock, self.log):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            os.chmod(self.root, 0o755)
            self._as = ["runuser", "-u", "postgres", "--"]
        port = free_port()
        super().__init__(f"{self.driver}://postgres@127.0.0.1:{port}/postgres")
        self.proc: subprocess.Popen | None = None
        try:
            self._start()
        except Exception:
            self.stop()
            raise

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=timeout, cwd=self.root)

    def _start(self) -> None:
        r = self._run(
            str(self.pg_bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        self._launch()

    def _launch(self) -> None:
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.sock),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        }
        cmd = [*self._as, str(self.pg_bin / "postgres"), "-D", str(self.data)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        self.proc = spawn(cmd, log=self.log, cwd=self.root)
        wait_for(self._ready, timeout=60, what=f"postgres on port {self.port}")

    def halt(self) -> None:
        """Stop the server, keeping its data: every client loses its connection (`-m fast`, as a
        restart for an upgrade does; `immediate` would also drop commits that `synchronous_commit=off`
        has not written yet, which no application can survive)."""
        self._run(str(self.pg_bin / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w", timeout=30)
        assert self.proc is not None
        self.proc.wait(timeout=30)
        stop(self.proc)

    def restart(self) -> None:
        """Start it again on the same port and data after `halt()` (it recovers from its WAL)."""
        self._launch()

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"postgres exited:\n{tail(self.log)}")
        with self._admin() as conn:
            return conn.execute("select 1").fetchone() == (1,)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self._run(
                    str(self.pg_bin / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate", "-w", timeout=30
                )
            except Exception:  # noqa: BLE001 - fall through to killing the group
                pass
        if self.proc is not None:
            stop(self.proc, sig=signal.SIGQUIT)  # SIGQUIT = immediate shutdown
        shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------- chromium


def find_chromium() -> str | None:
    env = os.environ.get("IWLAB_TEST_CHROMIUM")
    if env:
        return env if os.access(env, os.X_OK) else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None

"""Verbs that start services: `api`, `dashboard` (and its WSGI entry), `worker` (and drain / ls), `up`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from ..settings import Settings, get_settings
from .common import Host, api_call, app, console, fail, worker_app


@app.command()
def api(
    host: Host = None,
    port: Annotated[int | None, typer.Option(help="default IWLAB_API_PORT")] = None,
    workers: Annotated[int, typer.Option(min=1, help="API processes; on a lab server about one per core")] = 1,
) -> None:
    """Serve the REST API."""
    import uvicorn

    from ..app import create_app
    from ..logs import configure
    from ..migrate import upgrade

    settings = get_settings()
    if host:  # the bound address decides whether IWLAB_AUTH=auto requires tokens
        settings = settings.model_copy(update={"host": host})
    if not settings.auth_required and settings.host not in ("127.0.0.1", "localhost", "::1"):
        console.print(
            f"[yellow]warning:[/yellow] IWLAB_AUTH=off on {settings.host}: anyone who reaches it acts as an admin"
        )
    configure(settings)  # one format for uvicorn's own lines and ours; requests are logged by AccessLog
    served: dict[str, Any] = dict(host=settings.host, port=port or settings.api_port, log_config=None, access_log=False)
    if workers == 1:
        uvicorn.run(create_app(settings), **served)
        return
    upgrade(settings.db_url)  # once, here, rather than by every process at once
    os.environ["IWLAB_HOST"] = settings.host  # each process builds its settings from the environment
    uvicorn.run("backend.app:serve", factory=True, workers=workers, **served)


@app.command()
def dashboard(
    host: Host = None,
    port: Annotated[int | None, typer.Option(help="default IWLAB_DASHBOARD_PORT")] = None,
    api_url: Annotated[str | None, typer.Option(help="default IWLAB_API_URL")] = None,
) -> None:
    """Serve the Dash dashboard (a client of the API) with Flask's own server; a lab server runs it
    under gunicorn instead (`dashboard_wsgi`, docker-compose.yml)."""
    settings = get_settings()
    if host:  # as for the API: the bound address decides whether IWLAB_AUTH=auto asks for a login
        settings = settings.model_copy(update={"host": host})
    make_dashboard(settings, api_url).run(host=settings.host, port=port or settings.dashboard_port, debug=False)


def make_dashboard(settings: Settings, api_url: str | None = None):
    from frontend.app import create_app

    login = settings.auth_required and not settings.token  # a fixed token: everyone acts as that account
    sessions_url = (
        settings.broker if settings.broker.startswith("redis") else None
    )  # a lab server: sessions in its Redis
    return create_app(
        api_url or settings.api_url,
        poll_seconds=settings.poll_seconds,
        token=settings.token,
        login=login,
        secret=settings.dashboard_secret,
        sessions_url=sessions_url,
    )


def dashboard_wsgi():
    """The dashboard's WSGI app, configured from IWLAB_* alone, for a production server:
    `gunicorn 'backend.cli:dashboard_wsgi()'` (set IWLAB_HOST to the address it binds)."""
    return make_dashboard(get_settings()).server


@worker_app.callback(invoke_without_command=True)
def worker(
    ctx: typer.Context,
    queues: Annotated[str, typer.Option(help="queues to take runs from: cpu, gpu, or both (cpu,gpu)")] = "cpu",
    gpus: Annotated[
        str | None, typer.Option(help="one worker process per GPU, e.g. 0,1 (each pinned with CUDA_VISIBLE_DEVICES)")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="runs trained at once per process")] = 1,
    loglevel: Annotated[str | None, typer.Option(help="default IWLAB_LOG_LEVEL")] = None,
) -> None:
    """Start a Celery worker that trains queued runs."""
    if ctx.invoked_subcommand:
        return
    from worker.launch import gpu_children, node_name, parse_gpus, parse_queues, supervise

    try:
        queue_list = parse_queues(queues)
        gpu_list = parse_gpus(gpus) if gpus is not None else None
    except ValueError as err:
        raise fail(str(err)) from None
    if gpu_list:
        raise typer.Exit(supervise(gpu_children(gpu_list, queue_list, concurrency, loglevel)))

    from celery.signals import setup_logging

    from worker.celery_app import app as celery_app
    from worker.presence import Presence

    from ..logs import configure

    settings = get_settings()
    setup_logging.connect(lambda **_kw: configure(settings), weak=False)  # our format instead of Celery's
    Presence(queue_list).install()
    pool = "solo" if concurrency == 1 else "prefork"
    celery_app.worker_main(
        [
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel or settings.log_level}",
            f"--queues={','.join(queue_list)}",
            f"--hostname={node_name(queue_list, os.environ.get('CUDA_VISIBLE_DEVICES'))}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


@worker_app.command("drain")
def worker_drain(
    name: Annotated[
        str, typer.Argument(help="the worker's name, as `iwlab worker ls` or GET /api/v1/workers shows it")
    ],
    server: Annotated[str | None, typer.Option(help="API base URL (default IWLAB_API_URL)")] = None,
) -> None:
    """Let a worker finish its current run, take no more, and stop (admins only)."""
    worker = api_call("POST", f"/workers/{name}/drain", server)
    console.print(
        f"worker {worker['name']} drains: "
        + (f"finishing run {worker['current_runs']}" if worker["busy"] else "idle, stopping")
    )


@worker_app.command("ls")
def worker_ls(server: Annotated[str | None, typer.Option(help="API base URL (default IWLAB_API_URL)")] = None) -> None:
    """List the workers: alive, busy, what they train, their queues and GPU."""
    page = api_call("GET", "/workers", server, params={"limit": 500})
    table = Table("name", "alive", "busy", "runs", "queues", "gpu", "last heartbeat")
    for w in page["items"]:
        state = "draining" if w["draining"] and w["alive"] else ("yes" if w["alive"] else "no")
        table.add_row(
            w["name"],
            state,
            "yes" if w["busy"] else "",
            ",".join(map(str, w["current_runs"])),
            ",".join(w["queues"]),
            w["gpu"] or "",
            w["heartbeat_at"],
        )
    Console().print(table)


@app.command()
def up(
    host: Host = None,
    api_port: Annotated[int | None, typer.Option()] = None,
    dashboard_port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Start the embedded stack: API, dashboard and one worker (SQLite + filesystem queue in IWLAB_HOME)."""
    from ..stack import Stack, Stopped, port_in_use, raise_on_signals

    settings = get_settings()
    host = host or settings.host
    api_port, dashboard_port = api_port or settings.api_port, dashboard_port or settings.dashboard_port
    for what, port in (("API", api_port), ("dashboard", dashboard_port)):
        if port_in_use(host, port):
            raise fail(
                f"port {port} ({what}) on {host} is in use: stop what holds it (another `iwlab up`?) or pass --{what.lower()}-port"
            )
    settings.home.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"IWLAB_HOME": str(settings.home.resolve()), "IWLAB_API_URL": f"http://127.0.0.1:{api_port}"}
    logs = settings.home / "logs"
    logs.mkdir(exist_ok=True)
    exe = [sys.executable, "-m", "backend.cli"]
    commands = {
        "api": exe + ["api", "--host", host, "--port", str(api_port)],
        "worker": exe + ["worker"],
        "dashboard": exe + ["dashboard", "--host", host, "--port", str(dashboard_port)],
    }
    stack = Stack(env, logs)
    raise_on_signals()
    code = 0
    try:
        for name, cmd in commands.items():
            proc = stack.start(name, cmd)
            if name == "api":
                wait_until_up(f"http://127.0.0.1:{api_port}/api/v1/health", proc, logs / "api.log")
        console.print(f"iwlab is up (state in {settings.home.resolve()}, logs in {logs.resolve()})")
        typer.echo(f"dashboard: http://{host}:{dashboard_port}/")
        typer.echo(f"API:       http://{host}:{api_port}/api/v1/docs")
        console.print("Ctrl-C (or SIGTERM) stops everything.")
        code = stack.watch(lambda msg: console.print(msg, style="yellow", highlight=False, markup=False))
    except Stopped:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
    if code:
        raise typer.Exit(code)


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Until `proc` answers at `url`; only its own answer counts, so it must still be running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise fail(f"the API exited at start-up (code {proc.returncode}); see {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200 and proc.poll() is None:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise fail(f"the API did not answer at {url} within {timeout:.0f} s; see {log}")

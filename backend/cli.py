"""`iwlab`: start the services, train a spec in-process, or submit it to a server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from worker.engine.spec import ExperimentSpec

from .settings import Settings, get_settings

app = typer.Typer(help="iwlab: see what importance weights do to a deep network, epoch by epoch.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.")
app.add_typer(db_app, name="db")
user_app = typer.Typer(help="Lab accounts (run on a machine that reaches the database).", no_args_is_help=True)
app.add_typer(user_app, name="user")
token_app = typer.Typer(help="API tokens for the CLI and scripts.", no_args_is_help=True)
app.add_typer(token_app, name="token")
console = Console(stderr=True)

Host = Annotated[str | None, typer.Option(help="interface to bind (default IWLAB_HOST)")]


def fail(message: str) -> typer.Exit:
    """Bad input: one line on stderr, exit code 2."""
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def describe(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "spec"
    return f"{where}: {first['msg']}"


class SpecLoader(yaml.SafeLoader):
    """PyYAML follows YAML 1.1, where `1e-3` (no dot) is a string; YAML 1.2 and every researcher
    read it as a number. The spec is strict about types, so without this `lr: 1e-3` is refused."""


SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*\.?[0-9_]*|\.[0-9_]+)[eE][-+]?[0-9]+$"), list("-+0123456789.")
)


def load_spec(path: Path) -> ExperimentSpec:
    try:
        raw = yaml.load(path.read_text(), Loader=SpecLoader)  # SpecLoader is a SafeLoader
    except OSError as err:
        raise fail(f"cannot read {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise fail(f"{path} is not valid YAML: {str(err).splitlines()[0]}") from None
    try:
        return ExperimentSpec.model_validate(raw if raw is not None else {})
    except ValidationError as err:
        raise fail(f"{path}: {describe(err)}") from None


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
    )


@app.command()
def run(
    spec_file: Annotated[Path | None, typer.Argument(help="experiment spec (YAML)")] = None,
    preset: Annotated[str | None, typer.Option(help="run a preset instead of a spec file (see `iwlab presets`)")] = None,
    quick: Annotated[bool, typer.Option(help="the preset's quick variant (2 CPU cores, < 2 minutes)")] = False,
    out: Annotated[Path, typer.Option(help="folder for runs.csv and metrics.csv")] = Path("out"),
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda (default IWLAB_DEVICE)")] = None,
    engine: Annotated[str, typer.Option(help="auto (batch runs that share data and model) | naive (one run at a time) | batched")] = "auto",
    jobs: Annotated[int, typer.Option(min=0, help="processes for runs trained one at a time (0: image runs on a CPU get one per run, up to two per core)")] = 0,
) -> None:
    """Train every run of a spec (or a preset) on this machine and write tidy CSVs."""
    chosen = resolve_preset(preset) if preset else None
    if chosen:
        spec = chosen.spec(quick)
    elif spec_file:
        spec = load_spec(spec_file)
    else:
        raise fail("give a spec file or --preset NAME")
    outcome, _ = train_in_process(spec, out, device, engine, jobs)
    if chosen and not show_checks(chosen, outcome, quick):
        raise typer.Exit(1)


@app.command()
def report(
    spec_file: Annotated[Path | None, typer.Argument(help="experiment spec (YAML) to train and report on")] = None,
    preset: Annotated[str | None, typer.Option(help="report on a preset instead (see `iwlab presets`); with --experiment: check its claims")] = None,
    quick: Annotated[bool, typer.Option(help="the preset's quick variant")] = False,
    experiment: Annotated[int | None, typer.Option(help="report on an experiment a server trained (its id) instead of training here")] = None,
    server: Annotated[str | None, typer.Option(help="API base URL for --experiment (default IWLAB_API_URL)")] = None,
    out: Annotated[Path, typer.Option(help="folder for the figures, report.md and the CSVs")] = Path("report"),
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda (default IWLAB_DEVICE)")] = None,
) -> None:
    """Train a spec (or a preset), or fetch a server's experiment, and write its figures with 95%
    intervals, paired comparisons between weights and, for a preset, its measured-vs-expected table."""
    from frontend.report import write_report
    from worker.engine.outcome import evaluate

    if sum(x is not None for x in (spec_file, experiment)) + (preset is not None and experiment is None) != 1:
        raise fail("give one of: a spec file, --preset NAME, --experiment ID")
    chosen = resolve_preset(preset) if preset else None
    seconds, origin = None, None
    if experiment is not None:
        from worker.engine.export import outcome_from_export, write_summary

        doc = api_call("GET", f"/experiments/{experiment}/export.json", server)
        spec, outcome, left_out = outcome_from_export(doc)
        for line in left_out:
            console.print(f"[yellow]left out:[/yellow] {line}")
        if not outcome.runs:
            raise fail(f"experiment {experiment} has no metrics yet")
        origin = f"experiment {experiment} ({doc['experiment']['status']}) on {(server or get_settings().api_url).rstrip('/')}"
        out.mkdir(parents=True, exist_ok=True)
        console.print(f"wrote {write_summary(spec, outcome, out)}")
    else:
        if chosen:
            spec = chosen.spec(quick)
        else:
            assert spec_file is not None  # exactly one source, checked above
            spec = load_spec(spec_file)
        outcome, seconds = train_in_process(spec, out, device)
    results = evaluate(chosen.checks(quick), outcome) if chosen else []
    if chosen:
        show_checks(chosen, outcome, quick)
    console.print(f"wrote {write_report(spec, outcome, out, seconds, chosen, results, origin)}")


def train_in_process(spec: ExperimentSpec, out: Path, device: str | None, engine: str = "auto", jobs: int = 0):
    """Train with a progress bar; a data set that is missing or broken, or an engine that cannot
    train the spec, is one line and exit 2."""
    from worker.engine.export import ENGINES, plan_groups, write_results
    from worker.engine.images import DatasetError
    from worker.engine.table import check_runs

    runs, started = spec.runs(), time.monotonic()
    if engine not in ENGINES:
        raise fail(f"--engine: choose from {', '.join(ENGINES)}")
    try:
        plan_groups(runs, engine)
    except ValueError as err:
        raise fail(str(err)) from None
    try:
        check_runs(runs)  # a bad table is one line before anything trains
    except DatasetError as err:
        raise fail(str(err)) from None
    try:
        with progress_bar() as bar:
            task = bar.add_task(f"{spec.name}: {len(runs)} runs", total=sum(r.epochs for r in runs))
            paths, outcome = write_results(spec, out, device or get_settings().device, on_epoch=lambda: bar.advance(task), engine=engine, jobs=jobs or None)
    except DatasetError as err:
        raise fail(str(err)) from None
    for path in paths:
        console.print(f"wrote {path}")
    return outcome, time.monotonic() - started


def show_checks(preset, outcome, quick: bool) -> bool:
    """Print the preset's expected outcomes next to what was measured; True when all are met."""
    from worker.engine.outcome import evaluate

    if quick and preset.quick_is_illustration:
        console.print(f"{preset.name}: the quick variant illustrates the claim; the full variant tests it")
    results = evaluate(preset.checks(quick), outcome)
    table = Table("expected", "measured", "met", title=f"{preset.name}: {preset.title}")
    for claim, ok, measured in results:
        table.add_row(claim, measured, "[green]yes[/green]" if ok else "[red]NO[/red]")
    Console().print(table)
    return all(ok for _, ok, _ in results)


def resolve_preset(name: str):
    from worker.engine import presets

    try:
        return presets.get(name)
    except KeyError as err:
        raise fail(err.args[0]) from None


@app.command("presets")
def list_presets() -> None:
    """List the one-click reproductions of the paper and the remedies since."""
    from worker.engine.presets import PRESETS

    table = Table("name", "what it shows", "runs (quick / full)", "needs")
    for p in PRESETS.values():
        table.add_row(p.name, p.title, f"{len(p.quick.runs())} / {len(p.full.runs())}", p.needs or "")
    Console().print(table)


@app.command()
def submit(
    spec_file: Annotated[Path, typer.Argument(help="experiment spec (YAML)")],
    server: Annotated[str | None, typer.Option(help="API base URL (default IWLAB_API_URL)")] = None,
    wait: Annotated[bool, typer.Option(help="follow the runs until they finish")] = False,
    tag: Annotated[list[str] | None, typer.Option(help="tag the experiment (repeatable); the experiments list filters by tags")] = None,
) -> None:
    """Send a spec to an iwlab server."""
    spec = load_spec(spec_file)
    base = (server or get_settings().api_url).rstrip("/") + "/api/v1"
    body = spec.model_dump(mode="json") | ({"tags": tag} if tag else {})
    try:
        resp = httpx.post(f"{base}/experiments", json=body, headers=auth_headers(), timeout=30)
    except httpx.HTTPError as err:
        raise fail(f"cannot reach {base}: {err}") from None
    if resp.status_code >= 400:
        raise fail(f"server refused the spec ({resp.status_code}): {resp.text[:300]}")
    exp = resp.json()
    console.print(f"experiment {exp['id']} queued: {exp['runs_total']} runs")
    if not wait:
        return
    with progress_bar() as bar:
        task = bar.add_task(f"experiment {exp['id']}", total=1.0)
        while exp["status"] in ("queued", "running"):
            time.sleep(1)
            exp = httpx.get(f"{base}/experiments/{exp['id']}", headers=auth_headers(), timeout=30).json()
            bar.update(task, completed=exp["progress"])
    console.print(f"experiment {exp['id']} {exp['status']}: {exp['status_counts']}")
    if exp["status"] != "succeeded":
        raise typer.Exit(1)


def auth_headers() -> dict[str, str]:
    token = get_settings().token
    return {"Authorization": f"Bearer {token}"} if token else {}


@app.command()
def api(
    host: Host = None,
    port: Annotated[int | None, typer.Option(help="default IWLAB_API_PORT")] = None,
    workers: Annotated[int, typer.Option(min=1, help="API processes; on a lab server about one per core")] = 1,
) -> None:
    """Serve the REST API."""
    import uvicorn

    from .app import create_app
    from .logs import configure
    from .migrate import upgrade

    settings = get_settings()
    if host:  # the bound address decides whether IWLAB_AUTH=auto requires tokens
        settings = settings.model_copy(update={"host": host})
    if not settings.auth_required and settings.host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]warning:[/yellow] IWLAB_AUTH=off on {settings.host}: anyone who reaches it acts as an admin")
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
    sessions_url = settings.broker if settings.broker.startswith("redis") else None  # a lab server: sessions in its Redis
    return create_app(api_url or settings.api_url, poll_seconds=settings.poll_seconds, token=settings.token,
                      login=login, secret=settings.dashboard_secret, sessions_url=sessions_url)


def dashboard_wsgi():
    """The dashboard's WSGI app, configured from IWLAB_* alone, for a production server:
    `gunicorn 'backend.cli:dashboard_wsgi()'` (set IWLAB_HOST to the address it binds)."""
    return make_dashboard(get_settings()).server


worker_app = typer.Typer(help="Start a worker, or manage the lab's workers.")
app.add_typer(worker_app, name="worker")


@worker_app.callback(invoke_without_command=True)
def worker(
    ctx: typer.Context,
    queues: Annotated[str, typer.Option(help="queues to take runs from: cpu, gpu, or both (cpu,gpu)")] = "cpu",
    gpus: Annotated[str | None, typer.Option(help="one worker process per GPU, e.g. 0,1 (each pinned with CUDA_VISIBLE_DEVICES)")] = None,
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

    from .logs import configure

    settings = get_settings()
    setup_logging.connect(lambda **_kw: configure(settings), weak=False)  # our format instead of Celery's
    Presence(queue_list).install()
    pool = "solo" if concurrency == 1 else "prefork"
    celery_app.worker_main([
        "worker", f"--pool={pool}", f"--concurrency={concurrency}", f"--loglevel={loglevel or settings.log_level}",
        f"--queues={','.join(queue_list)}", f"--hostname={node_name(queue_list, os.environ.get('CUDA_VISIBLE_DEVICES'))}",
        "--without-gossip", "--without-mingle",
    ])


@worker_app.command("drain")
def worker_drain(
    name: Annotated[str, typer.Argument(help="the worker's name, as `iwlab worker ls` or GET /api/v1/workers shows it")],
    server: Annotated[str | None, typer.Option(help="API base URL (default IWLAB_API_URL)")] = None,
) -> None:
    """Let a worker finish its current run, take no more, and stop (admins only)."""
    worker = api_call("POST", f"/workers/{name}/drain", server)
    console.print(f"worker {worker['name']} drains: " + (f"finishing run {worker['current_runs']}" if worker["busy"] else "idle, stopping"))


@worker_app.command("ls")
def worker_ls(server: Annotated[str | None, typer.Option(help="API base URL (default IWLAB_API_URL)")] = None) -> None:
    """List the workers: alive, busy, what they train, their queues and GPU."""
    page = api_call("GET", "/workers", server, params={"limit": 500})
    table = Table("name", "alive", "busy", "runs", "queues", "gpu", "last heartbeat")
    for w in page["items"]:
        state = "draining" if w["draining"] and w["alive"] else ("yes" if w["alive"] else "no")
        table.add_row(w["name"], state, "yes" if w["busy"] else "", ",".join(map(str, w["current_runs"])), ",".join(w["queues"]),
                      w["gpu"] or "", w["heartbeat_at"])
    Console().print(table)


@app.command()
def cancel(
    experiment_id: Annotated[int, typer.Argument(help="the experiment's id (as `iwlab submit` and the dashboard's URL show it)", min=1)],
    server: Annotated[str | None, typer.Option(help="API base URL (default IWLAB_API_URL)")] = None,
) -> None:
    """Cancel an experiment's queued and running runs (running ones stop at their next write); finished runs keep their results."""
    exp = api_call("POST", f"/experiments/{experiment_id}/cancel", server)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(exp["status_counts"].items()) if n)
    console.print(f"experiment {exp['id']} ({exp['name']}): cancel requested; runs now {counts}", highlight=False)


def api_call(method: str, path: str, server: str | None, **kwargs) -> dict:
    """One request to the API; an unreachable server or an error answer is one line and exit 2."""
    base = (server or get_settings().api_url).rstrip("/") + "/api/v1"
    try:
        resp = httpx.request(method, base + path, headers=auth_headers(), timeout=30, **kwargs)
    except httpx.HTTPError as err:
        raise fail(f"cannot reach {base}: {err}") from None
    if resp.status_code >= 400:
        raise fail(f"{method} {path}: {resp.status_code} {resp.text[:300]}")
    return resp.json()


@app.command()
def up(
    host: Host = None,
    api_port: Annotated[int | None, typer.Option()] = None,
    dashboard_port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Start the embedded stack: API, dashboard and one worker (SQLite + filesystem queue in IWLAB_HOME)."""
    from .stack import Stack, Stopped, port_in_use, raise_on_signals

    settings = get_settings()
    host = host or settings.host
    api_port, dashboard_port = api_port or settings.api_port, dashboard_port or settings.dashboard_port
    for what, port in (("API", api_port), ("dashboard", dashboard_port)):
        if port_in_use(host, port):
            raise fail(f"port {port} ({what}) on {host} is in use: stop what holds it (another `iwlab up`?) or pass --{what.lower()}-port")
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


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to IWLAB_DATABASE_URL (or the embedded SQLite file)."""
    from .migrate import upgrade

    upgrade(get_settings().db_url)
    console.print("database is up to date")


def _db_session():
    from .db import session_scope
    from .migrate import upgrade

    url = get_settings().db_url
    upgrade(url)
    return session_scope(url)


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="admin | member")] = "member",
) -> None:
    """Create a user (then give them a token with `iwlab token create NAME`)."""
    from . import auth

    try:
        with _db_session() as s:
            user = auth.create_user(s, name, role)
            typer.echo(f"user {user.id}: {user.name} ({user.role})")
    except ValueError as err:
        raise fail(str(err)) from None


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="the user the token acts as")],
    name: Annotated[str, typer.Option(help="a label, e.g. the machine it lives on")] = "",
) -> None:
    """Create an API token; it is printed once (stdout) and stored only as a hash."""
    from . import auth

    try:
        with _db_session() as s:
            row, token = auth.create_token(s, user, name)
            token_id = row.id
    except ValueError as err:
        raise fail(str(err)) from None
    console.print(f"token {token_id} for {user}; it is shown only now (export IWLAB_TOKEN=...):")
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="the id `token create` printed")]) -> None:
    """Revoke a token: requests with it get 401 from now on."""
    from . import auth

    try:
        with _db_session() as s:
            auth.revoke_token(s, token_id)
    except ValueError as err:
        raise fail(str(err)) from None
    console.print(f"token {token_id} revoked")


# --- datasets -------------------------------------------------------------------------------------

data_app = typer.Typer(help="The lab's datasets: upload, list, delete; download CIFAR-10.", no_args_is_help=True)
app.add_typer(data_app, name="data")
Server = Annotated[str | None, typer.Option(help="API base URL (default IWLAB_API_URL)")]


@data_app.command("add")
def data_add(
    file: Annotated[Path, typer.Argument(help="a CSV, Parquet or NPZ table, or a .tar.gz of <split>/<class>/*.jpg")],
    name: Annotated[str | None, typer.Option(help="the name it is listed by (default: the file's name)")] = None,
    label_column: Annotated[str | None, typer.Option(help="a table's label column, for its class counts")] = None,
    server: Server = None,
) -> None:
    """Upload a file to the lab's dataset store; a spec then names it by the printed id (dataset_id)."""
    try:
        data = file.read_bytes()
    except OSError as err:
        raise fail(f"cannot read {file}: {err.strerror}") from None
    params = {"name": name or file.name} | ({"label_column": label_column} if label_column else {})
    row = api_call("POST", "/datasets", server, content=data, params=params)
    console.print(f"dataset {row['id']}: {row['name']} ({row['kind']}, {row['size']} bytes, sha256 {row['sha256'][:12]}); "
                  f"use it with dataset_id: {row['id']}", highlight=False)


@data_app.command("ls")
def data_ls(server: Server = None) -> None:
    """List the lab's datasets: uploads (rows, columns, classes) and registered worker folders."""
    table = Table("id", "name", "kind", "size", "contents", "owner")
    for d in api_call("GET", "/datasets", server):
        table.add_row(str(d["id"]), d["name"], d["kind"], "" if d["size"] is None else f"{d['size']:,}", _contents(d), str(d["owner_id"] or ""))
    Console().print(table)


def _contents(d: dict) -> str:
    s = d["summary"]
    if d["kind"] == "location":
        return d["path"]
    if d["kind"] == "images":
        return f"{len(s['classes'])} classes; " + ", ".join(f"{split} {sum(c.values())}" for split, c in s["images"].items())
    if s.get("rows") is None:
        return s.get("missing", "")
    classes = f"; classes {s['class_counts']}" if s.get("class_counts") else f"; {s['missing']}" if s.get("missing") else ""
    return f"{s['rows']} rows x {len(s['columns'])} columns{classes}"


@data_app.command("rm")
def data_rm(dataset_id: Annotated[int, typer.Argument(help="the id `iwlab data ls` shows")], server: Server = None) -> None:
    """Delete a dataset (its owner or an admin)."""
    base = (server or get_settings().api_url).rstrip("/") + "/api/v1"
    try:
        resp = httpx.delete(f"{base}/datasets/{dataset_id}", headers=auth_headers(), timeout=30)
    except httpx.HTTPError as err:
        raise fail(f"cannot reach {base}: {err}") from None
    if resp.status_code >= 400:
        raise fail(f"DELETE /datasets/{dataset_id}: {resp.status_code} {resp.text[:300]}")
    console.print(f"dataset {dataset_id} deleted")


@data_app.command("register")
def data_register(
    name: Annotated[str, typer.Argument(help="the name members put in data_path")],
    path: Annotated[str, typer.Argument(help="the folder (or archive) on every worker")],
    server: Server = None,
) -> None:
    """Admins: name a folder on the workers, the only kind of data_path a lab server accepts."""
    row = api_call("POST", "/datasets/locations", server, json={"name": name, "path": path})
    console.print(f"location {row['id']}: data_path: {row['name']} reads {row['path']} on the workers", highlight=False)


@data_app.command("download")
def data_download(
    name: Annotated[str, typer.Argument(help="cifar10")],
    to: Annotated[Path | None, typer.Option(help="the data folder (default IWLAB_DATASETS)")] = None,
    url: Annotated[str | None, typer.Option(help="a mirror of the official archive (its checksum is still checked)")] = None,
    md5: Annotated[str | None, typer.Option(hidden=True, help="expected MD5 (tests serve a small archive)")] = None,
) -> None:
    """Download an official data set into the data folder: checksum verified, resumable."""
    from .download import SOURCES, DownloadError, download

    if name not in SOURCES:
        raise fail(f"unknown data set {name!r}: choose from {', '.join(SOURCES)}")
    official_url, filename, official_md5 = SOURCES[name]
    dest = (to or get_settings().datasets_dir) / filename
    try:
        fetched = download(url or official_url, dest, md5 or official_md5, console)
    except (DownloadError, OSError) as err:
        raise fail(str(err)) from None
    console.print(f"{dest} {'downloaded' if fetched else 'is there already'}, checksum verified", highlight=False)


if __name__ == "__main__":
    app()

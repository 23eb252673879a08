"""What every verb group of the CLI shares: the app and its groups, the console, the one-line
failure (exit 2), the spec loader and the API client helpers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import httpx
import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from worker.engine.spec import ExperimentSpec

from ..settings import get_settings

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
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.?[0-9_]*|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
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


worker_app = typer.Typer(help="Start a worker, or manage the lab's workers.")
app.add_typer(worker_app, name="worker")
data_app = typer.Typer(help="The lab's datasets: upload, list, delete; download CIFAR-10.", no_args_is_help=True)
app.add_typer(data_app, name="data")
Server = Annotated[str | None, typer.Option(help="API base URL (default IWLAB_API_URL)")]


def auth_headers() -> dict[str, str]:
    token = get_settings().token
    return {"Authorization": f"Bearer {token}"} if token else {}


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

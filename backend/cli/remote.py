"""Verbs that talk to a lab server: `submit`, `cancel`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import httpx
import typer

from ..settings import get_settings
from ..status import ACTIVE, RunStatus
from .common import api_call, app, auth_headers, console, fail, load_spec, progress_bar


@app.command()
def submit(
    spec_file: Annotated[Path, typer.Argument(help="experiment spec (YAML)")],
    server: Annotated[str | None, typer.Option(help="API base URL (default IWLAB_API_URL)")] = None,
    wait: Annotated[bool, typer.Option(help="follow the runs until they finish")] = False,
    tag: Annotated[
        list[str] | None, typer.Option(help="tag the experiment (repeatable); the experiments list filters by tags")
    ] = None,
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
        while exp["status"] in ACTIVE:
            time.sleep(1)
            exp = httpx.get(f"{base}/experiments/{exp['id']}", headers=auth_headers(), timeout=30).json()
            bar.update(task, completed=exp["progress"])
    console.print(f"experiment {exp['id']} {exp['status']}: {exp['status_counts']}")
    if exp["status"] != RunStatus.SUCCEEDED:
        raise typer.Exit(1)


@app.command()
def cancel(
    experiment_id: Annotated[
        int, typer.Argument(help="the experiment's id (as `iwlab submit` and the dashboard's URL show it)", min=1)
    ],
    server: Annotated[str | None, typer.Option(help="API base URL (default IWLAB_API_URL)")] = None,
) -> None:
    """Cancel an experiment's queued and running runs (running ones stop at their next write); finished runs keep their results."""
    exp = api_call("POST", f"/experiments/{experiment_id}/cancel", server)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(exp["status_counts"].items()) if n)
    console.print(f"experiment {exp['id']} ({exp['name']}): cancel requested; runs now {counts}", highlight=False)

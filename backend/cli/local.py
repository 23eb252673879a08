"""Verbs that train on this machine: `run`, `report`, `presets`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from worker.engine.spec import ExperimentSpec

from ..settings import get_settings
from .common import api_call, app, console, fail, load_spec, progress_bar


@app.command()
def run(
    spec_file: Annotated[Path | None, typer.Argument(help="experiment spec (YAML)")] = None,
    preset: Annotated[
        str | None, typer.Option(help="run a preset instead of a spec file (see `iwlab presets`)")
    ] = None,
    quick: Annotated[bool, typer.Option(help="the preset's quick variant (2 CPU cores, < 2 minutes)")] = False,
    out: Annotated[Path, typer.Option(help="folder for runs.csv and metrics.csv")] = Path("out"),
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda (default IWLAB_DEVICE)")] = None,
    engine: Annotated[
        str, typer.Option(help="auto (batch runs that share data and model) | naive (one run at a time) | batched")
    ] = "auto",
    jobs: Annotated[
        int,
        typer.Option(
            min=0,
            help="processes for runs trained one at a time (0: image runs on a CPU get one per run, up to two per core)",
        ),
    ] = 0,
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
    preset: Annotated[
        str | None,
        typer.Option(help="report on a preset instead (see `iwlab presets`); with --experiment: check its claims"),
    ] = None,
    quick: Annotated[bool, typer.Option(help="the preset's quick variant")] = False,
    experiment: Annotated[
        int | None, typer.Option(help="report on an experiment a server trained (its id) instead of training here")
    ] = None,
    server: Annotated[str | None, typer.Option(help="API base URL for --experiment (default IWLAB_API_URL)")] = None,
    out: Annotated[Path, typer.Option(help="folder for the figures, report.md and the CSVs")] = Path("report"),
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda (default IWLAB_DEVICE)")] = None,
) -> None:
    """Train a spec (or a preset), or fetch a server's experiment, and write its figures with 95%
    intervals, paired comparisons between weights and, for a preset, its measured-vs-expected table."""
    from worker.engine.outcome import evaluate

    from .report import write_report

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
    from worker.engine.export import ENGINES, plan_batches, write_results
    from worker.engine.images import DatasetError
    from worker.engine.table import check_runs

    runs, started, settings = spec.runs(), time.monotonic(), get_settings()
    device = device or settings.device
    if engine not in ENGINES:
        raise fail(f"--engine: choose from {', '.join(ENGINES)}")
    try:
        plan_batches(runs, engine, device)
    except ValueError as err:
        raise fail(str(err)) from None
    try:
        check_runs(runs)  # a bad table is one line before anything trains
    except DatasetError as err:
        raise fail(str(err)) from None
    try:
        with progress_bar() as bar:
            task = bar.add_task(f"{spec.name}: {len(runs)} runs", total=sum(r.epochs for r in runs))
            paths, outcome = write_results(
                spec,
                out,
                device,
                on_epoch=lambda: bar.advance(task),
                engine=engine,
                jobs=jobs or None,
                threads=settings.threads,
                datasets=settings.datasets_dir,
            )
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

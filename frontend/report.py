"""A reproduction report: the paper-style figures (PNG through kaleido) and a markdown summary of
settings, machine and measured-vs-expected, for one preset's outcome. Uses the dashboard's figure
builders, so the report and the live view draw the same picture."""

from __future__ import annotations

import platform
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import plotly.graph_objects as go

from worker.engine import calibration
from worker.engine.outcome import Outcome
from worker.engine.presets import Preset
from worker.engine.spec import ExperimentSpec

from .components import figures
from .components.figures import curve_figure
from .components.style import series_color
from .components.sweep import aggregate

SPLIT_TITLES = {"test": "test set", "ood": "out-of-domain images", "noise": "uniform-noise images"}


def weight_curves(outcome: Outcome, split: str, metric: str = "frac_pred_pos") -> list[dict]:
    """Mean and sd over seeds per weight and epoch, in the dashboard's curve format (the live view
    aggregates API rows with the same `sweep.aggregate`)."""
    weights = sorted({s.pos_weight for s, _ in outcome.runs})
    epochs = outcome.epochs()
    rows = [{"run_id": i, "epoch": e, "value": outcome.value(h, e, split, metric)} for i, (_, h) in enumerate(outcome.runs) for e in epochs]
    stats = aggregate(rows, {i: weights.index(s.pos_weight) for i, (s, _) in enumerate(outcome.runs)})
    empty: dict[str, list] = {"epoch": [], "mean": [], "sd": [], "n": []}
    return [{"label": f"w = {w:g}", "color": series_color(i), **stats.get(i, empty)} for i, w in enumerate(weights)]


def spread_figure(groups: dict[str, Outcome], split: str = "test") -> go.Figure:
    curves = [{"label": label, "epoch": list(c), "value": list(c.values())} for label, c in ((lb, o.curve(split)) for lb, o in groups.items())]
    return figures.spread_figure(curves, logx=True, gl=False, title=f"Spread of frac_pred_pos across weights ({SPLIT_TITLES.get(split, split)})")


def calibration_figure(outcome: Outcome) -> go.Figure:
    """Realised minus intended boundary shift over L2 x weight (0 = the weight does what it should)."""
    table = calibration.shift_table(outcome)
    l2s = list(table)
    weights = sorted({w for row in table.values() for w in row})
    z = [[table[wd][w][0] - table[wd][w][1] for w in weights] for wd in l2s]
    limit = max(abs(v) for row in z for v in row) or 1.0
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"w = {w:g}" for w in weights], y=[f"L2 {wd:g}" for wd in l2s], zmid=0, zmin=-limit, zmax=limit,
        colorscale="RdBu", text=[[f"{v:+.3f}" for v in row] for row in z], texttemplate="%{text}",
        colorbar=dict(title="realised -<br>intended"),
    ))  # fmt: skip
    best = calibration.closest_l2(outcome)
    fig.update_layout(
        template="plotly_white", height=420,
        title=f"Boundary shift, realised minus intended (fractions of the centre segment); closest L2: {best:g}",
        xaxis_title="positive-class weight", yaxis_title="L2 coefficient",
    )  # fmt: skip
    return fig


def write_report(preset: Preset, spec: ExperimentSpec, outcome: Outcome, results: Sequence[tuple[str, bool, str]], out: Path, seconds: float) -> Path:
    """Figures through one headless Chromium for the whole report (a browser per figure was slow
    and, on a loaded machine, sometimes never answered)."""
    import kaleido

    kaleido.start_sync_server(silence_warnings=True)
    warnings.filterwarnings("ignore", message="The kopts argument is ignored")  # plotly's, harmless with a server
    try:
        return _write(preset, spec, outcome, results, out, seconds)
    finally:
        kaleido.stop_sync_server(silence_warnings=True)


def _write(preset: Preset, spec: ExperimentSpec, outcome: Outcome, results: Sequence[tuple[str, bool, str]], out: Path, seconds: float) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    axes = [n for n in spec.sweep if n not in ("pos_weight", "seed", "data_seed")]  # repeats are averaged
    groups = {"all runs": outcome} if not axes else {
        ", ".join(f"{a}={getattr(s, a)}" for a in axes): outcome.where(**{a: getattr(s, a) for a in axes}) for s, _ in outcome.runs
    }  # fmt: skip
    figures = []
    splits = [s for s in SPLIT_TITLES if any(s in h[max(h)] for _, h in outcome.runs)]
    for label, sub in groups.items():
        for split in splits:
            name = f"frac_pred_pos-{split}" + (f"-{_slug(label)}" if axes else "") + ".png"
            fig = curve_figure(weight_curves(sub, split), title=f"{preset.name}: fraction predicted positive, {SPLIT_TITLES[split]}" + (f" ({label})" if axes else ""), logx=True, gl=False)
            fig.data = fig.data[1:]  # no slider-epoch marker in a static figure
            fig.update_layout(title_x=0.01, legend=dict(yref="paper", y=-0.22, x=0.0, xanchor="left"), margin=dict(b=90))
            fig.write_image(out / name, width=1000, height=420)
            figures.append(name)
        if any("geometry" in h[max(h)] for _, h in sub.runs):  # 2-D: where the boundary crosses the centre segment
            name = "offset" + (f"-{_slug(label)}" if axes else "") + ".png"
            fig = curve_figure(
                weight_curves(sub, "geometry", "offset"), title=f"{preset.name}: boundary offset" + (f" ({label})" if axes else ""),
                ytitle="offset (0 = midpoint of the centres)", reference=None, logx=True,
            )  # fmt: skip
            fig.data = fig.data[1:]
            fig.update_yaxes(range=None, autorange=True)
            fig.update_layout(title_x=0.01, legend=dict(yref="paper", y=-0.22, x=0.0, xanchor="left"), margin=dict(b=90))
            fig.write_image(out / name, width=1000, height=420)
            figures.append(name)
    spread = spread_figure(groups)
    spread.write_image(out / "spread.png", width=1000, height=420)
    figures.append("spread.png")
    calibrated = calibration.applies(spec)
    if calibrated:
        calibration_figure(outcome).write_image(out / "calibration.png", width=1000, height=460)
        figures.append("calibration.png")

    lines = [
        f"# {preset.name}: {preset.title}",
        "",
        f"**Claim** ({preset.source}): {preset.claim}",
        "",
        "| expected | measured | met |",
        "| --- | --- | --- |",
        *(f"| {claim} | {measured} | {'yes' if ok else '**no**'} |" for claim, ok, measured in results),
        "",
        f"Ran {len(outcome.runs)} runs in {seconds:.0f} s on {platform.machine()} ({platform.processor() or 'cpu'}), "
        f"Python {platform.python_version()}, torch {version('torch')}, iwlab {version('iwlab')}, {datetime.now(UTC):%Y-%m-%d}.",
        "",
        f"Sweep: {', '.join(f'{k} = {v}' for k, v in spec.sweep.items())}.",
        "",
        *(_calibration_lines(outcome) if calibrated else []),
        "Base settings: " + ", ".join(f"`{k}={v}`" for k, v in spec.base.model_dump().items() if k != "data_path") + ".",
        "",
        *(f"![{f}]({f})" for f in figures),
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _calibration_lines(outcome: Outcome) -> list[str]:
    gaps = calibration.gaps(outcome)
    return [
        "Mean |realised - intended| boundary shift over the weights, per L2 coefficient "
        f"(intended: the Bayes-optimal shift; closest: **{calibration.closest_l2(outcome):g}**):",
        "",
        "| L2 | " + " | ".join(f"{wd:g}" for wd in gaps) + " |",
        "| --- |" + " --- |" * len(gaps),
        "| gap | " + " | ".join(f"{g:.4f}" for g in gaps.values()) + " |",
        "",
    ]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in ".-" else "_" for c in text)

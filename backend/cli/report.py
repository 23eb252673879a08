"""A report of any experiment: the paper-style figures (PNG through kaleido), seed means with 95%
intervals, paired comparisons between weights, nominal and effective weights, and for a preset its
claim and measured-vs-expected. Uses the dashboard's figure
builders, so the report and the live view draw the same picture.

Over 300 lines: one writer per section of report.md (weights, last epoch, paired comparisons,
realised vs intended, missing readouts, checks), all reading one Outcome.
"""

from __future__ import annotations

import math
import platform
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from frontend.components import figures
from frontend.components.analysis import REFERENCE_NAMES
from frontend.components.style import series_color
from frontend.components.sweep import aggregate
from worker.engine import calibration, stats
from worker.engine.export import run_notes
from worker.engine.outcome import Outcome
from worker.engine.presets import Preset
from worker.engine.spec import ExperimentSpec

from ..settings import get_settings

SPLIT_TITLES = {"test": "test set", "ood": "out-of-domain images", "noise": "uniform-noise images"}


def weight_curves(outcome: Outcome, split: str, metric: str = "frac_pred_pos") -> list[dict]:
    """Mean and sd over seeds per weight and epoch, in the dashboard's curve format (the live view
    aggregates API rows with the same `sweep.aggregate`)."""
    weights = sorted({s.pos_weight for s, _ in outcome.runs})
    epochs = outcome.epochs()
    rows = [
        {"run_id": i, "epoch": e, "value": outcome.value(h, e, split, metric)}
        for i, (_, h) in enumerate(outcome.runs)
        for e in epochs
    ]
    stats = aggregate(rows, {i: weights.index(s.pos_weight) for i, (s, _) in enumerate(outcome.runs)})
    empty: dict[str, list] = {"epoch": [], "mean": [], "sd": [], "n": []}
    return [{"label": f"w = {w:g}", "color": series_color(i), **stats.get(i, empty)} for i, w in enumerate(weights)]


def spread_figure(groups: dict[str, Outcome], split: str = "test") -> go.Figure:
    curves = [
        {"label": label, "epoch": list(c), "value": list(c.values())}
        for label, c in ((lb, o.curve(split)) for lb, o in groups.items())
    ]
    return figures.spread_figure(
        curves, logx=True, gl=False, title=f"Spread of frac_pred_pos across weights ({SPLIT_TITLES.get(split, split)})"
    )


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


def interval_curves(outcome: Outcome, split: str, metric: str = "frac_pred_pos") -> list[dict]:
    """Per weight: the seed mean and its 95% t-interval (clipped to the metric's range) at every
    evaluated epoch, and n; {"label", "color", "epoch", "mean", "low", "high", "n"}."""
    weights = sorted({s.pos_weight for s, _ in outcome.runs})
    out = []
    for i, w in enumerate(weights):
        sub = outcome.where(pos_weight=w)
        curve: dict[str, Any] = {
            "label": f"w = {w:g}",
            "color": series_color(i),
            "epoch": [],
            "mean": [],
            "low": [],
            "high": [],
            "n": [],
        }
        for e in outcome.epochs():
            ci = stats.mean_interval((sub.value(h, e, split, metric) for _, h in sub.runs), stats.metric_range(metric))
            if ci.n:
                for key, value in zip(("epoch", "mean", "low", "high", "n"), (e, ci.mean, ci.low, ci.high, ci.n)):
                    curve[key].append(value)
        out.append(curve)
    return out


def interval_figure(curves: list[dict], title: str, ytitle: str) -> go.Figure:
    """Seed-mean lines with their 95% confidence bands (none where a weight has one seed)."""
    fig = go.Figure()
    for c in curves:
        keep = [k for k, e in enumerate(c["epoch"]) if e > 0]  # log axis
        xs = [c["epoch"][k] for k in keep]
        n = max((c["n"][k] for k in keep), default=0)
        if n > 1:
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=[c["high"][k] for k in keep],
                    mode="lines",
                    line=dict(width=0),
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
            fig.add_trace(go.Scatter(x=xs, y=[c["low"][k] for k in keep], mode="lines", line=dict(width=0), fill="tonexty",
                                     fillcolor=figures._rgba(c["color"], 0.18), showlegend=False, hoverinfo="skip"))  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[c["mean"][k] for k in keep],
                mode="lines",
                name=f"{c['label']} (n = {n})",
                line=dict(color=c["color"], width=2.5),
            )
        )
    fig.update_layout(
        template="plotly_white", height=420, title=title + " (bands: 95% t-interval over seeds)", title_x=0.01,
        xaxis=dict(type="log", title="epoch"), yaxis_title=ytitle, legend=dict(orientation="h", yref="paper", y=-0.22, x=0.0), margin=dict(b=90),
    )  # fmt: skip
    return fig


def write_report(
    spec: ExperimentSpec, outcome: Outcome, out: Path, seconds: float | None, preset: Preset | None = None,
    results: Sequence[tuple[str, bool, str]] = (), origin: str | None = None,
) -> Path:  # fmt: skip
    """report.md and its figures for any experiment (a preset adds its claim and checks). Figures
    through one headless Chromium for the whole report (a browser per figure was slow and, on a
    loaded machine, sometimes never answered)."""
    import kaleido

    kaleido.start_sync_server(silence_warnings=True)
    warnings.filterwarnings("ignore", message="The kopts argument is ignored")  # plotly's, harmless with a server
    try:
        return _write(spec, outcome, out, seconds, preset, results, origin)
    finally:
        kaleido.stop_sync_server(silence_warnings=True)


def arm_groups(spec: ExperimentSpec, outcome: Outcome) -> tuple[list[str], dict[str, Outcome]]:
    """The swept parameters other than the weight and the repeats, and the outcome of each setting."""
    axes = [n for n in spec.sweep if n != "pos_weight" and n not in stats.REPEATS]
    if not axes:
        return axes, {"all runs": outcome}
    return axes, {
        ", ".join(f"{a}={getattr(s, a)}" for a in axes): outcome.where(**{a: getattr(s, a) for a in axes})
        for s, _ in outcome.runs
    }


def _write(
    spec: ExperimentSpec,
    outcome: Outcome,
    out: Path,
    seconds: float | None,
    preset: Preset | None,
    results,
    origin: str | None,
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    name = preset.name if preset else spec.name
    axes, groups = arm_groups(spec, outcome)
    pictures = []
    splits = [s for s in SPLIT_TITLES if any(s in h[max(h)] for _, h in outcome.runs)]
    for label, sub in groups.items():
        suffix = f" ({label})" if axes else ""
        for split in splits:
            file = f"frac_pred_pos-{split}" + (f"-{_slug(label)}" if axes else "") + ".png"
            fig = interval_figure(
                interval_curves(sub, split),
                f"{name}: fraction predicted positive, {SPLIT_TITLES[split]}{suffix}",
                "fraction predicted positive",
            )
            fig.write_image(out / file, width=1000, height=420)
            pictures.append(file)
        if any("geometry" in h[max(h)] for _, h in sub.runs):  # 2-D: where the boundary sits on the centre segment
            file = "offset" + (f"-{_slug(label)}" if axes else "") + ".png"
            fig = interval_figure(
                interval_curves(sub, "geometry", "offset"),
                f"{name}: boundary offset{suffix}",
                "offset (0 = midpoint of the centres)",
            )
            fig.write_image(out / file, width=1000, height=420)
            pictures.append(file)
    if len({s.pos_weight for s, _ in outcome.runs}) > 1:
        spread_figure(groups).write_image(out / "spread.png", width=1000, height=420)
        pictures.append("spread.png")
    calibrated = calibration.applies(spec)
    if calibrated:
        calibration_figure(outcome).write_image(out / "calibration.png", width=1000, height=460)
        pictures.append("calibration.png")

    title = f"# {preset.name}: {preset.title}" if preset else f"# {spec.name}"
    lines = [title, ""]
    if preset:
        lines += [f"**Claim** ({preset.source}): {preset.claim}", ""]
        if preset.quick_is_illustration and spec == preset.quick:
            lines += ["**The quick variant is an illustration**: it cannot test the claim at CPU size, so it checks only "
                      "what it shows; the full variant carries the claim's checks:", "",
                      *(f"- {c.claim}" for c in preset.expected), ""]  # fmt: skip
    if results:
        lines += [
            "| expected | measured | met |", "| --- | --- | --- |",
            *(f"| {claim} | {measured} | {'yes' if ok else '**no**'} |" for claim, ok, measured in results), "",
        ]  # fmt: skip
    lines += [
        f"Ran {len(outcome.runs)} runs in {seconds:.0f} s on {platform.machine()} ({platform.processor() or 'cpu'}), "
        f"Python {platform.python_version()}, torch {version('torch')}, iwlab {version('iwlab')}, {datetime.now(UTC):%Y-%m-%d}."
        if origin is None
        else f"{len(outcome.runs)} runs of {origin}, reported {datetime.now(UTC):%Y-%m-%d} by iwlab {version('iwlab')}.",
        "",
        f"Sweep: {', '.join(f'{k} = {v}' for k, v in spec.sweep.items())}.",
        "",
        *_weight_lines(outcome),
        *_end_lines(groups, splits),
        *_paired_lines(groups),
        *_intended_lines(groups),
        *_missing_lines(outcome),
        *(_calibration_lines(outcome) if calibrated else []),
        "Base settings: "
        + ", ".join(f"`{k}={v}`" for k, v in spec.base.model_dump().items() if k != "data_path")
        + ".",
        "",
        *(f"![{f}]({f})" for f in pictures),
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _fmt(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.3f}"


def _weight_lines(outcome: Outcome) -> list[str]:
    """Nominal and effective weight of each arm (losses.effective_pos_weight)."""
    rows: dict[tuple, set[float]] = {}
    for (spec, _), (effective, _) in zip(
        outcome.runs, run_notes([s for s, _ in outcome.runs], get_settings().datasets_dir)
    ):
        if effective is not None:  # None with more than two classes: no single positive class
            rows.setdefault((spec.pos_weight, spec.loss_norm, spec.resample, spec.batch_size), set()).add(
                round(effective, 3)
            )
    if not rows:
        return []
    return [
        "Nominal and effective positive-class weight (the weight of a positive example relative to a negative one "
        "in the epoch's objective, in expectation over the batch order; docs/readouts.md):", "",
        "| nominal w | loss_norm | batch | effective w |", "| --- | --- | --- | --- |",
        *(f"| {w:g} | {'resample' if rs else norm} | {b} | {', '.join(f'{e:g}' for e in sorted(eff))} |" for (w, norm, rs, b), eff in sorted(rows.items())),
        "",
    ]  # fmt: skip


def _end_lines(groups: dict[str, Outcome], splits: list[str]) -> list[str]:
    """Seed means at the last epoch with their 95% intervals and n."""
    lines = ["Last epoch, seed mean [95% t-interval] (n seeds):", "", "| setting | weight | train acc | " + " | ".join(f"{s} frac_pred_pos" for s in splits) + " |",
             "| --- | --- | --- |" + " --- |" * len(splits)]  # fmt: skip
    for label, sub in groups.items():
        for w in sorted({s.pos_weight for s, _ in sub.runs}):
            arm = sub.where(pos_weight=w)
            cells = []
            for split, metric in [("train", "acc"), *((s, "frac_pred_pos") for s in splits)]:
                ci = stats.mean_interval(
                    (arm.value(h, "end", split, metric) for _, h in arm.runs), stats.metric_range(metric)
                )
                cells.append(f"{_fmt(ci.mean)} [{_fmt(ci.low)}, {_fmt(ci.high)}] ({ci.n})")
            lines.append(f"| {label} | {w:g} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _paired_lines(groups: dict[str, Outcome]) -> list[str]:
    """Each weight against the unweighted runs of the same seed: the paired difference at the last
    epoch, its 95% interval and the paired t-test's p-value."""
    lines = ["Paired comparisons with w = 1 at the last epoch (runs of one seed share initialisation and batch order; "
             "difference = weighted - unweighted, mean [95% t-interval], two-sided paired t-test):", "",
             "| setting | weight | readout | n | difference | p |", "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    found = False
    for label, sub in groups.items():
        readouts = [("test", "frac_pred_pos")] + (
            [("geometry", "offset")] if any("geometry" in h[max(h)] for _, h in sub.runs) else []
        )
        for split, metric in readouts:
            for w, p in stats.paired_by_weight(sub, "end", split, metric).items():
                found = True
                lines.append(
                    f"| {label} | {w:g} | {split} {metric} | {p.n} | {p.mean_diff:+.3f} [{_fmt(p.low)}, {_fmt(p.high)}] | {_p(p.p_value)} |"
                )
    return [*lines, ""] if found else []


def _intended_lines(groups: dict[str, Outcome]) -> list[str]:
    """Realised vs intended test frac_pred_pos at the last epoch, saying which reference is shown."""
    rows = []
    for label, sub in groups.items():
        prefix, intended = sub.reference_by_weight("end", "test")
        realised = sub.by_weight("end", "test", "frac_pred_pos")
        rows += [
            f"| {label} | {w:g} | {realised[w]:.3f} | {v:.3f} | {REFERENCE_NAMES[prefix]} |"
            for w, v in intended.items()
            if w in realised
        ]
    if not rows:
        return []
    return ["Realised vs intended effect at the last epoch (test fraction predicted positive, seed means):", "",
            "| setting | weight | realised | intended | reference |", "| --- | --- | --- | --- | --- |", *rows, ""]  # fmt: skip


def _p(p: float) -> str:
    if math.isnan(p):
        return "n/a (one seed)"
    return "0 (the same difference in every seed)" if p == 0 else f"{p:.2g}"


def _missing_lines(outcome: Outcome) -> list[str]:
    """Readouts some runs do not record, with the reason and how many runs."""
    reasons: dict[tuple[str, str], int] = {}
    for missing in (m for _, m in run_notes([s for s, _ in outcome.runs], get_settings().datasets_dir)):
        for why in set(missing.values()):
            key = (", ".join(sorted(r for r, w in missing.items() if w == why)), why)
            reasons[key] = reasons.get(key, 0) + 1
    total = len(outcome.runs)
    return (
        [*(f"Not recorded in {n} of {total} runs: {readouts}: {why}." for (readouts, why), n in reasons.items()), ""]
        if reasons
        else []
    )


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

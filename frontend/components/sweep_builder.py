"""The new-experiment form's sweep builder: any run parameter of `GET /catalog` becomes an axis.

Pure helpers: which parameters can be swept (from the run schema), how to read an axis's values
with the schema's type, and how long a sweep will take.
"""

from __future__ import annotations

import itertools
import math

from dash import html

MAX_AXES = 3  # besides the weights and the seeds
SKIP = {"pos_weight", "seed", "data_path", "classes", "hidden"}  # own fields in the form, or not a scalar
# The per-run engine's measured pace on the shared 2-core machine (README, Performance: the quick
# logistic-regression sweep, batch 8 over 2 x 100 points = 25 steps per epoch, 212 epochs/s per run).
STEPS_PER_SECOND = 212 * 25
# The B&L ConvNet at width 16 on CIFAR cat/dog, one CPU thread (README, Performance: bench/cifar.py);
# its convolutions' cost grows with the square of the width.
CONVNET_IMAGES_PER_SECOND, CONVNET_MEASURED_WIDTH = 54, 16


def kind(prop: dict) -> str:
    """integer | number | boolean | string (an enum), from a JSON-schema property (nullable ones too)."""
    types = [prop.get("type")] + [a.get("type") for a in prop.get("anyOf", [])]
    for t in ("boolean", "integer", "number", "string"):
        if t in types:
            return t
    return "string"


def sweepable(schema: dict) -> dict[str, dict]:
    """Scalar run parameters by name, with their type, limits and choices."""
    out = {}
    for name, prop in (schema.get("properties") or {}).items():
        if name in SKIP or kind(prop) == "string" and "enum" not in prop:
            continue
        out[name] = {"kind": kind(prop), "enum": prop.get("enum"), "minimum": prop.get("minimum"), "maximum": prop.get("maximum"),
                     "description": prop.get("description", ""), "title": prop.get("title", name)}  # fmt: skip
    return out


def parse_axis(name: str, text: str | None, info: dict) -> list:
    """'0, 0.01, 0.1' -> typed values; ValueError names the parameter and the bad item. Range
    checks are left to the API (its 422 names the value), so the two never disagree."""
    items = [t.strip() for t in (text or "").replace(";", ",").split(",") if t.strip()]
    if not items:
        raise ValueError(f"{name}: give at least one value")
    out = []
    value: bool | int | float | str
    for item in items:
        if info["kind"] == "boolean":
            if item.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"{name}: '{item}' is not true or false")
            value = item.lower() in ("true", "1", "yes")
        elif info["kind"] in ("integer", "number"):
            try:
                value = int(item) if info["kind"] == "integer" else float(item)
            except ValueError:
                raise ValueError(
                    f"{name}: '{item}' is not {'an integer' if info['kind'] == 'integer' else 'a number'}"
                ) from None
        else:
            if info.get("enum") and item not in info["enum"]:
                raise ValueError(f"{name}: '{item}' is not one of {', '.join(info['enum'])}")
            value = item
        if value not in out:
            out.append(value)
    return out


def estimate_seconds(sweep: dict[str, list], base: dict) -> float | None:
    """Training time on one worker, from the per-run engine's measured pace: every run's epochs x its
    steps per epoch (2 classes x n_train points / batch); ConvNets by images per second instead.
    None for a model with no measured pace (ResNet). Batched sweeps of small models run faster."""

    def values(name):
        return sweep.get(name) or [base.get(name)]

    names = ("epochs", "n_train", "batch_size", "model", "width")
    combos = list(itertools.product(*(values(n) for n in names)))
    runs = math.prod(len(v) for v in sweep.values()) if sweep else 1
    share = runs / len(combos)
    total = 0.0
    for epochs, n_train, batch, model, width in combos:
        if model == "resnet":
            return None
        if model == "convnet":
            total += epochs * 2 * n_train * ((width or 64) / CONVNET_MEASURED_WIDTH) ** 2 / CONVNET_IMAGES_PER_SECOND
        else:
            total += epochs * math.ceil(2 * n_train / batch) / STEPS_PER_SECOND
    return share * total


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"~{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"~{round(seconds / 60)} min"
    return f"~{seconds / 3600:.1f} h"


def summary(sweep: dict[str, list], base: dict, limit: int | None) -> html.Span:
    runs = math.prod(len(v) for v in sweep.values())
    axes = " × ".join(f"{len(v)} {name}" for name, v in sweep.items())
    seconds = estimate_seconds(sweep, base)
    when = f"{duration(seconds)} on one worker" if seconds is not None else "no time estimate for this model yet"
    text = f"{axes} = {runs} run{'s' * (runs != 1)}, {when}"
    if limit and runs > limit:
        return html.Span(f"{text}: more than the limit of {limit} runs", className="text-danger")
    return html.Span(text)

"""More than two classes (a table's label column, image data with K classes): the engine records
`frac_pred_<label>` and `acc_<label>` (that class's recall) per class instead of `frac_pred_pos`,
so the experiment page draws one class's readout at a time, picked in a select.

Pure: metric rows in, the select's options out."""

from __future__ import annotations

PREDICTED, RECALL = "frac_pred_", "acc_"
BINARY = "frac_pred_pos"  # recorded only for two classes (worker/engine/metrics.py)
SPLIT = "test"
BINARY_ONLY = (
    "Realised vs intended needs two classes: the intended effect<br>"
    "(log w added to the unweighted model's positive logit) is<br>"
    "recorded for a positive-class weight only, not per class."
)

BY_POS_WEIGHT = (
    "Realised vs intended is drawn over the positive-class weight (pos_weight);<br>"
    "this sweep varies class_weights instead, which the intended-effect<br>"
    "readouts do not cover."
)


def labels(names: set[str]) -> list[str]:
    """The class labels named by `frac_pred_<label>` metrics, in the engine's class order: sorted,
    numerically where every label is a number (spec: `label_column`)."""
    found = [n[len(PREDICTED) :] for n in names if n.startswith(PREDICTED) and n != BINARY]
    numeric = all(_is_number(c) for c in found)
    return sorted(found, key=lambda c: (float(c), c) if numeric else (0.0, c))


def options(rows: list[dict]) -> list[dict]:
    """The select's options (one per class and readout), or [] for two classes: an experiment that
    records `frac_pred_pos` is drawn by it as before."""
    names = {r["metric"] for r in rows if r["split"] == SPLIT}
    if BINARY in names:
        return []
    out = []
    for c in labels(names):
        out.append({"label": f"predicted {c}", "value": PREDICTED + c})
        if RECALL + c in names:
            out.append({"label": f"recall of {c}", "value": RECALL + c})
    return out


def pick(options: list[dict], runs: list[dict], wanted: str | None) -> str:
    """`wanted` when it is one of the options; else the first class a swept `class_weights` dict
    names (the class the sweep weights), else the first class."""
    values = [o["value"] for o in options]
    if wanted in values:
        return str(wanted)
    for run in runs:
        weights = run["params"].get("class_weights")
        for label in weights if isinstance(weights, dict) else ():
            if PREDICTED + str(label) in values:
                return PREDICTED + str(label)
    return values[0]


def describe(metric: str) -> tuple[str, str]:
    """(figure title, y axis title) for a metric the curves draw."""
    if metric.startswith(RECALL):
        c = metric[len(RECALL) :]
        return f"Recall of class {c} (accuracy on its test examples)", f"recall of {c}"
    if metric == BINARY or not metric.startswith(PREDICTED):
        return "Fraction predicted positive", "fraction predicted positive"
    c = metric[len(PREDICTED) :]
    return f"Fraction predicted {c}", f"fraction predicted {c}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

"""What a run's weight did and which readouts it does not record, as the worker measured them
(docs/readouts.md): the run page's "weight" line and its "Not recorded" list."""

from __future__ import annotations

from dash import html

from .sweep import _fmt

# The evaluation splits a run may record, as the pages name them (a split a run lacks is greyed out):
# the test split, the image runs' out-of-domain and noise images, a table's or the covariate-shift
# data's target sample (what importance weighting is meant to improve)
SPLITS = {"test": "in-domain test", "ood": "out-of-domain", "noise": "noise", "target": "target sample"}


def weight_text(run: dict) -> str:
    """ "nominal w, effective w_eff (loss_norm ...)": the weight asked for and the one the epoch's
    objective applies, which differ under `loss_norm: sum` (each batch divided by its own weights)."""
    p = run.get("params") or {}
    power = p.get("weight_power", 1.0)
    weights = p.get("class_weights")
    if isinstance(weights, dict) and weights:
        nominal = " / ".join(f"{label}: {_fmt(w)}" for label, w in weights.items())
    else:  # a scheme by name (inverse_frequency, ...), or the positive class's weight
        nominal = weights if isinstance(weights, str) else _fmt(p.get("pos_weight", 1.0))
    nominal += f" ** {_fmt(power)}" if power != 1 else ""
    how = [
        "resampled, batch mean" if p.get("resample") else f"loss_norm {p.get('loss_norm', 'sum')}",
        f"batch {p.get('batch_size')}",
    ]
    if p.get("drw_epoch") is not None:
        how.append(
            f"from epoch {p['drw_epoch']}"
            + (f", class-balanced weights (beta {_fmt(p['drw_beta'])})" if p.get("drw_beta") is not None else "")
        )
    effective = run.get("effective_pos_weight")
    if effective is not None:
        measured = f"{effective:.4g}"
    elif "effective_pos_weight" in (run.get("missing_readouts") or {}):  # more than two classes
        measured = "not defined (see Not recorded)"
    else:
        measured = "not known until a worker has built the training data"
    return f"nominal {nominal}, effective {measured} ({', '.join(how)})"


def not_recorded(run: dict) -> html.Div:
    """Each readout the run leaves out, with the reason (nothing shown before a worker has looked)."""
    missing = run.get("missing_readouts")
    if missing is None:
        return html.Div(id="run-not-recorded")
    if not missing:
        return html.Div("Every readout is recorded.", id="run-not-recorded", className="small text-muted mt-2")
    items = [html.Li([html.Code(name), html.Span(f": {why}")]) for name, why in sorted(missing.items())]
    return html.Div(
        [html.H6("Not recorded", className="mt-3 mb-1"), html.Ul(items, className="small mb-0")], id="run-not-recorded"
    )

"""One palette for the whole dashboard: Okabe & Ito's colour-blind-safe colours."""

import math

OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}

# Lines, one per sweep group (yellow last: it is hard to read on white).
SERIES = [OKABE_ITO[k] for k in ("blue", "vermillion", "green", "purple", "orange", "sky", "black", "yellow")]

# Classes: negative = blue, positive (the re-weighted one) = vermillion.
NEGATIVE = OKABE_ITO["blue"]
POSITIVE = OKABE_ITO["vermillion"]
# P(positive) from light blue (0) through white (0.5) to light orange (1).
PROBABILITY_SCALE = [[0.0, "#9fcbe8"], [0.5, "#ffffff"], [1.0, "#f5c28c"]]

STATUS_COLOR = {
    "queued": "secondary",
    "running": "primary",
    "succeeded": "success",
    "failed": "danger",
    "cancelled": "warning",
}
# The statuses after which nothing more happens to a run: `/catalog` serves them (backend/status.py);
# tests/frontend/test_statuses.py keeps this copy equal to it, as the dashboard cannot import the server.
FINISHED = ("succeeded", "failed", "cancelled")


def series_color(i: int) -> str:
    return SERIES[i % len(SERIES)]


def weight_colors(weights: list[float]) -> list[str]:
    """One colour per importance weight, sequential in log w (Viridis up to its green, as yellow is
    hard to read on white), so the order of the weights reads off the colours however many there are."""
    from plotly.colors import sample_colorscale, unlabel_rgb

    logs = [math.log(w) if w > 0 else -math.inf for w in weights]
    finite = [v for v in logs if math.isfinite(v)]
    if len(set(finite)) < 2:
        return [series_color(0)] * len(weights)
    lo, hi = min(finite), max(finite)
    sampled = sample_colorscale("Viridis", [0.0 if not math.isfinite(v) else 0.85 * (v - lo) / (hi - lo) for v in logs])
    return ["#{:02x}{:02x}{:02x}".format(*(round(c) for c in unlabel_rgb(rgb))) for rgb in sampled]

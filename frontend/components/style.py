"""One palette for the whole dashboard: Okabe & Ito's colour-blind-safe colours."""

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

STATUS_COLOR = {"queued": "secondary", "running": "primary", "succeeded": "success", "failed": "danger", "cancelled": "warning"}
FINISHED = ("succeeded", "failed", "cancelled")  # backend/lifecycle.TERMINAL


def series_color(i: int) -> str:
    return SERIES[i % len(SERIES)]

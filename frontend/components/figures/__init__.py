"""Plotly figures from API JSON. Pure functions: no HTTP, no Dash callbacks, easy to unit-test.

Every trace carries `meta={"role": ...}` so tests (and the browser test) can count panels and lines
without depending on trace order or names.

One module per figure kind: `base` (font, legend, placeholder), `boundary` (decision-boundary
panels), `curves` (curves and spread over epochs), `effect` (realised vs intended), `slider` (epoch
slider labels). Callers import from here, as before the split.
"""

from .base import BOTTOM_LEGEND, FONT, empty_figure
from .base import _rgba as _rgba  # the offline report draws its own seed bands with it
from .boundary import (
    BOUNDARY,
    HEATMAP,
    MAX_PANEL_POINTS,
    NEGATIVES,
    POSITIVES,
    TRACES_PER_PANEL,
    boundary_figure,
    level_line,
    panel_grid,
)
from .curves import curve_figure, interval_text, spread_figure
from .effect import effect_figure
from .slider import slider_marks

__all__ = [
    "BOTTOM_LEGEND",
    "BOUNDARY",
    "FONT",
    "HEATMAP",
    "MAX_PANEL_POINTS",
    "NEGATIVES",
    "POSITIVES",
    "TRACES_PER_PANEL",
    "boundary_figure",
    "curve_figure",
    "effect_figure",
    "empty_figure",
    "interval_text",
    "level_line",
    "panel_grid",
    "slider_marks",
    "spread_figure",
]

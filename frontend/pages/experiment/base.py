"""What every part of the experiment page shares: its limits, evaluation splits and graphs."""

from __future__ import annotations

from ...components import readouts

PLAY_MS = 450
LOG_AFTER = 100  # epochs
RUN_PAGE_SIZE = 25
METRIC, SPLIT = "frac_pred_pos", "test"
# curves are thinned server-side to this many epochs (log- and evenly spaced); exports stay full.
# So few points draw faster as SVG than as WebGL (gl=False below): a WebGL context costs ~0.5 s
# per figure where the browser has no GPU (bench/dashboard.py), SVG ~0.05-0.2 s.
MAX_POINTS = 200
SPLITS = readouts.SPLITS
PLAY, PAUSE = "▶ Play", "❚❚ Pause"
GRAPHS = ("boundary-graph", "curve-graph", "spread-graph", "effect-graph")


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default

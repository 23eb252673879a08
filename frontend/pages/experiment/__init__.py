"""`/experiments/<id>`: status, runs, the boundary per weight with an epoch slider, the paper's
frac_pred_pos curves per evaluation split, the spread across weights and realised vs intended effect.

URL state: `?seed=S&epoch=E&logx=1&split=ood&fig=svg&slice=1&metric=frac_pred_fox` (logx: 1 or 0
where it differs from the default, which is log beyond LOG_AFTER epochs; metric: with more than two
classes, the class readout the curves draw, components/classes.py). `layout` draws the whole page for that state
in one go; afterwards the callbacks carry changes through (all data through the API):

    exp-poll ──> exp-store (experiment + runs) ──> panels-store (one run per group, its frame epochs)
                         │                                   │
                         └──> curve-store (mean/CI per group)│──> epoch-slider ──> boundary-graph (frames
                                                              │        ▲                fetched per run+epoch)
                                                 play/interval┘────────┘               curve-graph (marker)

Polling stops once every run has finished. The slider moves over frame *indices*: frames are
recorded at log-spaced epochs, so playing them shows the early movement in as much detail as the end.
"""

from .callbacks import register
from .data import FinishedCache, curves_for, panels_for
from .header import header
from .layout import layout, log_by_default

__all__ = ["FinishedCache", "curves_for", "header", "layout", "log_by_default", "panels_for", "register"]

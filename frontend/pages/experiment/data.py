"""What the page fetches through the API, shaped for its figures: the experiment and its runs, one
boundary panel per weight, the curves, and the cache that serves finished experiments."""

from __future__ import annotations

import threading
from collections import OrderedDict

from ...client import ApiClient, ApiError
from ...components import analysis, classes, strip, sweep
from ...components.style import FINISHED, series_color, weight_colors
from ...components.tables import runs_table
from .base import MAX_POINTS, METRIC, RUN_PAGE_SIZE, SPLIT, SPLITS, _int
from .header import header


def load_state(client: ApiClient, experiment_id: int, seed: str | None, fmt: str, page: int = 1) -> dict:
    """The experiment, its runs and what is drawn straight from them (header, run table, seeds)."""
    runs_pending = client.submit(client.runs, experiment_id)  # side by side with the experiment
    exp, runs = client.experiment(experiment_id), runs_pending.result()
    seeds = sweep.seeds(runs)
    chosen = str(seeds[0]) if seeds and _int(seed) not in seeds else seed
    return {
        "store": {"experiment": exp, "runs": slim(runs)},
        "header": header(exp, client.api_url, fmt, [r["id"] for r in runs], strip.failure_notice(runs)),
        "table": run_page(runs, page),
        "run_pages": max(1, -(-len(runs) // RUN_PAGE_SIZE)),
        "seed_options": [{"label": str(s), "value": str(s)} for s in seeds],
        "seed_disabled": len(seeds) < 2,
        "seed": chosen,
        "done": bool(runs) and all(r["status"] in FINISHED for r in runs),
    }


def run_page(runs: list[dict], page: int):
    """One page of the run table: a hundred rows of progress bars took ~0.8 s to draw."""
    ordered = sorted(runs, key=lambda r: r["index"])
    page = min(max(page or 1, 1), max(1, -(-len(ordered) // RUN_PAGE_SIZE)))
    return runs_table(ordered[(page - 1) * RUN_PAGE_SIZE : page * RUN_PAGE_SIZE], sweep.varying_params(runs))


def split_options(data: dict | None) -> list[dict]:
    present = None if data is None else (data.get("splits") or [])
    return [
        {"label": label, "value": key, "disabled": present is not None and key not in present}
        for key, label in SPLITS.items()
    ]


def panels_for(client: ApiClient, runs: list[dict], seed: int | None, spec: dict | None = None) -> dict:
    """One panel per sweep group: the group's run with `seed` and its recorded frame epochs (the
    boundary grid's on 2-D data, the image strip's on images: `kind`), and why there is none yet.

    While that run waits in the queue, another seed of the group that has started stands in (its
    label says which), so a running experiment never shows empty panels for long.
    """

    def panel(gi: int, group: dict) -> dict | None:
        chosen = [r for r in group["runs"] if r["params"].get("seed") == seed]
        others = [r for r in group["runs"] if r["params"].get("seed") != seed and r["status"] != "queued"]
        for run in chosen + others:
            if run["status"] == "queued":
                continue
            try:
                info = client.boundary(run["id"], final=run["status"] in FINISHED)
            except ApiError:
                continue
            if not info.get("epochs"):
                continue
            label = group["label"] if run in chosen else f"{group['label']} (seed {run['params'].get('seed')})"
            return {
                "run_id": run["id"],
                "label": label,
                "group": gi,
                "epochs": info["epochs"],
                "status": run["status"],
                "xs": info["xs"],
                "ys": info["ys"],  # the slider's patches draw each frame's line on them
                "finished_at": run.get("finished_at"),
                "total": run["epochs"],
            }
        return None

    panels = [p for p in client.map(panel, *zip(*enumerate(sweep.groups(runs)))) if p is not None] if runs else []
    images, none = strip.is_images(spec or {}), strip.no_picture(spec or {})
    return {
        "panels": panels,
        "epochs": sorted({e for p in panels for e in p["epochs"]}),
        "kind": "none" if none else "images" if images else "2d",
        "classes": strip.class_names(spec or {}),
        "empty": none or strip.empty_reason(runs),
    }


def frame_z(client: ApiClient, run_id: int, epoch: int):
    try:
        return client.boundary_frame(run_id, epoch)["z"]
    except ApiError:
        return None


def curves_for(rows: list[dict], runs: list[dict]) -> list[dict]:
    groups = sweep.groups(runs)
    run_group = {r["id"]: gi for gi, g in enumerate(groups) for r in g["runs"]}
    stats = sweep.aggregate(rows, run_group)
    empty: dict[str, list] = {"epoch": [], "mean": [], "sd": [], "n": [], "lo": [], "hi": []}
    if sweep.varying_params(runs) == ["pos_weight"]:  # the groups are the weights: colours in their order
        colors = weight_colors([g["key"][0] for g in groups])
    else:
        colors = [series_color(gi) for gi in range(len(groups))]
    return [{"label": g["label"], "color": c, **stats.get(gi, empty)} for gi, (g, c) in enumerate(zip(groups, colors))]


def figures_for(
    client: ApiClient,
    experiment_id: int,
    runs: list[dict],
    split: str,
    metric: str | None = None,
    spec: dict | None = None,
) -> dict:
    """Everything the curve, spread and effect panels draw, from requests made side by side: the
    split's thinned curves, every metric at the first and last epoch only (which splits exist, and
    with more than two classes which classes: `classes.options`), and the unweighted runs' intended
    effect (`reference_rows`). `metric`: with more than two classes, the class readout to draw;
    `spec` (the experiment's) says whether 0.5 is the test split's true share of positives."""
    wanted = metric or METRIC
    curve_rows_pending = client.submit(
        client.experiment_metrics, experiment_id, split=split, metric=wanted, max_points=MAX_POINTS
    )
    ends = client.experiment_metrics(experiment_id, max_points=2)
    options = classes.options(ends)
    chosen = classes.pick(options, runs, wanted) if options else METRIC
    curve_rows = (
        curve_rows_pending.result()
        if chosen == wanted
        else client.experiment_metrics(experiment_id, split=split, metric=chosen, max_points=MAX_POINTS)
    )
    curves = curves_for(curve_rows, runs)
    varying = sweep.varying_params(runs)
    if options:  # realised vs intended is a two-class readout
        effect: dict = {"why": classes.BINARY_ONLY}
    elif "class_weights" in varying and analysis.WEIGHT not in varying:
        # every run has pos_weight 1: the panel would pool weighted and unweighted runs as "w = 1"
        effect = {"why": classes.BY_POS_WEIGHT}
    else:
        realised = (
            curve_rows
            if split == SPLIT
            else client.experiment_metrics(experiment_id, split=SPLIT, metric=METRIC, max_points=MAX_POINTS)
        )
        effect = analysis.effect_by_epoch(runs, realised, reference_rows(client, experiment_id, runs))
    return {
        "split": split,
        "metric": chosen,
        "true_share": 0.5 if chosen == METRIC and strip.balanced_test(spec or {}) else None,
        "metric_options": options,
        "splits": sorted({r["split"] for r in ends if r["metric"] == chosen}),
        "curves": curves,
        "spread": analysis.spread_curves(runs, dict(enumerate(curves))),
        "fit_epoch": analysis.median_fit_epoch({r["id"]: r.get("fit_epoch") for r in runs}),
        "effect": effect,
        "empty": strip.empty_reason(runs, "a metric"),
    }


def reference_rows(client: ApiClient, experiment_id: int, runs: list[dict]) -> list[dict]:
    """The unweighted runs' rows of the best reference they recorded, for the swept weights (only
    they carry `<reference>@w`). Every epoch, not thinned: at each epoch the panel shows, the
    reference is then either there or missing for a reason."""
    if not any(r["params"].get(analysis.WEIGHT) == 1.0 for r in runs):
        return []
    weights = sorted({float(w) for r in runs if (w := r["params"].get(analysis.WEIGHT)) is not None})
    for prefix in analysis.REFERENCE_NAMES:
        parts = client.map(
            lambda w, p=prefix: client.experiment_metrics(experiment_id, split=SPLIT, metric=f"{p}@{w:g}"), weights
        )
        if rows := [row for part in parts for row in part]:
            return rows
    return []


def slim(runs: list[dict]) -> list[dict]:
    """What the browser keeps of each run (the store travels with every callback): the swept
    parameters, not all forty."""
    keep = {"pos_weight", "seed", *sweep.varying_params(runs)}
    fields = ("id", "index", "status", "epochs", "epochs_done", "fit_epoch", "finished_at")
    return [
        {**{f: r.get(f) for f in fields}, "params": {k: v for k, v in r["params"].items() if k in keep}} for r in runs
    ]


class FinishedCache:
    """Answers computed from finished runs, which never change again: a reload, or switching back to
    a split, draws at once instead of refetching and re-aggregating ~10^4 metric rows. The key holds
    every run's finish time, so a retried run that finishes again is computed afresh."""

    def __init__(self, size: int = 32):
        self._items: OrderedDict[tuple, dict] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    @staticmethod
    def key(runs: list[dict], *extra) -> tuple | None:
        """None (do not cache) while any run (or panel: its run) is unfinished."""
        if not runs or any(r["status"] not in FINISHED for r in runs):
            return None
        return (*extra, tuple((r.get("run_id", r.get("id")), r.get("finished_at")) for r in runs))

    def get(self, key: tuple | None, compute):
        if key is None:
            return compute()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


# Finished experiments: their data (FIGURES), and the figures as Plotly JSON (BOUNDARIES, VIEWS): building
# and validating plotly objects took half of a warm 100-run page's server time (bench/dashboard.py)
FIGURES, BOUNDARIES, VIEWS = FinishedCache(), FinishedCache(), FinishedCache()


def figures_cached(
    client: ApiClient,
    experiment_id: int,
    runs: list[dict],
    split: str,
    metric: str | None = None,
    spec: dict | None = None,
) -> dict:
    key = FinishedCache.key(runs, client.api_url, experiment_id, split, metric)  # the id stands for the spec
    return FIGURES.get(key, lambda: figures_for(client, experiment_id, runs, split, metric, spec))

"""Dashboard benchmark (issue 6): how soon the experiment page of a 100-run x 1,000-epoch sweep is
interactive in a real headless Chromium, and how many bytes it pulls.

    PYTHONPATH=. nice python bench/dashboard.py [--repeats 3]

Seeds a throwaway SQLite home through the real store (`store.create_experiment`, `record_epochs`,
`save_grid`): one experiment of 10 weights x 10 seeds x 1,000 epochs (test/ood frac_pred_pos,
train/test acc, train loss, the unweighted runs' intended effects, 24 boundary frames of 64 x 64
per run: ~0.6 M metric rows) and, as the baseline in the same process, one of 3 weights x 2 seeds x
60 epochs. Starts `iwlab api` and `iwlab dashboard` (no worker: the runs are already done), then
per repeat opens each page in a fresh browser context, cold then warm (a reload), and stops the
clock when the boundary panels, the curves, the spread and the effect figures have all drawn.
Median of `--repeats`. Prints a table and writes bench/results/dashboard.json. Target: < 1.5 s
for the 100-run page.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend import store  # noqa: E402
from backend.db import session_scope  # noqa: E402
from backend.migrate import upgrade  # noqa: E402
from backend.models import Run  # noqa: E402
from tests.services import CHROMIUM_ARGS, find_chromium, free_port, wait_for_http  # noqa: E402
from worker.engine.spec import ExperimentSpec  # noqa: E402

IWLAB = str(Path(sys.executable).with_name("iwlab"))
TARGET_S = 1.5
GRID = 64
# the page is interactive once every figure has drawn its data (trace roles from frontend/components/figures.py)
READY = """n => {
  const count = (id, role) => { const g = document.querySelector(`#${id} .js-plotly-plot`);
    return g && g.data ? g.data.filter(t => t.meta && t.meta.role === role).length : 0; };
  return count('boundary-graph', 'heatmap') === n && count('curve-graph', 'mean') === n
    && count('spread-graph', 'spread') > 0 && count('effect-graph', 'realised') > 0
    && !!document.querySelector('#epoch-slider [role=slider]');
}"""


def frac(weight: float, epoch: int, seed: int) -> float:
    """The paper's shape: the weight's effect fades as the training set is fit."""
    noise = random.Random(seed * 7919 + epoch).gauss(0, 0.01)
    return min(1.0, max(0.0, 0.5 + 0.25 * math.tanh(math.log(weight)) * math.exp(-epoch / 150) + noise))


def seed_experiment(db_url: str, weights: list[float], seeds: int, epochs: int) -> tuple[int, int]:
    spec = ExperimentSpec(
        name=f"bench {len(weights) * seeds} runs x {epochs} epochs",
        base={"model": "logreg", "epochs": epochs, "grid": GRID},
        sweep={"pos_weight": weights, "seed": list(range(seeds))},
    )
    frame_epochs = sorted({0, epochs, *(int(round(epochs ** (k / 23))) for k in range(24))})
    xs = list(np.linspace(-3, 3, GRID))
    yy, xx = np.meshgrid(np.linspace(-3, 3, GRID), np.linspace(-3, 3, GRID), indexing="ij")
    with session_scope(db_url) as s:
        exp = store.create_experiment(s, spec)
        runs = [(r.id, r.params) for r in exp.runs]
        exp_id = exp.id
    for run_id, params in runs:
        w, seed = params["pos_weight"], params["seed"]
        records = []
        for e in range(epochs + 1):
            f = frac(w, e, seed)
            metrics = {"test": {"frac_pred_pos": f, "acc": 1 - abs(f - 0.5)}, "ood": {"frac_pred_pos": 1 - f},
                       "train": {"acc": min(1.0, 0.8 + e / 500), "loss": 1 / (1 + e)}}  # fmt: skip
            if w == 1:
                metrics["test"] |= {f"intended_frac_pos@{v:g}": frac(v, 0, seed) for v in weights}
            boundary = 1 / (1 + np.exp(-(xx + yy - 2 * (f - 0.5)))) if e in frame_epochs else None
            records.append(SimpleNamespace(epoch=e, metrics=metrics, boundary=boundary))
        with session_scope(db_url) as s:
            store.save_grid(s, run_id, xs, xs, [(-1.0, -1.0, 0), (1.0, 1.0, 1)])
            store.record_epochs(s, run_id, records)
            run = s.get_one(Run, run_id)
            run.status, run.worker = "succeeded", "bench"
    return exp_id, len(weights)


def measure(base: str, exp_id: int, panels: int, repeats: int) -> dict:
    """Per repeat, a fresh browser context: a cold load (empty cache: Plotly's 4.8 MB of JS is
    fetched and parsed) and then a warm one (a reload, as a returning user sees it)."""
    from playwright.sync_api import sync_playwright

    runs: dict[str, list] = {"cold": [], "warm": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            for _ in range(repeats):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                for kind in ("cold", "warm"):
                    sizes: list[tuple[str, int]] = []

                    def record(req, sizes=sizes):
                        sizes.append((req.url, req.sizes()["responseBodySize"]))

                    page.on("requestfinished", record)
                    start = time.perf_counter()
                    page.goto(f"{base}/experiments/{exp_id}")
                    page.wait_for_function(READY, arg=panels, timeout=120_000, polling=50)
                    seconds = time.perf_counter() - start
                    page.remove_listener("requestfinished", record)
                    data = sum(n for url, n in sizes if "_dash-update-component" in url)  # callbacks' JSON, not JS/CSS
                    runs[kind].append((seconds, sum(n for _, n in sizes), data))
                context.close()
        finally:
            browser.close()
    return {
        kind: {"seconds": statistics.median(t for t, _, _ in rows), "all_seconds": [round(t, 3) for t, _, _ in rows],
               "payload_bytes": int(statistics.median(b for _, b, _ in rows)), "data_bytes": int(statistics.median(d for _, _, d in rows))}
        for kind, rows in runs.items()
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k not in ("IWLAB_DATABASE_URL", "IWLAB_BROKER_URL")} | {
            "IWLAB_HOME": str(home)
        }
        db_url = f"sqlite:///{home / 'iwlab.db'}"
        upgrade(db_url)
        t = time.perf_counter()
        big = seed_experiment(db_url, [2.0**k for k in range(-5, 5)], 10, 1000)
        small = seed_experiment(db_url, [0.1, 1.0, 10.0], 2, 60)
        print(f"seeded in {time.perf_counter() - t:.0f} s")
        api_port, dash_port = free_port(), free_port()
        api_url, base = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{dash_port}"
        logs = [open(home / n, "w") for n in ("api.log", "dashboard.log")]  # noqa: SIM115 open while the servers run
        procs = [
            subprocess.Popen(
                [IWLAB, "api", "--host", "127.0.0.1", "--port", str(api_port)],
                env=env,
                stdout=logs[0],
                stderr=subprocess.STDOUT,
            ),
            subprocess.Popen(
                [IWLAB, "dashboard", "--host", "127.0.0.1", "--port", str(dash_port), "--api-url", api_url],
                env=env,
                stdout=logs[1],
                stderr=subprocess.STDOUT,
            ),
        ]
        try:
            wait_for_http(f"{api_url}/api/v1/health", timeout=60)
            wait_for_http(base + "/", timeout=60)
            measure(base, small[0], small[1], 1)  # warm-up: imports, Dash's JS bundles
            results = {
                "small_6x60": measure(base, *small, args.repeats),
                "big_100x1000": measure(base, *big, args.repeats),
            }
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
    print(f"\n{'experiment page':<32}{'load':>6}{'interactive (s)':>17}{'all bytes (KB)':>16}{'data (KB)':>11}")
    for name, label in (("small_6x60", "6 runs x 60 epochs (baseline)"), ("big_100x1000", "100 runs x 1,000 epochs")):
        for kind in ("cold", "warm"):
            r = results[name][kind]
            print(
                f"{label:<32}{kind:>6}{r['seconds']:>17.2f}{r['payload_bytes'] / 1024:>16.0f}{r['data_bytes'] / 1024:>11.0f}"
            )
    big_r, small_r = results["big_100x1000"]["warm"], results["small_6x60"]["warm"]
    ratio = big_r["seconds"] / small_r["seconds"]
    verdict = "meets" if big_r["seconds"] < TARGET_S else "MISSES"
    print(
        f"\nwarm 100-run page / warm baseline: {ratio:.2f}x time, {big_r['data_bytes'] / small_r['data_bytes']:.1f}x data bytes; {verdict} the {TARGET_S} s target"
    )
    out = ROOT / "bench" / "results" / "dashboard.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({
        "results": results, "ratio_time": ratio, "target_seconds": TARGET_S, "repeats": args.repeats,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus", "python": platform.python_version(),
    }, indent=2) + "\n")  # fmt: skip
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Regenerate docs/reproduction.md from the presets' quick variants, run for real.

    python scripts/reproduction.py --run [PRESET ...]   train the quick variants (default: all of them),
                                                       write each one's report under docs/reproduction/NAME/
                                                       (report.md, figures, runs.csv, checks.json),
                                                       then rewrite docs/reproduction.md
    python scripts/reproduction.py                      only rewrite docs/reproduction.md from the saved checks.json

CIFAR presets read the images from --cifar PATH (default: IWLAB_TEST_CIFAR, else ../shared/data/
cifar10-jpeg.tar.gz beside the checkout, else IWLAB_DATASETS); a preset whose data are missing is
skipped with a message and keeps its earlier checks.json. `make reproduction` runs `--run` on all.

Each check's measured value is the check's own (docs/science.md): statistical checks carry their n and
95% interval in it. Beside the checks, every preset gets the per-repeat spread across weights (each
seed, or data seed, is one paired measurement: its runs share initialisation and batch order) at
epoch 1 and at the end, mean with its 95% t-interval and n, per arm. "Where the tool's answer differs
from the paper's" lists, with the data, every check not met, every quick variant that is only an
illustration, and every open question whose measured answer is not the paper's.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.engine import presets, stats  # noqa: E402
from worker.engine.outcome import Outcome, evaluate, spread  # noqa: E402

DOC = ROOT / "docs" / "reproduction.md"
FOLDER = ROOT / "docs" / "reproduction"
# the paper's answer to an open question the presets measure (the claim text of base.arm_difference
# and base.arm_spread), as the words those checks answer with
PAPER_ANSWERS = {"does BatchNorm keep the weights' effect": ("more", "kept")}


def cifar_path(given: str | None) -> str | None:
    for candidate in (given, os.environ.get("IWLAB_TEST_CIFAR"), str(ROOT.parent / "shared/data/cifar10-jpeg.tar.gz")):
        if candidate and Path(candidate).exists():
            return candidate
    return None  # the engine then looks in IWLAB_DATASETS


def repeat_spreads(outcome: Outcome, epoch: int | str) -> list[float]:
    """Per repeat (seed, data_seed), the spread across weights of the final test frac_pred_pos."""
    per: dict[tuple[int, int], list[float]] = defaultdict(list)
    for spec, history in outcome.runs:
        per[(spec.seed, spec.data_seed)].append(outcome.value(history, epoch, "test", "frac_pred_pos"))
    return [spread(v) for v in per.values()]


def intervals(spec, outcome: Outcome) -> list[dict]:
    from backend.cli.report import arm_groups

    rows = []
    for label, sub in arm_groups(spec, outcome)[1].items():
        if len({s.pos_weight for s, _ in sub.runs}) < 2:
            continue
        for epoch in (1, "end"):
            ci = stats.mean_interval(repeat_spreads(sub, epoch), (0.0, 1.0))
            rows.append({"arm": label, "epoch": epoch, "n": ci.n, "mean": ci.mean, "low": ci.low, "high": ci.high})
    return rows


def run_one(preset: presets.Preset, cifar: str | None, device: str) -> dict:
    from backend.cli.report import write_report
    from worker.engine.export import write_results

    spec = preset.quick
    if preset.needs == "cifar10" and cifar:
        spec = spec.model_copy(update={"base": spec.base.model_copy(update={"data_path": cifar})})
    out = FOLDER / preset.name
    with tempfile.TemporaryDirectory() as scratch:
        started = time.monotonic()
        _, outcome = write_results(spec, Path(scratch), device=device)
        seconds = time.monotonic() - started
        results = evaluate(preset.checks(quick=True), outcome)
        if out.exists():
            shutil.rmtree(out)
        write_report(spec, outcome, out, seconds, preset, results)
        # metrics.csv and summary.csv are large (17 MB for a 3,000-epoch sweep): `iwlab run` regenerates them
        shutil.copy(Path(scratch) / "runs.csv", out / "runs.csv")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    record = {
        "name": preset.name,
        "runs": len(outcome.runs),
        "epochs": spec.base.epochs,
        "seconds": round(seconds, 1),
        "load": round(load, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {device}",
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "checks": [{"claim": c, "met": ok, "measured": m} for c, ok, m in results],
        "intervals": intervals(spec, outcome),
    }
    (out / "checks.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def _ci(row: dict) -> str:
    if row["n"] < 2:
        return f"{row['mean']:.3f} (n = {row['n']}: no interval)"
    return f"{row['mean']:.3f} [{row['low']:.3f}, {row['high']:.3f}] (n = {row['n']})"


def differences(preset: presets.Preset, record: dict) -> list[str]:
    """Where the tool's answer is not the paper's, each with its data."""
    out = []
    for c in record["checks"]:
        if not c["met"]:
            out.append(f"`{preset.name}`: not met: {c['claim']}: measured {c['measured']}")
        for question, paper in PAPER_ANSWERS.items():
            if not (c["claim"].startswith(question) and c["met"]):
                continue
            if not c["measured"].split(": ")[1].startswith(paper):
                out.append(f"`{preset.name}`: {question}? The paper: yes. Measured: {c['measured']}")
            elif "not every run fit" in c["measured"]:
                out.append(
                    f"`{preset.name}`: {question}? The paper: yes; measured the same, but before every run fit: "
                    f"{c['measured']}"
                )
    if preset.quick_is_illustration:
        out.append(
            f"`{preset.name}`: the quick variant is an illustration; it cannot test the claim at CPU size "
            f"(the claim: {preset.claim}). The full variant's checks: {'; '.join(c.claim for c in preset.expected)}"
        )
    return out


def weight_acts_smaller(name: str) -> bool:
    """Whether the preset's saved runs.csv has a run whose effective positive-class weight is not its
    nominal one (pos_weight ** weight_power): minibatches under `loss_norm: sum` (docs/readouts.md)."""
    path = FOLDER / name / "runs.csv"
    if not path.exists():
        return False
    with path.open() as f:
        return any(
            row.get("effective_pos_weight")
            and abs(float(row["effective_pos_weight"]) / float(row["pos_weight"]) ** float(row["weight_power"]) - 1)
            > 1e-6
            for row in csv.DictReader(f)
        )


def write_doc(records: dict[str, dict]) -> None:
    lines = [
        "# Reproducing Byrd & Lipton (2019) with iwlab",
        "",
        "Written by `scripts/reproduction.py` (`make reproduction`) from the quick variant of each preset, trained "
        "for real; do not edit by hand. Each folder under `docs/reproduction/` holds that preset's `report.md` "
        "(settings, nominal and effective weights, seed means with 95% intervals, paired comparisons, figures), "
        "`runs.csv` and `checks.json` (`iwlab run --preset NAME --quick` writes the per-epoch `metrics.csv` and `summary.csv`). The same checks run in CI (`tests/worker/test_presets.py`).",
        "",
        "**Spread** is the spread across weights (max - min) of test `frac_pred_pos`, the fraction of a balanced "
        "test set predicted as the positive class, the one whose weight varies. A check reads the spread of the "
        "seed means; the interval columns give the spread of each repeat (seed, or data seed) on its own, "
        "mean [95% t-interval] (n): the repeats' runs share initialisation and batch order, so each repeat's "
        "spread is one paired measurement. Presets that compare with a paper use its normalisation of the "
        "weighted loss (`loss_norm: mean` for Byrd & Lipton and Wang et al.; docs/readouts.md) where their checks "
        "hold under it; the ones that do not are named at the end.",
        "",
    ]
    missing = [name for name in presets.PRESETS if name not in records]
    if missing:
        lines += [f"Not yet run with this script: {', '.join(missing)}.", ""]
    gaps = []
    for name, preset in presets.PRESETS.items():
        record = records.get(name)
        if record is None:
            continue
        met = sum(c["met"] for c in record["checks"])
        lines += [
            f"## [{name}](reproduction/{name}/report.md): {preset.title}",
            "",
            f"{record['runs']} runs, {record['epochs']} epochs, {record['seconds']:.0f} s on {record['machine']} "
            f"(load average {record['load']}), {record['date']}; {met} of {len(record['checks'])} checks met"
            + (" (an illustration: the full variant carries the claim)" if preset.quick_is_illustration else "")
            + ".",
            "",
            "| check | measured | met |",
            "| --- | --- | --- |",
            *(f"| {c['claim']} | {c['measured']} | {'yes' if c['met'] else '**no**'} |" for c in record["checks"]),
            "",
        ]
        if record["intervals"]:
            lines += ["| arm | per-repeat spread at epoch 1 | at the end |", "| --- | --- | --- |"]
            by_arm: dict[str, dict] = defaultdict(dict)
            for row in record["intervals"]:
                by_arm[row["arm"]][str(row["epoch"])] = row
            lines += [f"| {arm} | {_ci(r['1'])} | {_ci(r['end'])} |" for arm, r in by_arm.items()]
            lines.append("")
        gaps += differences(preset, record)
    lines += ["## Where the tool's answer differs from the paper's", ""]
    lines += [f"- {g}" for g in gaps] if gaps else ["Nowhere in the presets run."]
    summed = [n for n in records if weight_acts_smaller(n)]
    lines += [
        "",
        "Normalisation: in these quick variants a weight acts smaller than its nominal value (minibatches "
        "under the engine's `loss_norm: sum`; each run's `effective_pos_weight` is in its report): "
        + (", ".join(f"`{n}`" for n in summed) or "none")
        + ". Where such a preset compares with a paper that uses the `mean` form, its checks under `mean` "
        "failed or were not re-run; the measurements are in the comments of `worker/engine/presets/`.",
    ]
    lines += [
        "",
        "Measurements made by hand before this script (under the engine's default `loss_norm: sum`), and what "
        "they taught the presets' settings, are kept in [reproduction/history.md](reproduction/history.md).",
        "",
    ]
    DOC.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="presets to run (default: all)")
    parser.add_argument("--run", action="store_true", help="train the quick variants first")
    parser.add_argument("--cifar", help="CIFAR-10 images (official archive or JPEG tree / .tar.gz)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in presets.PRESETS]
    if unknown:
        parser.error(f"no preset {', '.join(unknown)}; choose from {', '.join(presets.PRESETS)}")
    if args.run:
        cifar = cifar_path(args.cifar)
        for name in args.names or list(presets.PRESETS):
            preset = presets.get(name)
            try:
                record = run_one(preset, cifar, args.device)
            except Exception as err:  # noqa: BLE001 - one preset's missing data must not stop the others
                print(f"{name}: not run: {err}", file=sys.stderr)
                continue
            met = sum(c["met"] for c in record["checks"])
            print(f"{name}: {met}/{len(record['checks'])} checks met in {record['seconds']:.0f} s", flush=True)
    records = {}
    for path in sorted(FOLDER.glob("*/checks.json")):
        record = json.loads(path.read_text())
        if record["name"] in presets.PRESETS:
            records[record["name"]] = record
    write_doc(records)
    print(f"wrote {DOC.relative_to(ROOT)} ({len(records)} presets)")


if __name__ == "__main__":
    main()

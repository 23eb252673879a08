"""A preset's verdict on an experiment: the preset's expected outcomes, measured on the runs that
have succeeded so far, as `iwlab run --preset` prints them (worker/engine/outcome.py evaluates
them). An experiment has a verdict when its spec is a preset's quick or full variant; its checks are
code, so the dashboard asks the API for them rather than computing them itself.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from worker.engine import calibration
from worker.engine.outcome import Outcome, evaluate
from worker.engine.presets import PRESETS, Preset
from worker.engine.spec import ExperimentSpec, RunSpec

from . import store
from .models import Experiment
from .status import ACTIVE, RunStatus


class CheckResult(BaseModel):
    claim: str
    met: bool | None  # None: not measurable on the runs finished so far
    measured: str
    n: int | None = None  # seeds (or pairs) behind the interval; None: the check reads one number
    interval: tuple[float, float] | None = None  # 95% t-interval; None: none computed

    @classmethod
    def of(cls, claim: str, met: bool | None, measured: str) -> CheckResult:
        """The check's text, with the count and interval it carries (stats.Measured) where it has them."""
        n, interval = getattr(measured, "n", None), getattr(measured, "interval", None)
        if n is None or interval is None or not all(math.isfinite(v) for v in interval):  # one number, or n < 2
            return cls(claim=claim, met=met, measured=str(measured))
        return cls(claim=claim, met=met, measured=str(measured), n=n, interval=(float(interval[0]), float(interval[1])))


class Shift(BaseModel):
    """One cell of `l2-calibration`'s table: a weight's realised and intended boundary shift at an L2."""

    weight_decay: float
    weight: float
    realised: float
    intended: float


class Verdict(BaseModel):
    experiment_id: int
    preset: str | None  # None: the spec is no preset's (it has no expected outcomes)
    variant: str | None  # quick | full
    title: str | None = None
    runs_total: int
    runs_measured: int  # the succeeded runs the checks read
    final: bool  # every run has finished: the verdict no longer changes
    checks: list[CheckResult] = []
    note: str | None = None
    calibration: list[Shift] | None = (
        None  # an L2 x weight sweep with a known intended shift (worker/engine/calibration.py)
    )


def preset_of(spec: dict) -> tuple[Preset, str] | None:
    """The preset whose quick or full variant this spec is (the name may differ)."""
    try:
        mine = ExperimentSpec.model_validate(spec).model_dump(mode="json", exclude={"name"})
    except ValidationError:
        return None
    for preset in PRESETS.values():
        for variant in ("quick", "full"):
            if preset.spec(variant == "quick").model_dump(mode="json", exclude={"name"}) == mine:
                return preset, variant
    return None


def verdict(session: Session, exp: Experiment) -> Verdict:
    runs = sorted(exp.runs, key=lambda r: r.index)
    done = [r for r in runs if r.status == RunStatus.SUCCEEDED]
    final = all(r.status not in ACTIVE for r in runs)
    found = preset_of(exp.spec)
    head: dict[str, Any] = {
        "experiment_id": exp.id,
        "runs_total": len(runs),
        "runs_measured": len(done),
        "final": final,
    }
    if found is None:
        return Verdict(
            **head, preset=None, variant=None, note="this spec is no preset's variant: it states no expected outcomes"
        )
    preset, variant = found
    head |= {"preset": preset.name, "variant": variant, "title": preset.title}
    if not preset.expected:
        return Verdict(**head, note="this preset states no expected outcomes")
    if not done:
        checks = [CheckResult(claim=c.claim, met=None, measured="no run has finished yet") for c in preset.expected]
        return Verdict(**head, checks=checks)
    histories: dict[int, dict] = {r.id: defaultdict(lambda: defaultdict(dict)) for r in done}
    for run_id, epoch, split, name, value in store.metric_rows(session, [r.id for r in done], None, None):
        histories[run_id][epoch][split][name] = value
    outcome = Outcome()
    for r in done:
        outcome.add(RunSpec.model_validate(r.params), dict(sorted(histories[r.id].items())))
    return Verdict(
        **head, checks=[measure(check, outcome) for check in preset.expected], calibration=shifts(exp.spec, outcome)
    )


def shifts(spec: dict, outcome: Outcome) -> list[Shift] | None:
    """The calibration table once every L2 has its unweighted run (the reference); None otherwise."""
    if not calibration.applies(ExperimentSpec.model_validate(spec)):
        return None
    try:
        table = calibration.shift_table(outcome)
    except (KeyError, ValueError, IndexError):  # an L2 whose w = 1 run has not finished: no reference yet
        return None
    return [
        Shift(weight_decay=wd, weight=w, realised=r, intended=i)
        for wd, row in table.items()
        for w, (r, i) in row.items()
        if math.isfinite(r) and math.isfinite(i)
    ]


def measure(check, outcome: Outcome) -> CheckResult:
    """One check; a readout the finished runs cannot give yet (a missing arm, no metric) is said so."""
    try:
        claim, ok, measured = evaluate([check], outcome)[0]
    except (ValueError, KeyError, ZeroDivisionError, StopIteration) as err:
        return CheckResult(claim=check.claim, met=None, measured=f"not measurable yet ({type(err).__name__}: {err})")
    if any(_is_nan(part) for part in measured.split()):
        return CheckResult(claim=claim, met=None, measured=f"{measured} (undefined on the runs finished so far)")
    return CheckResult.of(claim, bool(ok), measured)


def _is_nan(text: str) -> bool:
    try:
        return math.isnan(float(text.strip(",[]()")))
    except ValueError:
        return False

"""The paper's one-click reproductions (`worker.engine.presets`): what each claims, where it comes
from, and the quick and full experiment specs to POST to `/experiments`.

`worker.engine.presets` imports only the pydantic specs and the outcome checks, never torch.
"""

from math import prod

from fastapi import APIRouter

from worker.engine.presets import PRESETS, Preset
from worker.engine.spec import ExperimentSpec

from ..datasets import downloaded
from .deps import SettingsDep

router = APIRouter(tags=["presets"])


def _variant(spec: ExperimentSpec) -> dict:
    return {
        "runs": prod(len(v) for v in spec.sweep.values()),
        "epochs": spec.base.epochs,
        "spec": spec.model_dump(mode="json"),
    }


def describe(preset: Preset, present: dict[str, bool] | None = None) -> dict:
    return {
        "needs_met": preset.needs is None or (present or {}).get(preset.needs, False),
        "name": preset.name,
        "title": preset.title,
        "claim": preset.claim,
        "source": preset.source,
        "needs": preset.needs,
        "tags": list(preset.tags),
        "expected": [check.claim for check in preset.expected],
        "quick": _variant(preset.quick),
        "full": _variant(preset.full),
    }


@router.get("/presets")
def presets(settings: SettingsDep) -> list[dict]:
    """Every preset, in the order the paper tells the story (synthetic first, CIFAR-10 last);
    `needs_met`: its data set is downloaded (see the catalog's `downloaded`)."""
    present = downloaded(settings)
    return [describe(p, present) for p in PRESETS.values()]

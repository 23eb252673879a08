"""What can be run: the run parameters with their types, limits and defaults, for forms and clients."""

from fastapi import APIRouter

from worker.engine.spec import MAX_RUNS_PER_EXPERIMENT, ExperimentSpec, RunSpec

from ..datasets import downloaded
from .deps import SettingsDep

router = APIRouter(tags=["catalog"])


@router.get("/catalog")
def catalog(settings: SettingsDep) -> dict:
    return {
        "downloaded": downloaded(settings),  # whether `iwlab data download NAME` has been done
        "run": RunSpec.model_json_schema(),
        "experiment": ExperimentSpec.model_json_schema(),
        "defaults": ExperimentSpec().model_dump(mode="json"),
        "limits": {"runs_per_experiment": MAX_RUNS_PER_EXPERIMENT},
    }

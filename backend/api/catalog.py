"""What can be run: the run parameters with their types, limits and defaults, for forms and clients."""

from fastapi import APIRouter

from backend.status import RunStatus
from worker.engine import form
from worker.engine.spec import MAX_RUNS_PER_EXPERIMENT, ExperimentSpec, RunSpec

from ..datasets import downloaded
from .deps import SettingsDep

router = APIRouter(tags=["catalog"])


@router.get("/catalog")
def get_catalog(settings: SettingsDep) -> dict:
    """The run parameters, and which downloadable data sets are there (`iwlab data download NAME`)."""
    return catalog() | {"downloaded": downloaded(settings)}


def catalog() -> dict:
    return {
        # with each parameter's form metadata (x-form): the dashboard builds its form from this alone
        "run": form.annotate(RunSpec.model_json_schema()),
        "experiment": ExperimentSpec.model_json_schema(),
        "defaults": ExperimentSpec().model_dump(mode="json"),
        "limits": {"runs_per_experiment": MAX_RUNS_PER_EXPERIMENT},
        # in lifecycle order; `terminal`: finished, as the dashboard's progress and polling read it
        "statuses": [{"name": s.value, "terminal": s.terminal} for s in RunStatus],
    }

from importlib.metadata import version

from fastapi import APIRouter

from .. import store
from ..schemas import Health
from .deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(session: SessionDep) -> Health:
    return Health(status="ok", database=store.ping(session), version=version("iwlab"))

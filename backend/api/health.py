from importlib.metadata import version

from fastapi import APIRouter
from sqlalchemy import text

from ..schemas import Health
from .deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(session: SessionDep) -> Health:
    session.execute(text("select 1"))
    return Health(status="ok", database=session.get_bind().dialect.name, version=version("iwlab"))

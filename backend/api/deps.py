"""Typed dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session

from ..db import get_sessionmaker
from ..settings import Settings


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    """Routes that write call `commit()` themselves; anything uncommitted is rolled back on close."""
    with get_sessionmaker(settings.db_url)() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


# ids and epochs are 32-bit integer columns: a larger number is a 422 naming the parameter, not a
# database overflow (500)
INT32 = 2**31 - 1
ExperimentId = Annotated[int, Path(ge=1, le=INT32)]
RunId = Annotated[int, Path(ge=1, le=INT32)]
Epoch = Annotated[int, Path(ge=0, le=INT32)]
# metric and split names are short identifiers; anything else (say, a NUL byte that Postgres
# refuses) is a 422 rather than a database error
MetricFilter = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")]

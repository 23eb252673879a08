"""Typed dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
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

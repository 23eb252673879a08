"""Typed dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from .. import auth
from ..db import get_sessionmaker
from ..models import User
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
MetricFilter = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.@-]*$")]  # "@": bayes_frac_pos@10
# curves for a plot: at most this many epochs per series (first and last kept); omitted = every epoch
MaxPoints = Annotated[int | None, Query(ge=2, le=100_000, description="at most this many epochs per series, for plots")]


bearer = HTTPBearer(auto_error=False, description="an API token from `iwlab token create`")


def current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """Lab mode: the token's user, or 401. Embedded mode: the single local user, no token needed.
    Then the rate limit, keyed on who it is (or the address, for a request refused here)."""
    user: User | None
    if not settings.auth_required:
        user = auth.local_user(session)  # created (and committed) by the first request
    else:
        user = auth.user_for_token(session, credentials.credentials) if credentials else None
    # End the lookup's transaction: its connection goes back to the pool while the request waits for
    # a thread to run the route on. Held instead, 100 waiting requests held every connection and the
    # running ones timed out waiting for one (bench/load.py).
    session.commit()
    request.app.state.rate_limiter.check(request, user.id if user is not None else None)
    if user is None:
        detail = (
            "invalid or revoked API token" if credentials else "an API token is required (Authorization: Bearer ...)"
        )
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_change(user: User, owner_id: int | None, what: str) -> None:
    if not auth.may_change(user, owner_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"only the owner of {what} or an admin may change it")

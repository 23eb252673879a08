"""FastAPI app factory: every route lives under /api/v1."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from . import store
from .api import catalog, datasets, experiments, exports, health, presets, runs, users, workers
from .api.access_log import AccessLog
from .api.deps import current_user
from .api.errors import validation_error
from .api.limits import BodyLimit
from .api.ratelimit import RateLimiter
from .api.responses import AUTHENTICATED, documented
from .lifecycle import Conflict
from .logs import configure
from .maintenance import MaintenanceLoop
from .migrate import upgrade
from .settings import Settings, get_settings

PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        upgrade(settings.db_url)
        loop = MaintenanceLoop(settings).start()
        try:
            yield
        finally:
            loop.stop()

    app = FastAPI(
        title="iwlab",
        summary="Importance-weighting experiments: submit sweeps, follow their runs epoch by epoch.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(settings)  # applied after authentication (api/deps.py)
    api = APIRouter(prefix=PREFIX)
    api.include_router(
        health.router, responses=documented(503)
    )  # the one route open without a token (probes, load balancers)
    for module in (catalog, presets, experiments, runs, exports, users, workers, datasets):
        api.include_router(module.router, dependencies=[Depends(current_user)], responses=AUTHENTICATED)
    app.include_router(api)
    # the last added runs first: log every answer, then refuse oversized bodies
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, exempt=(datasets.UPLOAD_PATH,))
    app.add_middleware(AccessLog)

    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]  # Starlette types handlers for Exception, not a subclass

    @app.exception_handler(store.NotFound)
    async def not_found(_request: Request, exc: store.NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(Conflict)
    async def conflict(_request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # the database is restarting, unreachable or saturated: the pool reconnects (pre-ping) once it is back
        return JSONResponse(
            {"detail": "database unavailable; retry shortly"}, status_code=503, headers={"Retry-After": "5"}
        )

    return app


def serve() -> FastAPI:
    """The factory of `iwlab api --workers N`: each process reads its settings from the environment
    and sets up its own logs."""
    settings = get_settings()
    configure(settings)
    return create_app(settings)

"""One settings object for every process; each field reads `IWLAB_<NAME>` from the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IWLAB_", env_file=".env", extra="ignore")

    home: Path = Field(Path(".iwlab"), description="state directory of the embedded stack")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite in the state dir")
    broker_url: str | None = Field(None, description="Celery broker; default: filesystem queue in the state dir")
    device: str = Field("auto", description="auto | cpu | cuda")
    threads: int = Field(
        1,
        ge=0,
        description="torch threads per training process on the CPU (0: torch's default); run more workers instead",
    )
    api_url: str = Field("http://127.0.0.1:8000", description="where the dashboard and the CLI find the API")
    host: str = "127.0.0.1"
    api_port: int = 8000
    dashboard_port: int = 8050
    poll_seconds: float = Field(2.0, description="how often the dashboard refreshes while runs train")
    # run lifecycle (worker side)
    flush_seconds: float = Field(
        0.5, gt=0, description="a training run writes its epochs, heartbeat and cancel check this often"
    )
    checkpoint_seconds: float = Field(
        30.0, ge=0, description="a training run checkpoints at the first flush this long after its last one"
    )
    batch_runs: int = Field(
        32,
        ge=1,
        le=1024,
        description="a worker trains up to this many queued runs of one experiment as one batched program when they share data and model (1: one run per task)",
    )
    # run lifecycle (API side: the maintenance loop)
    maintenance_seconds: float = Field(
        5.0, gt=0, description="how often the API re-sends undispatched runs and looks for dead ones"
    )
    dead_after_seconds: float = Field(
        120.0, gt=0, description="a running run whose heartbeat is older than this lost its worker"
    )
    db_retry_seconds: float = Field(
        600.0, ge=0, description="a worker retries its database writes this long while the database is unreachable"
    )
    resend_after_seconds: float = Field(
        900.0,
        gt=0,
        description="a run sent this long ago and still not claimed is sent again (a broker without persistence may have lost it; the claim drops the spare copy)",
    )
    max_attempts: int = Field(
        3, ge=1, description="a run whose worker died this many times fails instead of being re-queued"
    )
    # accounts: "auto" requires a token whenever the API binds to a non-loopback address
    auth: Literal["auto", "required", "off"] = Field("auto", description="auto | required | off")
    token: str | None = Field(
        None, description="API token the CLI sends to a lab server (and the dashboard, instead of a login)"
    )
    dashboard_secret: str | None = Field(
        None, description="signs the dashboard's session cookies; unset: a random one, sessions end at restart"
    )
    # limits
    max_body_bytes: int = Field(1_000_000, ge=1024, description="larger request bodies are refused with 413")
    max_dataset_bytes: int = Field(64 * 2**20, ge=1024, description="larger dataset uploads are refused with 413")
    datasets: Path | None = Field(
        None,
        description="the worker's data folder: downloads, uploaded datasets fetched from the store, decode cache; default $IWLAB_HOME/datasets",
    )
    rate_limit_per_minute: float = Field(
        300.0,
        ge=0,
        description="mutating requests per member (or client address, without a valid token) per minute, on average; 0 = no limit",
    )
    rate_limit_storage: str | None = Field(
        None,
        description="where rate-limit counters live (a `limits` storage URL); default: the broker's Redis on a lab server, else this process's memory",
    )
    rate_limit_burst: int = Field(
        60,
        ge=1,
        description="mutating requests a member may send at once: at most this many in any burst / per-minute minutes",
    )
    # workers and queues
    worker_queues: str = Field("cpu", description="comma-separated queues a worker consumes: cpu, gpu")
    # logs
    log_level: str = Field("INFO", description="DEBUG | INFO | WARNING | ERROR")
    log_format: Literal["text", "json"] = Field("text", description="text, or json: one JSON object a line")

    @property
    def auth_required(self) -> bool:
        if self.auth == "auto":
            return self.host not in ("127.0.0.1", "localhost", "::1")
        return self.auth == "required"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'iwlab.db').resolve()}"

    @field_validator("datasets", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        return value or None  # IWLAB_DATASETS= means the default folder

    @property
    def datasets_dir(self) -> Path:
        return (self.datasets or self.home / "datasets").expanduser()

    @property
    def broker(self) -> str:
        return self.broker_url or "filesystem://"

    @property
    def broker_folder(self) -> Path:
        return (self.home / "queue").resolve()


@lru_cache
def get_settings() -> Settings:
    return Settings()

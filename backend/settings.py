"""One settings object for every process; each field reads `IWLAB_<NAME>` from the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IWLAB_", env_file=".env", extra="ignore")

    home: Path = Field(Path(".iwlab"), description="state directory of the embedded stack")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite in the state dir")
    broker_url: str | None = Field(None, description="Celery broker; default: filesystem queue in the state dir")
    device: str = Field("auto", description="auto | cpu | cuda")
    api_url: str = Field("http://127.0.0.1:8000", description="where the dashboard and the CLI find the API")
    host: str = "127.0.0.1"
    api_port: int = 8000
    dashboard_port: int = 8050
    poll_seconds: float = Field(2.0, description="how often the dashboard refreshes while runs train")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'iwlab.db').resolve()}"

    @property
    def broker(self) -> str:
        return self.broker_url or "filesystem://"

    @property
    def broker_folder(self) -> Path:
        return (self.home / "queue").resolve()


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Backend tests run twice: on the embedded SQLite file and on a real Postgres database."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import Settings


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'iwlab.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # the filesystem queue in tmp_path receives the dispatched runs; no worker consumes them here
    return Settings(home=tmp_path, database_url=db_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c

"""The test fixtures start real services: Redis answers, Postgres runs SQL, Chromium starts."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.services import free_port, wait_for


def test_free_port_is_bindable():
    import socket

    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_wait_for_times_out_naming_what():
    with pytest.raises(TimeoutError, match="the impossible"):
        wait_for(lambda: False, timeout=0.3, what="the impossible")


def test_redis_answers_ping(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        assert client.ping() is True
        client.set("iwlab:test", "1")
        assert client.get("iwlab:test") == b"1"
    finally:
        client.delete("iwlab:test")
        client.close()


def test_postgres_database_runs_sql(postgres_url):
    import sqlalchemy as sa

    assert postgres_url.startswith("postgresql+psycopg://")
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            assert conn.execute(sa.text("select current_database()")).scalar_one() == postgres_url.rsplit("/", 1)[1]
    finally:
        engine.dispose()


def test_postgres_databases_are_fresh_per_call(postgres_server):
    a, b = postgres_server.create_database(), postgres_server.create_database()
    assert a != b


def test_chromium_starts(chromium_path, chromium_args):
    assert os.access(chromium_path, os.X_OK)
    out = subprocess.run([chromium_path, "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Chromium" in out.stdout or "Chrome" in out.stdout
    assert "--headless=new" in chromium_args and "--no-sandbox" in chromium_args


def test_iwlab_home_is_isolated(iwlab_home, tmp_path):
    assert iwlab_home.is_dir() and iwlab_home.is_relative_to(tmp_path)
    assert os.environ["IWLAB_HOME"] == str(iwlab_home)

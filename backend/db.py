"""Engine and session factory. SQLite gets WAL and a busy timeout so the API and workers can share it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


@lru_cache
def get_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record):
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    # FastAPI runs sync routes on up to 40 threads and each holds one connection at a time; with fewer
    # connections than threads, threads waiting for a connection can starve the ones that would give
    # theirs back (found by bench/load.py: 200 concurrent submissions hung on the default 5 + 10).
    # pre-ping: a connection that died with a database restart is replaced, not handed to a request.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40, pool_timeout=10)


@lru_cache
def get_sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error (nothing half-written)."""
    with get_sessionmaker(url)() as session, session.begin():
        yield session

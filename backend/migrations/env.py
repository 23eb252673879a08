from alembic import context
from sqlalchemy import create_engine, pool

from backend.db import get_engine
from backend.models import Base

configured = context.config.get_main_option("sqlalchemy.url")
if configured is None:  # backend/migrate.py always sets it; a bare `alembic` call does not
    raise RuntimeError("no sqlalchemy.url: run migrations through backend.migrate, as the app does")
url: str = configured


def connectable():
    if url.startswith("sqlite"):
        # Batch mode rebuilds a SQLite table (copy, DROP, rename). With foreign keys on, that DROP
        # would cascade and delete every child row (DROP experiments -> its runs -> their metrics),
        # so migrations run on a connection of their own with foreign keys off; it is never pooled,
        # so no request ever gets a connection without them.
        engine = create_engine(url, poolclass=pool.NullPool, connect_args={"timeout": 30})
        get_engine(url)  # creates the database file's folder, as the app does
        return engine, "PRAGMA foreign_keys=OFF"
    return get_engine(url), None


if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine, pragma = connectable()
    with engine.connect() as connection:
        if pragma:
            connection.exec_driver_sql(pragma)  # before any BEGIN: SQLite ignores it inside a transaction
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()

"""The Alembic chain on SQLite (batch mode) and Postgres: upgrade a database holding 0001-era rows,
then downgrade and upgrade again."""

from alembic import command
from sqlalchemy import text

from backend.db import get_engine
from backend.migrate import alembic_config, upgrade


def test_upgrade_keeps_old_runs_and_never_resends_them_and_downgrade_round_trips(db_url):
    upgrade(db_url, "0001")
    with get_engine(db_url).begin() as conn:
        conn.execute(text("INSERT INTO experiments (id, name, spec, created_at) VALUES (1, 'old', '{}', CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO runs (id, experiment_id, \"index\", params, status, epochs_done, epochs, created_at) "
            "VALUES (1, 1, 0, '{}', 'queued', 0, 5, CURRENT_TIMESTAMP)"
        ))
    upgrade(db_url)
    with get_engine(db_url).connect() as conn:
        attempts, cancel, dispatched = conn.execute(text("SELECT attempts, cancel_requested, dispatched_at FROM runs")).one()
        owner = conn.execute(text("SELECT owner_id FROM experiments")).scalar_one()
    assert attempts == 0 and not cancel and dispatched is not None and owner is None
    command.downgrade(alembic_config(db_url), "0001")
    upgrade(db_url)
    with get_engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM runs")).scalar_one() == 1

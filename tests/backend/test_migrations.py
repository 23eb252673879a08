"""The Alembic chain on SQLite (batch mode) and Postgres: upgrade a database holding 0001-era rows,
then downgrade and upgrade again."""

from alembic import command
from sqlalchemy import text

from backend.db import get_engine
from backend.migrate import alembic_config, upgrade


def test_upgrade_keeps_old_runs_and_never_resends_them_and_downgrade_round_trips(db_url):
    upgrade(db_url, "0001")
    with get_engine(db_url).begin() as conn:
        conn.execute(
            text("INSERT INTO experiments (id, name, spec, created_at) VALUES (1, 'old', '{}', CURRENT_TIMESTAMP)")
        )
        conn.execute(
            text(
                'INSERT INTO runs (id, experiment_id, "index", params, status, epochs_done, epochs, created_at) '
                "VALUES (1, 1, 0, '{}', 'queued', 0, 5, CURRENT_TIMESTAMP)"
            )
        )
    upgrade(db_url)
    with get_engine(db_url).connect() as conn:
        attempts, cancel, dispatched = conn.execute(
            text("SELECT attempts, cancel_requested, dispatched_at FROM runs")
        ).one()
        owner = conn.execute(text("SELECT owner_id FROM experiments")).scalar_one()
    assert attempts == 0 and not cancel and dispatched is not None and owner is None
    command.downgrade(alembic_config(db_url), "0001")
    upgrade(db_url)
    with get_engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM runs")).scalar_one() == 1


def test_runs_from_before_the_history_get_one_reconstructed_from_their_timestamps(db_url):
    upgrade(db_url, "0005")
    with get_engine(db_url).begin() as conn:
        conn.execute(
            text("INSERT INTO experiments (id, name, spec, created_at) VALUES (1, 'old', '{}', '2026-01-01 10:00:00')")
        )
        columns = '(id, experiment_id, "index", params, status, epochs_done, epochs, created_at, started_at, finished_at, attempts, worker)'
        conn.execute(
            text(
                f"INSERT INTO runs {columns} VALUES (1, 1, 0, '{{}}', 'succeeded', 5, 5, '2026-01-01 10:00:00', "
                "'2026-01-01 10:01:00', '2026-01-01 10:02:00', 1, 'w1')"
            )
        )
        conn.execute(
            text(
                f"INSERT INTO runs {columns} VALUES (2, 1, 1, '{{}}', 'queued', 0, 5, '2026-01-01 10:00:00', NULL, NULL, 0, NULL)"
            )
        )
    upgrade(db_url)
    with get_engine(db_url).connect() as conn:
        events = conn.execute(
            text("SELECT run_id, event, status, attempt, worker FROM run_events ORDER BY run_id, at")
        ).all()
        assert conn.execute(text("SELECT count(*) FROM experiment_tags")).scalar_one() == 0
    assert [tuple(e) for e in events] == [
        (1, "queued", "queued", None, None),
        (1, "claimed", "running", 1, "w1"),
        (1, "succeeded", "succeeded", None, None),
        (2, "queued", "queued", None, None),
    ]

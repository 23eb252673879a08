"""experiment_tags (experiment_id, tag) and run_events (every status transition of a run)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("experiment_id", "tag"),
    )
    with op.batch_alter_table("experiment_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_experiment_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "run_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("run_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_events_run_id"), ["run_id"], unique=False)
    # runs from before the history: what their timestamps still tell (the transitions in between are gone)
    note = "'from the run''s timestamps (before status history was recorded)'"
    op.execute(
        f"INSERT INTO run_events (run_id, at, event, status, detail) SELECT id, created_at, 'queued', 'queued', {note} FROM runs"
    )
    op.execute(
        f"INSERT INTO run_events (run_id, at, event, status, attempt, worker, detail) SELECT id, started_at, 'claimed', 'running', "
        f"attempts, worker, {note} FROM runs WHERE started_at IS NOT NULL"
    )
    op.execute(
        f"INSERT INTO run_events (run_id, at, event, status, detail) SELECT id, finished_at, status, status, {note} FROM runs "
        "WHERE finished_at IS NOT NULL AND status IN ('succeeded', 'failed', 'cancelled')"
    )


def downgrade() -> None:
    with op.batch_alter_table("run_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_events_run_id"))
    op.drop_table("run_events")
    with op.batch_alter_table("experiment_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiment_tags_tag"))
    op.drop_table("experiment_tags")

"""runs.attempt: the fence, an attempt number that only ever grows (a retry no longer resets it)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), server_default="0", nullable=False))
    # above every attempt number the run has used so far, retried attempts included (from its history)
    op.execute(
        "UPDATE runs SET attempt = COALESCE((SELECT MAX(e.attempt) FROM run_events e WHERE e.run_id = runs.id), 0)"
    )
    op.execute("UPDATE runs SET attempt = attempts WHERE attempts > attempt")


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("attempt")

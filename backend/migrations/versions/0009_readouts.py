"""runs.effective_pos_weight and runs.missing_readouts: what a run's weight does to its objective,
and the readouts it cannot record, with the reason (docs/readouts.md)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_pos_weight", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("missing_readouts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("missing_readouts")
        batch_op.drop_column("effective_pos_weight")

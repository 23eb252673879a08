"""experiments.idempotency_key: a client's retry of POST /experiments finds the experiment it made

Revision ID: 0008
Revises: 0007_datasets
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007_datasets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint("uq_experiments_owner_id_idempotency_key", ["owner_id", "idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_experiments_owner_id_idempotency_key", type_="unique")
        batch_op.drop_column("idempotency_key")

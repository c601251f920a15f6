"""spool_done: the spool-file rows (SQLite) the pipeline ran, recorded in the batch's own transaction.

Revision ID: 9b3f5c7e2a41
Revises: 8a1f3c5e7b20
Create Date: 2026-12-06 22:40:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '9b3f5c7e2a41'
down_revision: Union[str, None] = '8a1f3c5e7b20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'spool_done',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
        sa.Column('raw_sha256', sa.String(length=64), nullable=False),
        sa.Column('outcome', sa.JSON(), nullable=False),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('spool_done', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spool_done_processed_at'), ['processed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('spool_done', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spool_done_processed_at'))
    op.drop_table('spool_done')

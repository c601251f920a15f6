"""Inbound spool: mail accepted from its source, drained by the pipeline in arrival order.

Revision ID: 4d8b2e6f1a93
Revises: 4d2b8e6a9c13
Create Date: 2026-12-06 21:10:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '4d8b2e6f1a93'
down_revision: Union[str, None] = '4d2b8e6a9c13'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'spool',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('envelope_from', sa.Text(), nullable=True),
        sa.Column('recipients', sa.JSON(), nullable=False),
        sa.Column('raw_sha256', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('outcome', sa.JSON(), nullable=True),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['raw_sha256'], ['blobs.sha256'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('spool', schema=None) as batch_op:
        batch_op.create_index('ix_spool_status_id', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_spool_processed_at'), ['processed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('spool', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spool_processed_at'))
        batch_op.drop_index('ix_spool_status_id')
    op.drop_table('spool')

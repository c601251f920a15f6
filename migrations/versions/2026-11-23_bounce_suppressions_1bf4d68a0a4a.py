"""Suppressions: addresses that bounced permanently get no automatic mail for a while.

Revision ID: 1bf4d68a0a4a
Revises: 54bea5aac764
Create Date: 2026-11-23 06:03:29.613397
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '1bf4d68a0a4a'
down_revision: Union[str, None] = '54bea5aac764'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('suppressions',
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('bounces', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('address')
    )


def downgrade() -> None:
    op.drop_table('suppressions')

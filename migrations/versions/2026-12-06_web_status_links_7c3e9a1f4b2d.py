"""Web face: customers' status links (/s/<token>) and generated web secrets.

Revision ID: 7c3e9a1f4b2d
Revises: 217343aeba00
Create Date: 2026-12-06 20:15:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '7c3e9a1f4b2d'
down_revision: Union[str, None] = '217343aeba00'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'status_links',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('address', sa.String(length=320), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ticket_id', 'address'),
        sa.UniqueConstraint('token'),
    )
    with op.batch_alter_table('status_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_links_ticket_id'), ['ticket_id'], unique=False)
    op.create_table(
        'web_secrets',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('web_secrets')
    with op.batch_alter_table('status_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_links_ticket_id'))
    op.drop_table('status_links')

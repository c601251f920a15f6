"""Incident close-out: the incident's service, cause (category and text), workaround, and its follow-ups.

Revision ID: 8a1f3c5d7e20
Revises: 4d8b2e6f1a93
Create Date: 2026-12-06 22:40:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '8a1f3c5d7e20'
down_revision: Union[str, None] = '4d8b2e6f1a93'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incident_service', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('cause_category', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('cause', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('workaround', sa.Text(), nullable=True))
    op.create_table(
        'followups',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('ticket_id', ID, nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('actor', sa.String(length=320), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followups_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followups_ticket_id'))
    op.drop_table('followups')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('workaround')
        batch_op.drop_column('cause')
        batch_op.drop_column('cause_category')
        batch_op.drop_column('incident_service')

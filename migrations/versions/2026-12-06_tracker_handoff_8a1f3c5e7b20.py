"""Hand-off to the developers' tracker: the delivery outbox, its attempt log, the issue on the ticket.

Revision ID: 8a1f3c5e7b20
Revises: 8a1f3c5d7e20
Create Date: 2026-12-06 22:40:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '8a1f3c5e7b20'
down_revision: Union[str, None] = '8a1f3c5d7e20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracker_issue_url', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('tracker_closed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'tracker_deliveries',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('ticket_id', ID, nullable=False),
        sa.Column('tracker', sa.String(length=32), nullable=False),
        sa.Column('idempotency_key', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('actor', sa.String(length=320), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('issue_url', sa.Text(), nullable=True),
        sa.Column('issue_ref', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('idempotency_key'),
        sa.UniqueConstraint('ticket_id', 'tracker'),
    )
    with op.batch_alter_table('tracker_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_tracker_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracker_deliveries_ticket_id'), ['ticket_id'], unique=False)
    op.create_table(
        'tracker_attempts',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('delivery_id', ID, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('request', sa.Text(), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('response', sa.Text(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['tracker_deliveries.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('tracker_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracker_attempts_delivery_id'), ['delivery_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tracker_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracker_attempts_delivery_id'))
    op.drop_table('tracker_attempts')
    with op.batch_alter_table('tracker_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracker_deliveries_ticket_id'))
        batch_op.drop_index('ix_tracker_deliveries_due')
    op.drop_table('tracker_deliveries')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('tracker_closed_at')
        batch_op.drop_column('tracker_issue_url')

"""Incidents: a ticket's incident title, and the incident a ticket is linked to.

Revision ID: 4d2b8e6a9c13
Revises: 7c3e9a1f4b2d
Create Date: 2026-12-06 21:10:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '4d2b8e6a9c13'
down_revision: Union[str, None] = '7c3e9a1f4b2d'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incident_title', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('incident_id', ID, nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_incident_id'), ['incident_id'], unique=False)
        batch_op.create_foreign_key('fk_tickets_incident_id_tickets', 'tickets', ['incident_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint('fk_tickets_incident_id_tickets', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tickets_incident_id'))
        batch_op.drop_column('incident_id')
        batch_op.drop_column('incident_title')

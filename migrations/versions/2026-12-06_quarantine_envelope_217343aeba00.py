"""Quarantine: the envelope (sender, recipients) a held mail came with, so a retry runs it as it arrived.

Revision ID: 217343aeba00
Revises: 5e1c0a7d2b94
Create Date: 2026-12-06 20:15:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '217343aeba00'
down_revision: Union[str, None] = '5e1c0a7d2b94'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Rows held before have neither: NULL reads as "unknown", as for mail that came without an envelope.
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.add_column(sa.Column('envelope_from', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('recipients', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_column('recipients')
        batch_op.drop_column('envelope_from')

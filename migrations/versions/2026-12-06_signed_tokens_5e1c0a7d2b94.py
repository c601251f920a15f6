"""Server keys (reply tokens are signed per recipient) and an index for the global automatic-mail cap.

Revision ID: 5e1c0a7d2b94
Revises: 1bf4d68a0a4a
Create Date: 2026-12-06 20:30:00
"""
import secrets
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '5e1c0a7d2b94'
down_revision: Union[str, None] = '1bf4d68a0a4a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    keys = op.create_table('server_keys',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    # Made here, once per database: every instance sharing the database signs with the same key.
    op.bulk_insert(keys, [{'name': 'reply-tokens', 'value': secrets.token_hex(32)}])
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_automatic_created', ['automatic', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_automatic_created')
    op.drop_table('server_keys')

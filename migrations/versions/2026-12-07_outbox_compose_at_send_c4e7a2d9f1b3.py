"""outbox: compose at send time. raw may be NULL; reply_to, auto_submitted and loop_address say what
composing needs beside the outbound Message row (gateway.notify.mail_bytes).

Downgrading composes the rows still to be sent (pending, sending, failed), since the code before this
revision sends raw as it is; rows already sent get empty bytes (nothing reads them again).

Revision ID: c4e7a2d9f1b3
Revises: 9b3f5c7e2a41
Create Date: 2026-12-07 10:00:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'c4e7a2d9f1b3'
down_revision: Union[str, None] = '9b3f5c7e2a41'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('raw', existing_type=sa.LargeBinary(), nullable=True)
        batch_op.add_column(sa.Column('reply_to', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('auto_submitted', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('loop_address', sa.String(length=320), nullable=True))


def downgrade() -> None:
    _compose_unsent()
    outbox = sa.table('outbox', sa.column('raw', sa.LargeBinary()))
    op.execute(outbox.update().where(outbox.c.raw.is_(None)).values(raw=b''))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('loop_address')
        batch_op.drop_column('auto_submitted')
        batch_op.drop_column('reply_to')
        batch_op.alter_column('raw', existing_type=sa.LargeBinary(), nullable=False)


def _compose_unsent() -> None:
    """Give every row still to be sent its bytes; one that cannot be composed is marked failed with why."""
    from gateway.clock import utc
    from gateway.notify.mail_bytes import Parts, compose_all

    outbox = sa.table('outbox', sa.column('id', sa.Integer()), sa.column('raw', sa.LargeBinary()),
                      sa.column('status', sa.String()), sa.column('last_error', sa.Text()),
                      sa.column('recipient', sa.String()), sa.column('message_id', sa.String()),
                      sa.column('created_at', sa.DateTime(timezone=True)), sa.column('reply_to', sa.String()),
                      sa.column('auto_submitted', sa.String()), sa.column('loop_address', sa.String()))
    messages = sa.table('messages', sa.column('direction', sa.String()), sa.column('message_id', sa.String()),
                        sa.column('from_name', sa.Text()), sa.column('from_addr', sa.String()),
                        sa.column('subject', sa.Text()), sa.column('text', sa.Text()), sa.column('html', sa.Text()),
                        sa.column('in_reply_to', sa.Text()), sa.column('references', sa.JSON()))
    found = op.get_bind().execute(
        sa.select(outbox.c.id, outbox.c.recipient, outbox.c.message_id, outbox.c.created_at, outbox.c.reply_to,
                  outbox.c.auto_submitted, outbox.c.loop_address, messages.c.from_name, messages.c.from_addr,
                  messages.c.subject, messages.c.text, messages.c.html, messages.c.in_reply_to,
                  messages.c.references)
        .select_from(outbox.outerjoin(messages, sa.and_(messages.c.message_id == outbox.c.message_id,
                                                        messages.c.direction == 'out')))
        .where(outbox.c.raw.is_(None), outbox.c.status.in_(('pending', 'sending', 'failed')))).all()
    many = [Parts(from_name=r.from_name, from_address=r.from_addr, to=r.recipient, subject=r.subject, text=r.text,
                  html=r.html, message_id=r.message_id, date=utc(r.created_at), in_reply_to=r.in_reply_to,
                  references=tuple(r.references or ()), reply_to=r.reply_to, auto_submitted=r.auto_submitted,
                  loop_address=r.loop_address)
            if r.from_addr is not None and r.auto_submitted and r.loop_address else "no outbound message to compose"
            for r in found]
    for row, mail in zip(found, compose_all(many)):
        if isinstance(mail, bytes):
            op.execute(outbox.update().where(outbox.c.id == row.id).values(raw=mail))
        else:
            op.execute(outbox.update().where(outbox.c.id == row.id)
                       .values(raw=b'', status='failed', last_error=f"downgrade: {mail}"))

"""Step: the same mail twice is stored once."""
from __future__ import annotations

from sqlalchemy import select

from gateway.errors import Duplicate
from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step
from gateway.store.models import Message


def dedupe_key(message_id: str | None, sha256: str) -> str:
    """Message-ID alone is unreliable (clients reuse them), so the raw bytes' hash always takes part."""
    if message_id:
        return f"{message_id[:120]}|{sha256}"
    return f"|{sha256}"


@step
class Dedupe:
    name = "dedupe"
    description = "Drop a mail whose Message-ID and raw bytes we already stored."

    async def run(self, ctx: MailContext) -> None:
        ctx.dedupe_key = dedupe_key(ctx.mail.message_id, ctx.sha256)
        existing = await ctx.session.scalar(select(Message.id).where(Message.dedupe_key == ctx.dedupe_key))
        if existing is not None:
            raise Duplicate(f"duplicate of message {existing}")

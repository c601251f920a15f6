"""Step: engineers act on a ticket by replying; anyone else's command lines stay plain text."""
from __future__ import annotations

from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step


@step
class Commands:
    name = "commands"
    description = "Run authorised /commands at the top of a reply (engineer + reply token)."

    async def run(self, ctx: MailContext) -> None:
        # Commands by reply arrive with the engineers issue; until then a reply is only a comment.
        return None

"""Step: new tickets go to a level: urgent ones to the servers level, the rest to the front end."""
from __future__ import annotations

from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step


@step
class Route:
    name = "route"
    description = "Pick the escalation level a new ticket starts at."

    async def run(self, ctx: MailContext) -> None:
        if not ctx.new_ticket:
            return
        config = ctx.settings.priority
        ctx.level = config.urgent_level if ctx.priority == "urgent" else config.default_level

"""Step: new tickets go to a level: a [routing] rule for the sender, else urgent or default level."""
from __future__ import annotations

from gateway.pipeline.context import Hit, MailContext
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
        rule = ctx.settings.routing.rule_for(ctx.sender or "", ctx.priority)
        if rule is not None:
            ctx.level = rule.level
            ctx.hits.append(Hit(rule=f"routing:{rule.name}", value=f"level {rule.level}", weight=1.0,
                                detail=ctx.sender))

"""The [routing] section: mail from given domains or addresses starts at a given level."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Priority = Literal["urgent", "high", "medium", "low"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RoutingRule(_Section):
    """New tickets from `domains` (exactly these, not their subdomains) or `addresses` start at `level`."""

    name: str = Field(min_length=1, max_length=64)  # shown in the ticket's history as the reason
    level: int = Field(ge=0)
    domains: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    # Urgent mail keeps going to [priority] urgent_level unless a rule names "urgent" here.
    priorities: tuple[Priority, ...] = ("high", "medium", "low")

    @field_validator("domains", "addresses")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower().removeprefix("@") for v in value if v.strip())

    def matches(self, sender: str, priority: str) -> bool:
        sender = sender.lower()
        domain = sender.rpartition("@")[2]
        return priority in self.priorities and (sender in self.addresses or (bool(domain) and domain in self.domains))


class RoutingConfig(_Section):
    rules: tuple[RoutingRule, ...] = ()  # the first rule that matches decides

    def rule_for(self, sender: str, priority: str) -> RoutingRule | None:
        return next((rule for rule in self.rules if rule.matches(sender, priority)), None)

    def problems(self, levels: set[int]) -> list[str]:
        """One line per rule that names a level not among [[levels]], or matches no one."""
        found = []
        for index, rule in enumerate(self.rules):
            if rule.level not in levels:
                found.append(f"routing.rules[{index}] ({rule.name}): level {rule.level} is not among "
                             f"[[levels]] {sorted(levels)}")
            if not rule.domains and not rule.addresses:
                found.append(f"routing.rules[{index}] ({rule.name}): give domains or addresses to match")
        return found

"""Named steps registered by decorator; the order comes from config, checked at start."""
from __future__ import annotations

from typing import Protocol

from gateway.errors import ConfigError
from gateway.pipeline.context import MailContext


class Step(Protocol):
    name: str
    description: str

    async def run(self, ctx: MailContext) -> None: ...


STEPS: dict[str, type] = {}


def step(cls: type) -> type:
    """Register a step class under its `name`; two steps with one name is a programming error."""
    if cls.name in STEPS:
        raise ConfigError(f"pipeline: two steps are named {cls.name!r}; rename one")
    STEPS[cls.name] = cls
    return cls


def build(names: tuple[str, ...]) -> list[Step]:
    """Instantiate the steps named, in order; an unknown name is a ConfigError naming the known ones."""
    import gateway.pipeline.steps  # noqa: F401  (registers the built-in steps)

    unknown = [name for name in names if name not in STEPS]
    if unknown:
        raise ConfigError(f"pipeline.steps: unknown step(s) {unknown}; known steps are {sorted(STEPS)}")
    if len(set(names)) != len(names):
        raise ConfigError(f"pipeline.steps: a step is listed twice in {list(names)}")
    return [STEPS[name]() for name in names]

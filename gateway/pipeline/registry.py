"""Named steps registered by decorator; the order comes from config, checked at start."""
from __future__ import annotations

import logging
from typing import Any, Protocol

from gateway.errors import ConfigError
from gateway.pipeline.context import MailContext, Preparation


class Step(Protocol):
    name: str
    description: str

    async def run(self, ctx: MailContext) -> None: ...

    # Optional: `def prepare(self, prep: Preparation) -> Any`, pure CPU work (no DB, no I/O) that
    # the ingestor runs on a worker thread before the transaction; run() finds it in ctx.prepared.


def prepare_all(steps: list[Step], prep: Preparation) -> dict[str, Any]:
    """Every step's prepare() in order (a later one may read an earlier one's result in prep.results).

    A prepare() that raises leaves its result out: the step's run() then meets the same error inside
    the transaction, where ingest's one error boundary quarantines the mail.
    """
    for current in steps:
        prepare = getattr(current, "prepare", None)
        if prepare is not None:
            try:
                prep.results[current.name] = prepare(prep)
            except Exception:
                log.debug("prepare() of step %s failed; run() will meet it again", current.name, exc_info=True)
    return prep.results


def prepared(ctx: MailContext, current: Any) -> Any:
    """`current`'s prepare() result for this mail; computed here when the caller prepared nothing
    (a context built by hand, e.g. in tests)."""
    if current.name not in ctx.prepared:
        prep = Preparation(mail=ctx.mail, envelope_from=ctx.envelope_from, recipients=ctx.recipients,
                           settings=ctx.settings, results=ctx.prepared)
        ctx.prepared[current.name] = current.prepare(prep)
    return ctx.prepared[current.name]


log = logging.getLogger(__name__)

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

"""One mail's preparation: parse it and run each step's pure prepare(), the CPU work done before the transaction."""
from __future__ import annotations

from gateway.config import Settings
from gateway.errors import Quarantine
from gateway.mail.parse import ParseLimits, parse
from gateway.pipeline import registry
from gateway.pipeline.context import HISTORY_SOURCE, Preparation
from gateway.pipeline.runner import Incoming, Job


def prepare(item: Incoming, digest: str, *, settings: Settings, limits: ParseLimits, steps: list,
            history_steps: list) -> Job:
    """The Job of `item` (its SHA-256 `digest`); a mail that does not parse is a Job with its problem."""
    try:
        mail = parse(item.raw, limits=limits)
    except Quarantine as exc:
        return Job(item, digest, None, exc.reason)
    prep = Preparation(mail=mail, envelope_from=item.envelope_from, recipients=item.recipients, settings=settings)
    registry.prepare_all(history_steps if item.source == HISTORY_SOURCE else steps, prep)
    return Job(item, digest, mail, prepared=prep.results)

"""MailContext: everything the steps of one mail share, and nothing else."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.pipeline.steps.incident_link import IncidentMatch
    from sqlalchemy.ext.asyncio import AsyncSession

    from gateway.clock import Clock
    from gateway.config import Settings
    from gateway.mail.authenticity import Plausibility
    from gateway.mail.bounce import BounceReport
    from gateway.mail.tokens import Token
    from gateway.mail.parse import ParsedMail
    from gateway.notify.outbox import Notifier
    from gateway.store.models import Message, Ticket
    from gateway.triage.decide import Decision
    from gateway.triage.similar import Similar


HISTORY_SOURCE = "import"


@dataclass(frozen=True)
class Hit:
    """One rule that fired: which rule, what it voted for, how strongly, and on what text."""

    rule: str
    value: str
    weight: float
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "value": self.value, "weight": self.weight, "detail": self.detail}


@dataclass
class Preparation:
    """What a step's pure `prepare()` sees, off the event loop, before the transaction; `results`
    collects each step's answer by step name (MailContext.prepared)."""

    mail: ParsedMail
    envelope_from: str | None
    recipients: tuple[str, ...]
    settings: Settings
    results: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    """A signed reply token that checked out: the address we issued it to, and in what role."""

    token: Token
    holder: str  # the address it was issued to ("" for a token of the old, unsigned form)

    @property
    def may_command(self) -> bool:
        return bool(self.holder) and self.token.role != "c"


@dataclass
class MailContext:
    raw: bytes
    sha256: str
    source: str
    envelope_from: str | None
    recipients: tuple[str, ...]
    mail: ParsedMail
    session: AsyncSession
    settings: Settings
    clock: Clock
    now: datetime
    notifier: Notifier
    dedupe_key: str = ""
    # Set by loop_guard: why this mail must get no automatic answer (None: it may).
    auto_reason: str | None = None
    # Set by bounce: what a delivery report says (the ticket is set too when it names a mail of ours).
    bounce: BounceReport | None = None
    # Set by thread: the ticket (None until a new one is opened) and why it was chosen.
    ticket: Ticket | None = None
    new_ticket: bool = False
    thread_reason: str = ""
    # Set by thread: the reply token the mail was sent to, when it checked out for this ticket.
    grant: Grant | None = None
    # Set by thread: whether the From is plausibly the real sender (gateway.mail.authenticity).
    sender_check: Plausibility | None = None
    # Set by reopen: a reply to a ticket resolved too long ago opens a new ticket linked to this one.
    linked_ticket_id: int | None = None
    link_why: str = ""
    # Set by classify / prioritise / route for new tickets.
    category: str = ""
    priority: str = ""
    level: int = 0
    hits: list[Hit] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)  # which stage set category/priority, and why
    report: dict[str, bool] | None = None  # bugs: which parts of a good bug report the mail has
    similar: list[Similar] = field(default_factory=list)  # set by similar: open tickets like this one
    # Set by incident_link: the open incident this new ticket was linked to, or is suggested for.
    incident: IncidentMatch | None = None
    # Set by record.
    message: Message | None = None
    # Set by commands: True when the mail was an engineer's command mail that needs no forwarding.
    handled: bool = False
    # Each step's prepare() result, computed off the event loop before the transaction (by step name).
    prepared: dict[str, Any] = field(default_factory=dict)

    @property
    def token_matched(self) -> bool:
        """The mail came to a token that checked out for this ticket (any role)."""
        return self.grant is not None

    @property
    def sender(self) -> str:
        return self.mail.from_addr

    @property
    def history(self) -> bool:
        """Imported history (`gateway import`): stored and threaded, never acted on (see pipeline.runner.HISTORY_SKIPS)."""
        return self.source == HISTORY_SOURCE

"""ingest(raw, source) -> Outcome: the one path every mail takes, and its one transaction."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

from gateway.clock import Clock
from gateway.config import Settings
from gateway.store.db import Database


@dataclass(frozen=True)
class Outcome:
    """What became of one mail. Every status means: committed, safe to acknowledge to the source."""

    status: Literal["stored", "duplicate", "quarantined"]
    ticket_ref: str | None = None
    ticket_id: int | None = None
    new_ticket: bool = False
    reason: str = ""  # thread reason, quarantine reason, or why it was a duplicate


class Ingestor:
    """Holds what ingest needs; `ingest()` is safe to call concurrently from many transports."""

    def __init__(self, *, settings: Settings, db: Database, clock: Clock):
        self.settings = settings
        self.db = db
        self.clock = clock

    async def ingest(self, raw: bytes, *, source: str, envelope_from: str | None = None,
                     recipients: Sequence[str] = ()) -> Outcome:
        """Store `raw` and everything it causes in one transaction; raise TempFail to mean 'try again'.

        source: "smtp", "pipe", "imap:<mailbox name>", "import", "quarantine-retry".
        envelope_from: SMTP MAIL FROM ("" for the null sender), None when unknown.
        recipients: SMTP RCPT TO addresses (used for reply tokens in plus-addresses).
        """
        raise NotImplementedError("being written")

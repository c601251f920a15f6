"""Pipe transport (`gateway ingest`): one mail on stdin; exit 0 stored, 75 try again later."""
from __future__ import annotations

import logging
import sys
from typing import BinaryIO, Sequence

from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.errors import TempFail
from gateway.inbound.handoff import EX_UNAVAILABLE, read_mail
from gateway.ingest import Ingestor

log = logging.getLogger(__name__)


async def ingest_stdin(settings: Settings, *, sender: str | None, recipients: Sequence[str],
                       stdin: BinaryIO, raw: bytes | None = None) -> int:
    """Store the mail on `stdin` (or `raw`, already read from it); returns the exit code (TempFail: 75)."""
    if raw is None:
        limit = settings.smtp.max_message_bytes
        try:
            raw = read_mail(stdin, limit)
        except OSError as exc:
            raise TempFail(f"cannot read the mail from standard input: {exc}") from exc
        if raw is None:
            # The mail is too large to keep; the MTA bounces it to the sender with this line.
            print(f"gateway: mail larger than smtp.max_message_bytes ({limit} bytes); the sender should send a "
                  f"smaller mail", file=sys.stderr)
            return EX_UNAVAILABLE  # a permanent refusal, as SMTP's 552 would be
    db = settings.open_database()
    try:
        ingestor = Ingestor(settings=settings, db=db, clock=SystemClock())
        try:
            outcome = await ingestor.ingest(raw, source="pipe", envelope_from=sender, recipients=tuple(recipients))
        finally:
            ingestor.close()
    finally:
        await db.dispose()
    log.info("pipe mail %s %s", outcome.status, outcome.ticket_ref or outcome.reason)
    return 0

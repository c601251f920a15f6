"""Pipe transport (`gateway ingest`): one mail on stdin; exit 0 stored, 75 try again later."""
from __future__ import annotations

import logging
from typing import BinaryIO, Sequence

from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.errors import TempFail
from gateway.ingest import Ingestor

log = logging.getLogger(__name__)


def read_all(stream: BinaryIO, limit: int) -> bytes:
    """Read the whole mail, refusing more than `limit` bytes (the SMTP size limit applies here too)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise OversizeMail(f"mail larger than smtp.max_message_bytes ({limit} bytes)")
    return data


class OversizeMail(Exception):
    pass


async def ingest_stdin(settings: Settings, *, sender: str | None, recipients: Sequence[str],
                       stdin: BinaryIO) -> int:
    """Store the mail on `stdin`; returns the exit code (TempFail propagates to the CLI as 75)."""
    try:
        raw = read_all(stdin, settings.smtp.max_message_bytes)
    except OversizeMail as exc:
        # The mail is too large to keep; the MTA bounces it to the sender with this line.
        import sys

        print(f"gateway: {exc}; the sender should send a smaller mail", file=sys.stderr)
        return 69  # EX_UNAVAILABLE: a permanent refusal, as SMTP's 552 would be
    except OSError as exc:
        raise TempFail(f"cannot read the mail from standard input: {exc}") from exc
    db = settings.open_database()
    try:
        ingestor = Ingestor(settings=settings, db=db, clock=SystemClock())
        outcome = await ingestor.ingest(raw, source="pipe", envelope_from=sender, recipients=tuple(recipients))
    finally:
        await db.dispose()
    log.info("pipe mail %s %s", outcome.status, outcome.ticket_ref or outcome.reason)
    return 0

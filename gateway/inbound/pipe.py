"""Pipe transport (`gateway ingest`), the ordinary path: one mail on stdin; exit 0 once spooled, 75 try again
later. (A mail for a running serve is handed to it, handoff.py; with no serve on SQLite it goes into the
spool file without this module, pipe_spool.py.) `ingest --drain` processes the spool."""
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
    """Spool the mail on `stdin` (or `raw`, already read from it), then drain; returns the exit code.

    TempFail before the spool commit propagates (exit 75). Once spooled the answer is 0: this process
    drains the spool itself (PostgreSQL, or a SQLite config the lean path left alone), and if that
    fails the mail waits for the next drain.
    """
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
            spool_id = await ingestor.accept(raw, source="pipe", envelope_from=sender, recipients=tuple(recipients))
            try:
                [outcome] = await ingestor.settle([spool_id])
            except TempFail as exc:
                log.warning("pipe mail spooled as %d; processing it failed, the next drain retries it: %s",
                            spool_id, exc)
                return 0
        finally:
            ingestor.close()
    finally:
        await db.dispose()
    log.info("pipe mail %s %s", outcome.status, outcome.ticket_ref or outcome.reason)
    return 0


async def drain_spool(settings: Settings) -> int:
    """`gateway ingest --drain`: run the pipeline over every mail waiting in the spool; the exit code."""
    db = settings.open_database()
    try:
        ingestor = Ingestor(settings=settings, db=db, clock=SystemClock())
        try:
            done = await ingestor.drain()
        finally:
            ingestor.close()
    finally:
        await db.dispose()
    counts: dict[str, int] = {}
    for outcome in done.values():
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    print(f"processed {len(done)} spooled mail(s)" +
          "".join(f", {status} {count}" for status, count in sorted(counts.items())))
    return 0

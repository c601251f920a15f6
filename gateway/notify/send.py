"""Drain the outbox: claim due rows, hand them to the relay or a maildir, retry with backoff."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Awaitable, Callable, Sequence

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.clock import Clock, wait_any
from gateway.config import OutboundConfig, Settings
from gateway.errors import PermanentSendError, TransientSendError
from gateway.notify.mail_bytes import Parts, compose_all, parts_for
from gateway.notify.relay import Mail, SmtpTransport
from gateway.store import leases
from gateway.store.db import Database
from gateway.store.models import Outbox

log = logging.getLogger(__name__)

# Rows claimed, sent and recorded together: two transactions per chunk instead of two per row, and a
# crash between a relay's 250 and our record resends at most this many (with their same Message-IDs).
CHUNK = 10


class MaildirTransport:
    """Write each mail into a maildir's new/ (tmp/ first, fsynced, then renamed), for pickup or tests."""

    def __init__(self, path: Path):
        self.path = Path(path)

    async def send(self, *, envelope_from: str, recipient: str, raw: bytes) -> None:
        await asyncio.to_thread(self._write, raw)

    def _write(self, raw: bytes) -> None:
        # Named by content: a row resent after a crash replaces its own file instead of adding a twin.
        name = hashlib.sha256(raw).hexdigest()[:32] + ".eml"
        try:
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
            tmp = self.path / "tmp" / f"{uuid.uuid4().hex}.eml"
            with open(tmp, "xb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path / "new" / name)
            directory = os.open(self.path / "new", os.O_RDONLY)
            try:
                os.fsync(directory)  # make the rename itself durable
            finally:
                os.close(directory)
        except OSError as exc:
            raise TransientSendError(f"maildir {self.path}: {exc.strerror or exc}; check space and "
                                     f"permissions of outbound.maildir") from None


def transport_for(settings: Settings) -> SmtpTransport | MaildirTransport:
    """The transport outbound.mode names."""
    if settings.outbound.mode == "smtp":
        return SmtpTransport(settings.outbound)
    return MaildirTransport(settings.resolve_path(settings.outbound.maildir))


@dataclass(frozen=True)
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Claimed:
    id: int
    recipient: str
    envelope_from: str
    raw: bytes | None  # None: not composed (problem says why)
    attempts: int
    message_id: str
    problem: str | None = None


# Composes a chunk's rows (mail_bytes.compose_all's signature, awaited): a worker thread unless serve
# hands the sender its preparation worker process (gateway/prepare_pool.py).
Composer = Callable[[Sequence[Parts | str]], Awaitable[list]]


async def compose_on_thread(many: Sequence[Parts | str]) -> list[bytes | str]:
    return await asyncio.to_thread(compose_all, many)


_UNTRIED = object()  # _send(): the transport stopped before this row


class OutboxSender:
    """Claims due rows a chunk at a time, sends each outside any transaction, records the results."""

    def __init__(self, *, settings: Settings, db: Database, clock: Clock, transport,
                 rng: random.Random | None = None, composer: Composer | None = None):
        self.config = settings.outbound
        self.composer = composer or compose_on_thread
        # A claimed row is ours this long; a sender that dies leaves it to be claimed again afterwards.
        self.lease = timedelta(seconds=settings.outbound.lease_seconds)
        self.db = db
        self.clock = clock
        self.transport = transport
        self.rng = rng or random.Random()
        self._stop: asyncio.Event | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Ask a running sender to drain now rather than after poll_seconds (e.g. after an ingest)."""
        self._wake.set()

    async def drain_once(self, limit: int | None = None) -> DrainResult:
        """Send up to `limit` (default outbound.batch_size) due rows; DrainResult(sent, retried, failed)."""
        counts = await leases.work_off(self._claim, self._deliver, limit=limit or self.config.batch_size, chunk=CHUNK,
                                       stop=self._stop, counts={"sent": 0, "retried": 0, "failed": 0})
        return DrainResult(**counts)

    async def run(self, stop: asyncio.Event) -> None:
        """Drain, then wait poll_seconds (or a wake/stop); errors are logged, never fatal; exits on stop."""
        self._stop = stop
        while not stop.is_set():
            self._wake.clear()  # before draining: a wake() during the drain means "look again"
            busy = False
            try:
                result = await self.drain_once()
                busy = result.sent + result.retried + result.failed >= self.config.batch_size
            except Exception:  # the database may be down; the next round tries again
                log.exception("outbox: drain failed; retrying in %.0f s", self.config.poll_seconds)
            if busy:
                continue  # a full batch: more rows are probably due, go on at once
            await wait_any(stop, self._wake, timeout=self.config.poll_seconds)

    async def _claim(self, limit: int) -> list[_Claimed]:
        """Mark up to `limit` due rows 'sending' under a lease, in one short transaction."""
        async with self.db.transaction() as session:
            rows = await leases.claim(session, Outbox, now=self.clock.now(), lease=self.lease, limit=limit)
            parts = await parts_for(session, rows)
        claimed = [_Claimed(id=row.id, recipient=row.recipient, envelope_from=row.envelope_from,
                            raw=row.raw or None, attempts=row.attempts, message_id=row.message_id) for row in rows]
        return await self._composed(claimed, parts) if parts else claimed

    async def _composed(self, rows: list[_Claimed], parts: dict[int, Parts | str]) -> list[_Claimed]:
        """`rows` with the bytes of those that had none composed (outside any transaction, off the loop),
        or the reason they could not be."""
        composed = dict(zip(parts, await self.composer(list(parts.values()))))
        result = []
        for row in rows:
            mail = composed.get(row.id, row.raw)
            result.append(replace(row, problem=mail) if isinstance(mail, str) else replace(row, raw=mail))
        return result

    async def _deliver(self, rows: list[_Claimed]) -> list[str]:
        """Send the claimed rows (one relay connection for them all), then record every result in one
        transaction; outcomes in order.

        Rows not yet tried when the sender is asked to stop, or when half their lease is spent (a
        relay that times out on every mail), are handed back untried: past the lease another sender
        could claim them too, and both would send.
        """
        claimed_at = self.clock.now()

        def go_on() -> bool:
            # Asked before each row, from the transport's worker thread: it only reads the flag and the clock.
            stopping = self._stop is not None and self._stop.is_set()
            return not stopping and self.clock.now() - claimed_at <= self.lease / 2

        errors = await self._send(rows, go_on)
        results = [(row, *self._result(row, error)) for row, error in zip(rows, errors)]
        released = [row.id for row in rows[len(errors):]]
        async with self.db.transaction() as session:
            if results:
                # ORM bulk UPDATE by primary key: one executemany per run of rows with the same columns
                # (sent, retried, failed), so sorted by outcome; not one statement per row.
                ordered = sorted(results, key=lambda result: result[2])
                await session.execute(update(Outbox), [{"id": row.id, **values} for row, values, _ in ordered])
            await leases.release(session, Outbox, released)
        return [outcome for _, _, outcome in results]

    async def _send(self, rows: list[_Claimed], go_on: Callable[[], bool]) -> list[Exception | None]:
        """An error or None (sent) for each row tried, in order, until go_on() said no: the rest are untried.

        A row that could not be composed fails without reaching the transport (it would fail the same way
        every time). A transport with send_all (the relay) takes the others as one batch; one with only
        send (the maildir, test doubles) gets them one at a time.
        """
        ready = [row for row in rows if row.problem is None]
        if hasattr(self.transport, "send_all"):
            tried = await self.transport.send_all([Mail(row.envelope_from, row.recipient, row.raw) for row in ready],
                                                  go_on=go_on)
        else:
            tried = []
            for row in ready:
                if not go_on():
                    break
                tried.append(await self._send_one(row))
        outcomes = iter(tried)
        errors: list[Exception | None] = []
        for row in rows:
            if row.problem is not None:
                errors.append(PermanentSendError(row.problem))
                continue
            outcome = next(outcomes, _UNTRIED)
            if outcome is _UNTRIED:
                break
            errors.append(outcome)
        return errors

    async def _send_one(self, row: _Claimed) -> Exception | None:
        try:
            await self.transport.send(envelope_from=row.envelope_from, recipient=row.recipient, raw=row.raw)
        except (TransientSendError, PermanentSendError) as exc:
            return exc
        except Exception as exc:  # a bug in a transport must not wedge the row: treat it as transient
            log.exception("outbox %s: unexpected error sending to %s", row.id, row.recipient)
            return TransientSendError(f"unexpected {type(exc).__name__}: {exc}")
        return None

    def _result(self, row: _Claimed, error: Exception | None) -> tuple[dict, str]:
        """The column values to record for `row` after this attempt, and "sent", "retried" or "failed"."""
        now = self.clock.now()
        values: dict = {"lease_until": None}
        if error is None:
            values.update(status="sent", sent_at=now, last_error=None)
            log.info("outbox %s: sent %s to %s", row.id, row.message_id, row.recipient)
            return values, "sent"
        if isinstance(error, PermanentSendError) or row.attempts + 1 >= self.config.max_attempts:
            values.update(status="failed", attempts=row.attempts + 1, last_error=str(error))
            log.error("outbox %s: giving up on %s after %d attempt(s): %s", row.id, row.recipient,
                      row.attempts + 1, error)
            return values, "failed"
        delay = self.backoff(row.attempts + 1)
        values.update(status="pending", attempts=row.attempts + 1, last_error=str(error),
                      next_attempt_at=now + delay)
        log.warning("outbox %s: attempt %d to %s failed, next in %.0f s: %s", row.id, row.attempts + 1,
                    row.recipient, delay.total_seconds(), error)
        return values, "retried"

    def backoff(self, attempts: int) -> timedelta:
        return leases.backoff(attempts, base_seconds=self.config.backoff_seconds,
                              max_seconds=self.config.backoff_max_seconds, rng=self.rng)


async def list_rows(session: AsyncSession, *, status: str | None = None, limit: int = 200) -> list[Outbox]:
    """The newest `limit` outbox rows (optionally of one status), oldest first."""
    return await leases.list_rows(session, Outbox, status=status, limit=limit)


async def retry(session: AsyncSession, *, ids: Sequence[int] | None, now: datetime) -> int:
    """Put failed rows (or the rows `ids` names, unless being sent) back to pending now; return how many."""
    query = update(Outbox).values(status="pending", attempts=0, next_attempt_at=now, lease_until=None)
    if ids:
        query = query.where(Outbox.id.in_(list(ids)), Outbox.status != "sending")
    else:
        query = query.where(Outbox.status == "failed")
    result = await session.execute(query.execution_options(synchronize_session=False))
    return result.rowcount

"""Deliver queued hand-offs: claim due rows under a lease, find or create the issue, log every request, back off."""
from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping

from sqlalchemy import update

from gateway.clock import Clock, wait_any
from gateway.config import Settings
from gateway.handoff.http import (
    HttpTransport,
    Issue,
    Keys,
    Reply,
    Request,
    TrackerReplyError,
    TransportError,
    permanent,
)
from gateway.handoff.trackers import adapter_for
from gateway.notify.outbox import Notifier, unique_recipients
from gateway.store import leases
from gateway.store.db import Database
from gateway.store.models import Event, Ticket, TrackerAttempt, TrackerDelivery

log = logging.getLogger(__name__)

CHUNK = 5  # rows claimed together; a crash repeats at most these (and finds their issues by key)


@dataclass
class Try:
    """One delivery try: the requests it made (for the attempt log) and how it ended."""

    attempts: list[dict] = field(default_factory=list)
    issue: Issue | None = None
    error: str | None = None
    final: bool = False  # the tracker refused the request itself: retrying gets the same answer


@dataclass(frozen=True)
class _Claimed:
    id: int
    ticket_id: int
    tracker: str
    key: str
    payload: dict
    attempts: int
    actor: str


class TrackerSender:
    """Claims due deliveries a few at a time, tries each outside any transaction, records the results."""

    def __init__(self, *, settings: Settings, db: Database, clock: Clock, keys: Mapping[str, Keys], notifier: Notifier,
                 transport=None, rng: random.Random | None = None):
        self.settings, self.config = settings, settings.handoff
        self.lease = timedelta(seconds=self.config.lease_seconds)
        self.db, self.clock, self.keys, self.notifier = db, clock, keys, notifier
        self.transport = transport or HttpTransport(timeout=self.config.timeout_seconds)
        self.rng = rng or random.Random()
        self._stop: asyncio.Event | None = None
        self._wake = asyncio.Event()
        self._next_poll = clock.now()

    def wake(self) -> None:
        self._wake.set()

    async def drain_once(self, limit: int = 50) -> dict[str, int]:
        """Try up to `limit` due deliveries; {"delivered": n, "retried": n, "failed": n}."""
        return await leases.work_off(self._claim, self._deliver, limit=limit, chunk=CHUNK, stop=self._stop,
                                     counts={"delivered": 0, "retried": 0, "failed": 0})

    async def run(self, stop: asyncio.Event) -> None:
        """Drain, then wait poll_seconds (or a wake/stop); errors are logged, never fatal."""
        self._stop = stop
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self.drain_once()
                    await self.poll_if_due()
                except Exception:
                    log.exception("handoff: drain failed; retrying in %.0f s", self.config.poll_seconds)
                await wait_any(stop, self._wake, timeout=self.config.poll_seconds)
        finally:
            close = getattr(self.transport, "close", None)
            if close is not None:
                await close()

    async def poll_if_due(self) -> None:
        """Every poll_closed_minutes, one instance asks trackers without hooks about our open issues."""
        from gateway.handoff.poll import poll_closed
        from gateway.schedule.jobs import claim_tick

        now = self.clock.now()
        if now < self._next_poll:
            return
        seconds = int(self.config.poll_closed_minutes * 60)
        self._next_poll = now + timedelta(seconds=seconds)
        if await claim_tick(self.db, "handoff_poll", now, max(seconds, 1)):
            closed = await poll_closed(settings=self.settings, db=self.db, clock=self.clock, keys=self.keys,
                                       transport=self.transport, notifier=self.notifier)
            if closed:
                log.info("handoff poll: %d issue(s) closed in their trackers", closed)

    async def _claim(self, limit: int) -> list[_Claimed]:
        async with self.db.transaction() as session:
            rows = await leases.claim(session, TrackerDelivery, now=self.clock.now(), lease=self.lease, limit=limit)
            return [_Claimed(id=r.id, ticket_id=r.ticket_id, tracker=r.tracker, key=r.idempotency_key,
                             payload=dict(r.payload), attempts=r.attempts, actor=r.actor) for r in rows]

    async def _deliver(self, rows: list[_Claimed]) -> list[str]:
        """Try each claimed row, then record every result in one transaction; outcomes in order.

        Rows not yet tried when stopping or when half the lease is spent go back untried: past the
        lease another sender could claim them too.
        """
        claimed_at = self.clock.now()
        tried: list[tuple[_Claimed, Try]] = []
        released: list[int] = []
        for row in rows:
            if (self._stop is not None and self._stop.is_set()) or released or \
                    self.clock.now() - claimed_at > self.lease / 2:
                released.append(row.id)
                continue
            tried.append((row, await self.attempt(row)))
        outcomes = []
        async with self.db.transaction() as session:
            for row, result in tried:
                outcomes.append(await self._record(session, row, result))
            await leases.release(session, TrackerDelivery, released)
        return outcomes

    async def attempt(self, row: _Claimed) -> Try:
        """Look for the issue the key marks (when the tracker has no idempotency header), else create it."""
        result = Try()
        tracker = self.settings.tracker(row.tracker)
        if tracker is None:
            result.error = f"tracker {row.tracker!r} is no longer configured; add it back to [[trackers]]"
            return result
        adapter = adapter_for(tracker, self.keys.get(tracker.name, Keys()))
        try:
            search = adapter.lookup(row.key)
            if search is not None:
                reply = await self._send(result, search)
                if reply is None:
                    return result
                result.issue = adapter.found(reply, row.key)
                if result.issue is not None:
                    return result
            reply = await self._send(result, adapter.create(row.payload, row.key, self.clock.now()))
            if reply is not None:
                result.issue = adapter.created(reply)
        except TrackerReplyError as exc:
            result.error = str(exc)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:  # an answer of another shape than documented
            result.error = f"{tracker.name}: an answer of an unexpected shape ({type(exc).__name__}: {exc})"
        return result

    async def _send(self, result: Try, request: Request) -> Reply | None:
        """The reply when 2xx; else None with the error (and whether it is final) set on `result`."""
        at = self.clock.now()
        entry = {"at": at, "request": request.line, "status_code": None, "response": "", "error": None, "seconds": 0.0}
        result.attempts.append(entry)
        try:
            reply = await self.transport.send(request)
        except TransportError as exc:
            entry["error"] = result.error = str(exc)
            return None
        except Exception as exc:  # a bug must not wedge the row: a failed try, logged
            log.exception("handoff: unexpected error on %s", request.line)
            entry["error"] = result.error = f"unexpected {type(exc).__name__}: {exc}"
            return None
        entry.update(status_code=reply.status, response=reply.excerpt(), seconds=reply.seconds)
        if reply.ok:
            return reply
        result.error = f"{request.line} answered {reply.status}: {reply.excerpt(200)}"
        result.final = permanent(reply.status)
        entry["error"] = result.error
        return None

    async def _record(self, session, row: _Claimed, result: Try) -> str:
        now = self.clock.now()
        session.add_all([TrackerAttempt(delivery_id=row.id, **entry) for entry in result.attempts])
        values: dict = {"lease_until": None, "attempts": row.attempts + 1}
        if result.issue is not None and not result.issue.url.startswith(("https://", "http://")):
            # Shown as a link on the ticket page and in mail: nothing but a web address.
            result.issue = Issue(url="", ref=result.issue.ref[:64])
        if result.issue is not None:
            values.update(status="delivered", delivered_at=now, last_error=None, issue_url=result.issue.url or None,
                          issue_ref=result.issue.ref[:64] or None)
            await session.execute(update(TrackerDelivery).where(TrackerDelivery.id == row.id).values(**values))
            await self._delivered(session, row, result.issue, now)
            return "delivered"
        if result.final or row.attempts + 1 >= self.config.max_attempts:
            values.update(status="failed", last_error=result.error)
            log.error("handoff %s: giving up on %s for ticket %s after %d attempt(s): %s", row.id, row.tracker,
                      row.ticket_id, row.attempts + 1, result.error)
            await session.execute(update(TrackerDelivery).where(TrackerDelivery.id == row.id).values(**values))
            session.add(Event(ticket_id=row.ticket_id, kind="handoff_failed", actor="gateway", at=now,
                              data={"tracker": row.tracker, "attempts": row.attempts + 1, "error": result.error}))
            return "failed"
        delay = self.backoff(row.attempts + 1)
        values.update(status="pending", last_error=result.error, next_attempt_at=now + delay)
        log.warning("handoff %s: attempt %d to %s failed, next in %.0f s: %s", row.id, row.attempts + 1, row.tracker,
                    delay.total_seconds(), result.error)
        await session.execute(update(TrackerDelivery).where(TrackerDelivery.id == row.id).values(**values))
        return "retried"

    async def _delivered(self, session, row: _Claimed, issue: Issue, now: datetime) -> None:
        """The issue goes on the ticket; its level (and the engineer who asked) hear where it is."""
        ticket = await session.get(Ticket, row.ticket_id)
        if issue.url:
            ticket.tracker_issue_url = issue.url
        session.add(Event(ticket_id=ticket.id, kind="handed_off", actor=row.actor, at=now,
                          data={"tracker": row.tracker, "issue_url": issue.url, "issue_ref": issue.ref}))
        asked = [row.actor] if row.actor in self.settings.engineers else []
        recipients = unique_recipients([*self.settings.level(ticket.level).recipients, *asked]) \
            if ticket.level in {lv.number for lv in self.settings.levels} else asked
        await self.notifier.enqueue(session, ticket=ticket, template="level/handed_off", recipients=recipients,
                                    automatic=False, context={"tracker": row.tracker, "issue_url": issue.url,
                                                              "issue_ref": issue.ref, "actor": row.actor})
        log.info("handoff %s: ticket %s is %s in %s", row.id, ticket.id, issue.url or issue.ref or "delivered",
                 row.tracker)

    def backoff(self, attempts: int) -> timedelta:
        return leases.backoff(attempts, base_seconds=self.config.backoff_seconds,
                              max_seconds=self.config.backoff_max_seconds, rng=self.rng)

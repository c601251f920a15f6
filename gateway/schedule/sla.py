"""SLA clocks on tickets (set, pause, resume) and the sweep that warns, escalates and nudges."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from gateway.clock import Clock, utc
from gateway.config import Settings
from gateway.schedule.businesstime import BusinessCalendar
from gateway.schedule.escalate import escalate, level_or_assignee
from gateway.schedule.targets import (
    AROUND_THE_CLOCK,
    due_times,
    shift_for_pause,
    stall_time,
    warn_time,
)
from gateway.store.db import Database
from gateway.store.models import Event, Ticket

log = logging.getLogger(__name__)

# Bits of Ticket.sla_fired: each warning and breach fires once, claimed by a conditional UPDATE.
WARN_FIRST, WARN_RESOLUTION, BREACH_FIRST, BREACH_RESOLUTION = 1, 2, 4, 8
TARGETS = (  # (name, due column, warn column, warn bit, breach bit)
    ("first_response", "first_response_due", "first_response_warn_at", WARN_FIRST, BREACH_FIRST),
    ("resolution", "resolution_due", "resolution_warn_at", WARN_RESOLUTION, BREACH_RESOLUTION),
)
ACTIVE = "open"
TABLE = Ticket.__table__  # only open tickets run clocks: pending is paused, resolved is done


def _opt(value: datetime | None) -> datetime | None:
    return utc(value) if value is not None else None


def set_targets(ticket: Ticket, *, start: datetime, settings: Settings, cal: BusinessCalendar,
                first_response: bool = True) -> None:
    """Due and warn times from `start` (creation, reopening, re-prioritising); fired flags reset."""
    due = due_times(ticket.priority, start, cal, settings.sla)
    share = settings.sla.warn_share
    if first_response:
        ticket.first_response_due = due.first_response
        ticket.first_response_warn_at = warn_time(start, due.first_response, share, cal, ticket.priority)
    ticket.resolution_due = due.resolution
    ticket.resolution_warn_at = warn_time(start, due.resolution, share, cal, ticket.priority)
    ticket.sla_fired = (ticket.sla_fired or 0) & ((WARN_FIRST | BREACH_FIRST) if not first_response else 0)
    ticket.paused_at = None
    schedule_check(ticket, settings=settings, cal=cal)


def next_check(ticket: Ticket, *, settings: Settings, cal: BusinessCalendar) -> datetime | None:
    """The earliest moment something may fire for `ticket` (warning, breach, stall); None if nothing can."""
    if ticket.status != ACTIVE or ticket.paused_at is not None:
        return None
    fired, moments = ticket.sla_fired or 0, []
    for name, due_col, warn_col, warn_bit, breach_bit in TARGETS:
        if name == "first_response" and ticket.first_response_at is not None:
            continue
        due, warn = _opt(getattr(ticket, due_col)), _opt(getattr(ticket, warn_col))
        if warn is not None and not fired & (warn_bit | breach_bit):
            moments.append(warn)
        if due is not None and not fired & breach_bit:
            moments.append(due)
    moments.append(stall_at(ticket, settings=settings, cal=cal))
    return min(moments)


def stall_at(ticket: Ticket, *, settings: Settings, cal: BusinessCalendar) -> datetime:
    hours = settings.sla.target(ticket.priority).stall_hours
    return stall_time(utc(ticket.last_activity_at), hours, cal, ticket.priority)


def schedule_check(ticket: Ticket, *, settings: Settings, cal: BusinessCalendar) -> None:
    ticket.sla_check_at = next_check(ticket, settings=settings, cal=cal)


def pause(ticket: Ticket, *, now: datetime) -> None:
    """Stop the clocks: the ticket waits on the customer."""
    ticket.status, ticket.paused_at, ticket.sla_check_at = "pending", now, None


def resume(ticket: Ticket, *, now: datetime, settings: Settings, cal: BusinessCalendar) -> float:
    """Restart the clocks, moving every due and warn time by the time spent paused; returns paused seconds."""
    paused_at = _opt(ticket.paused_at)
    ticket.status, ticket.paused_at = ACTIVE, None
    shifted = 0.0
    if paused_at is not None:
        around = ticket.priority in AROUND_THE_CLOCK
        for _name, due_col, warn_col, _w, _b in TARGETS:
            for column in (due_col, warn_col):
                value = _opt(getattr(ticket, column))
                if value is not None:
                    setattr(ticket, column, shift_for_pause(value, paused_at, now, cal, around_the_clock=around))
        shifted = (now - paused_at).total_seconds() if around else cal.business_seconds_between(paused_at, now)
    schedule_check(ticket, settings=settings, cal=cal)
    return shifted


@dataclass
class SweepResult:
    checked: int = 0
    warned: list[int] = field(default_factory=list)
    breached: list[int] = field(default_factory=list)
    stalled: list[int] = field(default_factory=list)


async def _claim_bit(session, ticket: Ticket, bit: int, also: int = 0) -> bool:
    """Set `bit` (and `also`) in sla_fired unless `bit` is set; True only for the one caller that set it."""
    # Core on the session's connection: no ORM autoflush or session sync for a one-row flag.
    result = await (await session.connection()).execute(
        update(TABLE).where(TABLE.c.id == ticket.id, TABLE.c.sla_fired.op("&")(bit) == 0)
        .values(sla_fired=TABLE.c.sla_fired.op("|")(bit | also)))
    if result.rowcount != 1:
        return False
    # Not a plain assignment: flushing our stale copy could undo a bit another sweeper just set.
    set_committed_value(ticket, "sla_fired", (ticket.sla_fired or 0) | bit | also)
    return True


async def _claim_stall(session, ticket: Ticket, now: datetime) -> bool:
    result = await (await session.connection()).execute(
        update(TABLE).where(TABLE.c.id == ticket.id, or_(TABLE.c.stall_nudged_at.is_(None),
                                                         TABLE.c.stall_nudged_at < TABLE.c.last_activity_at))
        .values(stall_nudged_at=now))
    if result.rowcount != 1:
        return False
    set_committed_value(ticket, "stall_nudged_at", now)
    return True


class Sweeper:
    """One SLA sweep: reads only tickets whose sla_check_at has come (an indexed range scan)."""

    def __init__(self, *, settings: Settings, db: Database, clock: Clock, notifier, batch_size: int = 500):
        self.settings, self.db, self.clock, self.notifier = settings, db, clock, notifier
        self.batch_size = batch_size

    async def sweep(self) -> SweepResult:
        """Handle every ticket due for a look now; safe to run often, concurrently and after restarts."""
        now, result = self.clock.now(), SweepResult()
        async with self.db.transaction() as session:
            # A range on the sla_check_at index alone: with "status = 'open'" here as well, SQLite
            # prefers the status index and walks every open ticket. Status is checked per batch below.
            ids = sorted((await session.scalars(select(Ticket.id).where(Ticket.sla_check_at <= now))).all())
        for start in range(0, len(ids), self.batch_size):
            async with self.db.transaction() as session:
                tickets = (await session.scalars(
                    select(Ticket).where(Ticket.id.in_(ids[start:start + self.batch_size])).order_by(Ticket.id))).all()
                for ticket in tickets:
                    if ticket.status != ACTIVE:
                        ticket.sla_check_at = None  # left set by a path that closed it: drop it from the index
                        continue
                    await self._one(session, ticket, now, result)
        return result

    def cal(self, ticket: Ticket) -> BusinessCalendar:
        """The hours of the level the ticket sits at ([business], or that level's own hours)."""
        return BusinessCalendar.from_config(self.settings.business_for_level(ticket.level))

    async def _one(self, session, ticket: Ticket, now: datetime, result: SweepResult) -> None:
        result.checked += 1
        ref = f"{self.settings.helpdesk.ticket_prefix}-{ticket.id}"
        for name, due_col, warn_col, warn_bit, breach_bit in TARGETS:
            if name == "first_response" and ticket.first_response_at is not None:
                continue
            due, warn = _opt(getattr(ticket, due_col)), _opt(getattr(ticket, warn_col))
            if due is not None and now >= due:
                if await _claim_bit(session, ticket, breach_bit, also=warn_bit):
                    await self._breach(session, ticket, name, due, now)
                    result.breached.append(ticket.id)
            elif warn is not None and now >= warn and await _claim_bit(session, ticket, warn_bit):
                session.add(Event(ticket_id=ticket.id, kind="sla_warning", at=now,
                                  data={"target": name, "due": due.isoformat(), "share": self.settings.sla.warn_share}))
                await self._tell(session, ticket, "assignee/sla_warning", {"target": name, "due": due})
                result.warned.append(ticket.id)
        if now >= stall_at(ticket, settings=self.settings, cal=self.cal(ticket)) and await _claim_stall(session, ticket, now):
            session.add(Event(ticket_id=ticket.id, kind="stalled", at=now,
                              data={"last_activity": utc(ticket.last_activity_at).isoformat()}))
            await self._tell(session, ticket, "assignee/stalled", {"last_activity": utc(ticket.last_activity_at)})
            result.stalled.append(ticket.id)
        schedule_check(ticket, settings=self.settings, cal=self.cal(ticket))
        log.debug("sla: checked %s, next check %s", ref, ticket.sla_check_at)

    async def _breach(self, session, ticket: Ticket, target: str, due: datetime, now: datetime) -> None:
        session.add(Event(ticket_id=ticket.id, kind="sla_breach", at=now,
                          data={"target": target, "due": due.isoformat(), "level": ticket.level}))
        reason = f"{target.replace('_', ' ')} target missed (due {due:%Y-%m-%d %H:%M} UTC)"
        if ticket.priority == "urgent" and self.settings.sla.urgent_breach == "page":
            await self._page(session, ticket, reason, now)
            return
        await escalate(session, ticket=ticket, to_level=None, actor="sla", now=now, settings=self.settings,
                       notifier=self.notifier, reason=reason, send_after=self._send_after(ticket, now))

    async def _page(self, session, ticket: Ticket, reason: str, now: datetime) -> None:
        """Urgent work stays where it is handled: page its level (and its assignee) instead of escalating."""
        level = self.settings.level(ticket.level)
        recipients = [*level.recipients, *([ticket.assignee] if ticket.assignee else [])]
        rows = await self.notifier.enqueue(session, ticket=ticket, template="level/paged", recipients=recipients,
                                           automatic=False, context={"level": level, "reason": reason})
        session.add(Event(ticket_id=ticket.id, kind="paged", actor="sla", at=now,
                          data={"level": ticket.level, "reason": reason, "recipients": [r.recipient for r in rows]}))

    def _send_after(self, ticket: Ticket, now: datetime) -> datetime:
        """Non-urgent notifications wait in the outbox until business hours begin; urgent ones go now."""
        return now if ticket.priority in AROUND_THE_CLOCK else self.cal(ticket).next_business_start(now)

    async def _tell(self, session, ticket: Ticket, template: str, extra: dict) -> None:
        recipients = level_or_assignee(ticket, self.settings)
        await self.notifier.enqueue(session, ticket=ticket, template=template, recipients=recipients,
                                    context={"level": self.settings.level(ticket.level), **extra},
                                    automatic=False, send_after=self._send_after(ticket, self.clock.now()))

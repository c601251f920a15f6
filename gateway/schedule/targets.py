"""SLA due times per priority: business hours, urgent around the clock, high by the cut-off rule."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.schedule.businesstime import BusinessCalendar, parse_hhmm

AROUND_THE_CLOCK = frozenset({"urgent"})


@dataclass(frozen=True)
class SlaTarget:
    """One priority's two due times: first response and resolution (aware UTC)."""

    first_response: datetime
    resolution: datetime


def _later(cal: BusinessCalendar, start: datetime, hours: float, priority: str) -> datetime:
    if priority in AROUND_THE_CLOCK:
        return start + timedelta(hours=hours)
    return cal.add_business_seconds(start, hours * 3600)


def high_resolution_due(created: datetime, cal: BusinessCalendar, next_morning: str = "12:00") -> datetime:
    """Same business day, or `next_morning` on the next working day after the cut-off.

    Before the cut-off on a working day (including before opening): that day's closing time.
    At or after the cut-off, after closing, or on a weekend/holiday: the next working day at
    `next_morning` local time (clamped into business hours).
    """
    day = cal.local_date(created)
    if cal.is_business_day(day) and created < cal.at(day, cal.high_cutoff):
        return cal.window(day)[1]
    following = cal.next_business_day(day)
    morning = min(max(parse_hhmm(next_morning), cal.start), cal.end)
    return cal.at(following, morning)


def due_times(priority: str, created: datetime, cal: BusinessCalendar, sla=None) -> SlaTarget:
    """SlaTarget(first_response_due, resolution_due) for a ticket of `priority` opened at `created`.

    sla: an SlaConfig ([sla] in config.toml); None uses the defaults. Urgent targets count wall-clock
    hours (around the clock); high resolution follows the cut-off rule; the rest count business hours.
    A first-response due never falls after the resolution due.
    """
    if sla is None:
        from gateway.config import SlaConfig

        sla = SlaConfig()
    target = sla.target(priority)
    first = _later(cal, created, target.first_response_hours, priority)
    if priority == "high":
        resolution = high_resolution_due(created, cal, sla.high_next_morning)
    else:
        resolution = _later(cal, created, target.resolution_hours, priority)
    return SlaTarget(first_response=min(first, resolution), resolution=resolution)


def warn_time(start: datetime, due: datetime, share: float, cal: BusinessCalendar, priority: str) -> datetime:
    """The moment `share` of the time from `start` to `due` has passed (business or wall time)."""
    if priority in AROUND_THE_CLOCK:
        return start + (due - start) * share
    return cal.add_business_seconds(start, cal.business_seconds_between(start, due) * share)


def stall_time(last_activity: datetime, hours: float, cal: BusinessCalendar, priority: str) -> datetime:
    """When a ticket last touched at `last_activity` counts as stalled."""
    return _later(cal, last_activity, hours, priority)


def shift_for_pause(due: datetime, paused_at: datetime, resumed_at: datetime, cal: BusinessCalendar,
                    *, around_the_clock: bool = False) -> datetime:
    """`due` moved later by the business time (or wall time, for urgent) spent paused.

    shift_for_pause(Tue 12:00, Mon 16:00, Tue 09:30, cal) -> Tue 14:00 (2 business hours paused).
    """
    if resumed_at <= paused_at:
        return due
    if around_the_clock:
        return due + (resumed_at - paused_at)
    paused = cal.business_seconds_between(paused_at, resumed_at)
    # Added from `due` itself, so a due time at closing moves into the next day's hours, not overnight.
    return cal.add_business_seconds(due, paused) if paused > 0 else due

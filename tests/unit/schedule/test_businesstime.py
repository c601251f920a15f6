"""Business-time arithmetic and SLA due times, with fixed datetimes (Europe/London, 08:30-17:00)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.config import BusinessConfig, SlaConfig
from gateway.errors import ConfigError
from gateway.schedule.businesstime import BusinessCalendar
from gateway.schedule.targets import due_times, shift_for_pause, stall_time, warn_time

H = 3600


def utc(text: str) -> datetime:
    """'2026-01-05 09:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


CAL = BusinessCalendar.from_config(BusinessConfig())
# 2026-01-05 is a Monday; London is on UTC in January and on UTC+1 (BST) from Sunday 29 March.
HOLIDAY_CAL = BusinessCalendar.from_config(BusinessConfig(holidays=("2026-01-07",)))
GB_CAL = BusinessCalendar.from_config(BusinessConfig(country="GB"))  # Good Friday 2026-04-03


@pytest.mark.parametrize("cal, start, seconds, expected", [
    (CAL, "2026-01-05 09:00", 2 * H, "2026-01-05 11:00"),            # inside one day
    (CAL, "2026-01-05 16:00", 2 * H, "2026-01-06 09:30"),            # overnight
    (CAL, "2026-01-09 16:00", 2 * H, "2026-01-12 09:30"),            # Friday -> Monday
    (CAL, "2026-01-10 11:00", 1 * H, "2026-01-12 09:30"),            # Saturday starts Monday morning
    (CAL, "2026-01-05 06:00", 1 * H, "2026-01-05 09:30"),            # before opening
    (CAL, "2026-01-05 08:30", 8.5 * H, "2026-01-05 17:00"),          # exactly a day ends at closing
    (CAL, "2026-01-05 09:00", 24 * H, "2026-01-07 16:00"),           # medium: 24 business hours
    (CAL, "2026-01-05 09:00", 48 * H, "2026-01-12 14:30"),           # low: 48, across a weekend
    (HOLIDAY_CAL, "2026-01-06 16:00", 2 * H, "2026-01-08 09:30"),    # listed holiday skipped
    (GB_CAL, "2026-04-02 15:00", 2 * H, "2026-04-06 08:30"),         # Good Friday (GB); BST: 16:00 local
    (CAL, "2026-03-27 16:00", 2 * H, "2026-03-30 08:30"),            # DST starts on the Sunday between
    (CAL, "2026-10-23 15:00", 2 * H, "2026-10-26 09:30"),            # DST ends (16:00 BST -> Mon GMT)
    (CAL, "2026-01-05 09:00", 0, "2026-01-05 09:00"),
])
def test_add_business_seconds(cal, start, seconds, expected):
    assert cal.add_business_seconds(utc(start), seconds) == utc(expected)


@pytest.mark.parametrize("cal, a, b, hours", [
    (CAL, "2026-01-05 09:00", "2026-01-05 11:00", 2),
    (CAL, "2026-01-05 16:00", "2026-01-06 09:30", 2),
    (CAL, "2026-01-09 12:00", "2026-01-12 12:00", 8.5),              # a weekend costs nothing
    (CAL, "2026-01-10 00:00", "2026-01-11 23:59", 0),
    (HOLIDAY_CAL, "2026-01-06 08:30", "2026-01-08 17:00", 17),
    (CAL, "2026-03-27 08:30", "2026-03-30 16:00", 17),               # Mon 17:00 BST is 16:00 UTC
    (CAL, "2026-01-05 11:00", "2026-01-05 09:00", -2),               # reversed: negative
    (CAL, "2026-01-05 09:00", "2027-01-05 09:00", 8.5 * 261),        # a year: 261 weekdays in 2026
])
def test_business_seconds_between(cal, a, b, hours):
    assert cal.business_seconds_between(utc(a), utc(b)) == pytest.approx(hours * H)


@pytest.mark.parametrize("cal, t, inside, next_start", [
    (CAL, "2026-01-05 08:29", False, "2026-01-05 08:30"),
    (CAL, "2026-01-05 08:30", True, "2026-01-05 08:30"),
    (CAL, "2026-01-05 16:59", True, "2026-01-05 16:59"),
    (CAL, "2026-01-05 17:00", False, "2026-01-06 08:30"),
    (CAL, "2026-01-10 10:00", False, "2026-01-12 08:30"),
    (HOLIDAY_CAL, "2026-01-07 10:00", False, "2026-01-08 08:30"),
    (GB_CAL, "2026-01-01 10:00", False, "2026-01-02 08:30"),         # New Year's Day by country
    (CAL, "2026-07-06 07:45", True, "2026-07-06 07:45"),             # 08:45 BST
])
def test_business_time_and_next_start(cal, t, inside, next_start):
    assert cal.is_business_time(utc(t)) is inside
    assert cal.next_business_start(utc(t)) == utc(next_start)


@pytest.mark.parametrize("priority, created, first, resolution", [
    # urgent: around the clock, wall time (defaults: 1 h first response, 2 h resolution)
    ("urgent", "2026-01-10 03:00", "2026-01-10 04:00", "2026-01-10 05:00"),
    # high: same day before the cut-off ...
    ("high", "2026-01-05 14:59", "2026-01-05 16:59", "2026-01-05 17:00"),
    ("high", "2026-01-05 06:00", "2026-01-05 10:30", "2026-01-05 17:00"),   # before opening: same day
    # ... else 12:00 on the next working day
    ("high", "2026-01-05 15:00", "2026-01-05 17:00", "2026-01-06 12:00"),
    ("high", "2026-01-05 18:00", "2026-01-06 10:30", "2026-01-06 12:00"),   # out of hours
    ("high", "2026-01-09 15:30", "2026-01-12 09:00", "2026-01-12 12:00"),   # Friday afternoon -> Monday
    ("high", "2026-01-10 10:00", "2026-01-12 10:30", "2026-01-12 12:00"),   # Saturday
    ("medium", "2026-01-05 09:00", "2026-01-05 13:00", "2026-01-07 16:00"),
    ("low", "2026-01-05 09:00", "2026-01-05 17:00", "2026-01-12 14:30"),
])
def test_due_times(priority, created, first, resolution):
    due = due_times(priority, utc(created), CAL, SlaConfig())
    assert (due.first_response, due.resolution) == (utc(first), utc(resolution))


def test_high_cutoff_skips_a_holiday():
    due = due_times("high", utc("2026-01-06 16:00"), HOLIDAY_CAL)
    assert due.resolution == utc("2026-01-08 12:00")


@pytest.mark.parametrize("due, paused, resumed, around, expected", [
    ("2026-01-06 12:00", "2026-01-05 15:00", "2026-01-05 17:00", False, "2026-01-06 14:00"),
    ("2026-01-06 12:00", "2026-01-05 16:00", "2026-01-06 09:30", False, "2026-01-06 14:00"),
    ("2026-01-05 17:00", "2026-01-05 10:00", "2026-01-05 11:00", False, "2026-01-06 09:30"),
    ("2026-01-12 12:00", "2026-01-09 18:00", "2026-01-12 08:00", False, "2026-01-12 12:00"),  # weekend: free
    ("2026-01-10 05:00", "2026-01-10 03:30", "2026-01-10 04:00", True, "2026-01-10 05:30"),
    ("2026-01-06 12:00", "2026-01-06 10:00", "2026-01-06 09:00", False, "2026-01-06 12:00"),  # no pause
])
def test_shift_for_pause(due, paused, resumed, around, expected):
    assert shift_for_pause(utc(due), utc(paused), utc(resumed), CAL, around_the_clock=around) == utc(expected)


def test_warn_and_stall_times():
    assert warn_time(utc("2026-01-05 09:00"), utc("2026-01-05 13:00"), 0.75, CAL, "medium") == utc("2026-01-05 12:00")
    assert warn_time(utc("2026-01-09 16:00"), utc("2026-01-12 09:30"), 0.5, CAL, "medium") == utc("2026-01-09 17:00")
    assert warn_time(utc("2026-01-10 03:00"), utc("2026-01-10 05:00"), 0.75, CAL, "urgent") == utc("2026-01-10 04:30")
    assert stall_time(utc("2026-01-09 16:00"), 4, CAL, "high") == utc("2026-01-12 11:30")


@pytest.mark.parametrize("config, fragment", [
    (BusinessConfig(timezone="Mars/Olympus"), "business.timezone"),
    (BusinessConfig(days=()), "business.days"),
    (BusinessConfig(start="17:00", end="08:30"), "business.end"),
    (BusinessConfig(holidays=("2026-13-01",)), "business.holidays"),
    (BusinessConfig(country="XX"), "business.country"),
])
def test_bad_business_config_names_the_key(config, fragment):
    with pytest.raises(ConfigError, match=fragment):
        BusinessCalendar.from_config(config)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        CAL.is_business_time(datetime(2026, 1, 5, 9))


def test_long_spans_are_quick():
    # Day stepping, not minute stepping: ten years of working time in well under a second.
    start = utc("2026-01-05 09:00")
    end = CAL.add_business_seconds(start, 8.5 * H * 2600)
    assert end - start > timedelta(days=3600)

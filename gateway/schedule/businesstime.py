"""Business-time arithmetic: working hours, weekends and holidays in the configured time zone."""
from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.errors import ConfigError

# Enough for any real target; stops a loop that can never find a working day from spinning for ever.
_MAX_DAYS = 3 * 366


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name}: naive datetime {value.isoformat()}; pass an aware UTC datetime")
    return value.astimezone(UTC)


class BusinessCalendar:
    """Working days and hours in one zone; every input and output is an aware UTC datetime.

    Days are walked one at a time (never minute by minute), so a 48-hour target costs about a week
    of iterations. Local opening and closing times are turned into UTC per day, which makes weeks
    with a DST change come out right.
    """

    def __init__(self, *, timezone_name: str = "Europe/London", days=(0, 1, 2, 3, 4), start: str = "08:30",
                 end: str = "17:00", holidays=(), country: str | None = None, high_cutoff: str = "15:00"):
        try:
            self.zone = ZoneInfo(timezone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"business.timezone: unknown time zone {timezone_name!r}; "
                              f"use an IANA name such as 'Europe/London'") from None
        self.days = frozenset(days)
        if not self.days or not self.days <= set(range(7)):
            raise ConfigError(f"business.days: {sorted(days)}; list working weekdays as 0 (Monday) to 6 (Sunday)")
        self.start, self.end = parse_hhmm(start), parse_hhmm(end)
        if self.end <= self.start:
            raise ConfigError(f"business.end ({end}) must be later than business.start ({start})")
        try:
            self.holidays = frozenset(date.fromisoformat(d) for d in holidays)
        except ValueError as exc:
            raise ConfigError(f"business.holidays: {exc}; write dates as YYYY-MM-DD") from None
        self.country = self._country(country)
        self.high_cutoff = parse_hhmm(high_cutoff)

    @classmethod
    def from_config(cls, config) -> BusinessCalendar:
        """Build from a BusinessConfig ([business] in config.toml); one calendar per config, built once."""
        return _calendar_for(cls, config)

    @classmethod
    def _build(cls, config) -> BusinessCalendar:
        return cls(timezone_name=config.timezone, days=config.days, start=config.start, end=config.end,
                   holidays=config.holidays, country=config.country, high_cutoff=config.high_cutoff)

    @staticmethod
    def _country(code: str | None):
        if not code:
            return None
        import holidays as holidays_package

        try:
            return holidays_package.country_holidays(code)
        except NotImplementedError:
            raise ConfigError(f"business.country: {code!r} is not known to the holidays package; "
                              f"use an ISO 3166 code such as 'GB', or list dates in business.holidays") from None

    # --- days -----------------------------------------------------------------------------------------
    def local_date(self, t: datetime) -> date:
        return _aware(t, "t").astimezone(self.zone).date()

    def is_business_day(self, day: date) -> bool:
        if day.weekday() not in self.days or day in self.holidays:
            return False
        return self.country is None or day not in self.country

    def at(self, day: date, clock_time: time) -> datetime:
        """The UTC instant of local `clock_time` on `day` (zoneinfo resolves DST gaps forwards)."""
        return datetime.combine(day, clock_time, tzinfo=self.zone).astimezone(UTC)

    def window(self, day: date) -> tuple[datetime, datetime]:
        """(opening, closing) of `day` in UTC; only meaningful for a business day."""
        return self.at(day, self.start), self.at(day, self.end)

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after `day`."""
        for offset in range(1, _MAX_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_business_day(candidate):
                return candidate
        raise ConfigError("business: no working day within three years; check business.days and holidays")

    # --- instants -------------------------------------------------------------------------------------
    def is_business_time(self, t: datetime) -> bool:
        t = _aware(t, "t")
        day = self.local_date(t)
        if not self.is_business_day(day):
            return False
        opening, closing = self.window(day)
        return opening <= t < closing

    def next_business_start(self, t: datetime) -> datetime:
        """`t` itself inside business hours, else the next opening time."""
        t = _aware(t, "t")
        day = self.local_date(t)
        if self.is_business_day(day):
            opening, closing = self.window(day)
            if t < opening:
                return opening
            if t < closing:
                return t
        return self.window(self.next_business_day(day))[0]

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant `seconds` of business time after `start`; a target ending at closing stays that day.

        add_business_seconds(Fri 16:00, 2 h) -> Mon 09:30 (Europe/London, 08:30-17:00).
        """
        start = _aware(start, "start")
        if seconds <= 0:
            return start
        remaining = timedelta(seconds=seconds)
        day = self.local_date(start)
        for _ in range(_MAX_DAYS * 20):
            if self.is_business_day(day):
                opening, closing = self.window(day)
                begin = max(opening, start)
                if begin < closing:
                    available = closing - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += timedelta(days=1)
        raise ConfigError("business: target lies beyond sixty years; check the [business] section")

    def business_seconds_between(self, a: datetime, b: datetime) -> float:
        """Business seconds from `a` to `b`; negative when `b` is before `a`."""
        a, b = _aware(a, "a"), _aware(b, "b")
        if b < a:
            return -self.business_seconds_between(b, a)
        total = 0.0
        day, last = self.local_date(a), self.local_date(b)
        while day <= last:
            if self.is_business_day(day):
                opening, closing = self.window(day)
                overlap = (min(closing, b) - max(opening, a)).total_seconds()
                if overlap > 0:
                    total += overlap
            day += timedelta(days=1)
        return total


@functools.lru_cache(maxsize=8)
def _calendar_for(cls, config) -> BusinessCalendar:
    # Config sections are frozen (hashable); building a country's holiday table per mail was measurable.
    return cls._build(config)

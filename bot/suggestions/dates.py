"""Calendar days and months of the service (Peru time, UTC-5 all year) turned into UTC instants."""

from __future__ import annotations

import datetime as dt
import re

from bot.store.clock import aware

LIMA = dt.timezone(dt.timedelta(hours=-5), "America/Lima")  # Peru keeps no daylight-saving time
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")




def utc(value: dt.datetime) -> dt.datetime:
    """An instant in UTC (naive means UTC). SQLite keeps a datetime's digits and drops its offset, so
    every time is converted before it is stored or compared."""
    return aware(value).astimezone(dt.timezone.utc)


def day_start(day: dt.date) -> dt.datetime:
    """00:00 of a calendar day in Peru, as a UTC instant."""
    return dt.datetime.combine(day, dt.time(), LIMA).astimezone(dt.timezone.utc)


def bound(value: dt.date | dt.datetime | None, *, end: bool) -> dt.datetime | None:
    """A filter bound: a date is a whole Peruvian day (an `end` date is included), a datetime is exact."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return utc(value)
    return day_start(value + dt.timedelta(days=1) if end else value)


def parse_month(value: str | dt.date) -> dt.date:
    """"2026-05" (or any date in it) → 2026-05-01."""
    if isinstance(value, dt.date):
        return value.replace(day=1)
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"month must be YYYY-MM, not {value!r}")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def month_range(value: str | dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants [start, end) of a calendar month in Peru."""
    first = parse_month(value)
    return day_start(first), day_start(add_months(first, 1))


def local_year(instant: dt.datetime) -> int:
    return instant.astimezone(LIMA).year

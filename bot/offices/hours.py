"""Office hours of the advisors, in the service's time zone (America/Lima by default): the service's
(HANDOFF_OFFICE_HOURS, bot/handoff/settings.py) and each office's own (bot/offices/directory.py).

Written as in HANDOFF_OFFICE_HOURS: day ranges and time ranges, groups separated by ";", e.g.
"lun-vie 08:30-13:00,14:00-16:30; sab 09:00-12:00". Days: lun mar mie jue vie sab dom (accents
and English abbreviations are accepted). Holidays (HANDOFF_HOLIDAYS, "2026-12-25,2027-01-01")
are closed all day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.text import fold

DAYS = ("lun", "mar", "mie", "jue", "vie", "sab", "dom")
DAY_NAMES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_ENGLISH = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
DEFAULT_HOURS = "lun-vie 08:30-16:30"


class HoursError(ValueError):
    """The office hours (or holidays) could not be read. The message, in Spanish for the supervisors who
    type the hours of an office on the desk, says what is wrong and how to write it; it is one sentence
    with no closing period, so that the desk and the settings can put it in theirs."""


def _day(token: str) -> int:
    written = token.strip()
    token = fold(written)[:3]
    if token in DAYS:
        return DAYS.index(token)
    if token in _ENGLISH:
        return _ENGLISH[token]
    raise HoursError(f"El día «{written}» no se entiende: escriba lun, mar, mie, jue, vie, sab o dom")


def _time(token: str) -> dt.time:
    written = token.strip()
    match = _TIME.match(written)
    if not match:
        raise HoursError(f"La hora «{written}» no se entiende: escríbala con horas y minutos, por ejemplo 08:30")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24 and minute == 0:
        return dt.time.max
    if hour > 23 or minute > 59:
        raise HoursError(f"La hora «{written}» no existe: las horas van de 00:00 a 24:00")
    return dt.time(hour, minute)


def _holiday(token: str) -> dt.date:
    try:
        return dt.date.fromisoformat(token)
    except ValueError:
        raise HoursError(f"El feriado «{token}» no es una fecha: escríbalo como 2026-12-25 (año-mes-día)") from None


def _clock(value: dt.time) -> str:
    return "24:00" if value == dt.time.max else f"{value.hour}:{value.minute:02d}"


@dataclass(frozen=True)
class OfficeHours:
    """Opening intervals per weekday (0 = Monday), holidays, and the time zone they are in."""

    week: tuple[tuple[tuple[dt.time, dt.time], ...], ...]
    holidays: frozenset[dt.date]
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str = DEFAULT_HOURS, holidays: str = "", zone: str = "America/Lima") -> OfficeHours:
        week: list[list[tuple[dt.time, dt.time]]] = [[] for _ in range(7)]
        for group in filter(None, (g.strip() for g in (spec or "").split(";"))):
            days_part, _, times_part = group.partition(" ")
            if not times_part.strip():
                raise HoursError(f"El horario «{group}» no se entiende: escriba los días y luego las horas, "
                                 f"por ejemplo «{DEFAULT_HOURS}»")
            days: list[int] = []
            for item in days_part.split(","):
                first, _, last = item.partition("-")
                start, end = _day(first), _day(last) if last else _day(first)
                days += list(range(start, end + 1)) if start <= end else [*range(start, 7), *range(0, end + 1)]
            for span in times_part.replace(" ", "").split(","):
                opens, _, closes = span.partition("-")
                if not opens or not closes:
                    raise HoursError(f"El tramo «{span}» no se entiende: escriba la hora de apertura y la de cierre, "
                                     "por ejemplo 08:30-16:30")
                interval = (_time(opens), _time(closes))
                if interval[0] >= interval[1]:
                    raise HoursError(f"En «{span}» la hora de cierre debe ser posterior a la de apertura")
                for day in days:
                    week[day].append(interval)
        dates = frozenset(_holiday(d.strip()) for d in (holidays or "").split(",") if d.strip())
        try:
            tz = ZoneInfo(zone)
        except Exception:
            raise HoursError(f"La zona horaria «{zone}» no existe: escriba una como America/Lima") from None
        return cls(tuple(tuple(sorted(day)) for day in week), dates, tz)

    def local(self, at: dt.datetime) -> dt.datetime:
        return at.astimezone(self.zone)

    def _intervals(self, day: dt.date) -> tuple[tuple[dt.time, dt.time], ...]:
        return () if day in self.holidays else self.week[day.weekday()]

    def is_open(self, at: dt.datetime) -> bool:
        local = self.local(at)
        now = local.time()
        return any(opens <= now < closes for opens, closes in self._intervals(local.date()))

    def next_opening(self, at: dt.datetime) -> dt.datetime | None:
        """When the advisors are next at work (a local time), or None when they never are."""
        local = self.local(at)
        for offset in range(0, 370):
            day = local.date() + dt.timedelta(days=offset)
            for opens, _ in self._intervals(day):
                start = dt.datetime.combine(day, opens, tzinfo=self.zone)
                if start > local:
                    return start
        return None

    def closes_at(self, at: dt.datetime) -> dt.datetime | None:
        """When the current opening interval ends (local), or None when closed now."""
        local = self.local(at)
        for opens, closes in self._intervals(local.date()):
            if opens <= local.time() < closes:
                end = dt.datetime.combine(local.date(), closes if closes != dt.time.max else dt.time(23, 59), tzinfo=self.zone)
                return end
        return None

    def open_minutes_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Minutes of office hours between two moments (waits are counted in working time)."""
        if end <= start:
            return 0.0
        total = 0.0
        local_start, local_end = self.local(start), self.local(end)
        day = local_start.date()
        while day <= local_end.date():
            for opens, closes in self._intervals(day):
                a = dt.datetime.combine(day, opens, tzinfo=self.zone)
                b = dt.datetime.combine(day, closes, tzinfo=self.zone) if closes != dt.time.max else \
                    dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=self.zone)
                lo, hi = max(a, local_start), min(b, local_end)
                if hi > lo:
                    total += (hi - lo).total_seconds() / 60
            day += dt.timedelta(days=1)
        return total

    def describe(self, lang: str = "es") -> str:
        """The schedule in words: "de lunes a viernes de 8:30 a 16:30" (es), "Monday to Friday, 8:30
        to 16:30" (en)."""
        if lang not in _WORDS:
            raise ValueError(f"no {lang!r} wording of the office hours (only {', '.join(_WORDS)})")
        words = _WORDS[lang]
        groups: list[tuple[list[int], tuple[tuple[dt.time, dt.time], ...]]] = []
        for day, intervals in enumerate(self.week):
            if not intervals:
                continue
            if groups and groups[-1][1] == intervals and groups[-1][0][-1] == day - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], intervals))
        if not groups:
            return words["none"]
        names = words["days"]
        parts = []
        for days, intervals in groups:
            if len(days) == 1:
                when = words["one"].format(_plural(names[days[0]]))
            elif len(days) == 2:
                when = words["two"].format(names[days[0]], names[days[1]])
            else:
                when = words["range"].format(names[days[0]], names[days[-1]])
            spans = words["and"].join(words["span"].format(_clock(a), _clock(b)) for a, b in intervals)
            parts.append(words["group"].format(when, spans))
        return "; ".join(parts)


def _plural(name: str) -> str:
    """ "sábados", "lunes", "Saturdays": every day, said of one weekday."""
    return name if name.endswith("s") else name + "s"


# How describe() words a schedule, by language: the day names, a single day ("los sábados", "on
# Saturdays"), two days, a range of days, one opening span, what joins the spans, a day group and
# its spans, and the schedule with no opening at all.
_WORDS: dict[str, dict] = {
    "es": {"days": DAY_NAMES, "one": "los {}", "two": "{} y {}", "range": "de {} a {}", "span": "de {} a {}",
           "and": " y ", "group": "{} {}", "none": "sin horario de atención configurado"},
    "en": {"days": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
           "one": "on {}", "two": "{} and {}", "range": "{} to {}", "span": "{} to {}",
           "and": " and ", "group": "{}, {}", "none": "no office hours set"},
}


def spoken_moment(moment: dt.datetime, now: dt.datetime) -> str:
    """ "hoy a las 14:00", "mañana a las 8:30", "el lunes 30/11 a las 8:30" (local times)."""
    local_now = now.astimezone(moment.tzinfo)
    days = (moment.date() - local_now.date()).days
    clock = f"{moment.hour}:{moment.minute:02d}"
    if days == 0:
        return f"hoy a las {clock}"
    if days == 1:
        return f"mañana a las {clock}"
    return f"el {DAY_NAMES[moment.weekday()]} {moment.day:02d}/{moment.month:02d} a las {clock}"

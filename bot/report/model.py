"""The report as data: sections with key figures, charts and tables, and how cells are shown.

No personal data: a count from 1 to 4 is shown as "<5" (0 stays 0); a share is not shown ("—") when
it is over fewer than 5 items or when it would give away a hidden count (1 to 4 of them); an average
over fewer than 5 values is not shown. The same rule applies to the CSV files; the raw numbers
exist only in memory (`Report.data`, for tests) and are never written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

SMALL = 5
HIDDEN = "<5"
NONE = "—"


@dataclass(frozen=True)
class Share:
    """part / whole, shown as a percentage when whole >= SMALL and part is not a hidden count."""

    part: int
    whole: int


@dataclass(frozen=True)
class Mean:
    """An average of n values, shown when n >= SMALL."""

    value: float | None
    n: int


@dataclass(frozen=True)
class Duration:
    """Seconds, shown as "2 h 05 min", "12 min" or "40 s"."""

    seconds: float | None


def count_cell(value: int | None) -> str:
    if value is None:
        return NONE
    return HIDDEN if 0 < value < SMALL else str(value)


def show(value: Any, *, csv: bool = False) -> str:
    """A cell as the reader sees it (HTML: thousands with a thin space; CSV: plain digits)."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, int):
        text = count_cell(value)
        return text if csv or text == HIDDEN else f"{value:,}".replace(",", "\u202f")
    if isinstance(value, Share):
        if value.whole < SMALL or 0 < value.part < SMALL:
            return NONE
        return f"{100 * value.part / value.whole:.0f} %"
    if isinstance(value, Mean):
        if value.value is None or value.n < SMALL:
            return NONE
        return f"{value.value:.1f}".replace(".", ",")
    if isinstance(value, Duration):
        return duration(value.seconds)
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    return str(value)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours / 24:.1f} días".replace(".", ",")


@dataclass
class Table:
    key: str  # also the CSV file's name
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    numeric: tuple[int, ...] = ()  # columns aligned right (defaults to every column but the first)
    limit: int | None = None  # rows shown in the HTML (the CSV has all)
    empty: str = "Sin datos este mes."

    @property
    def compact(self) -> bool:
        """Narrow tables (a label and one or two figures) need not span the page."""
        return len(self.columns) <= 3

    def right_aligned(self, index: int) -> bool:
        return index in self.numeric if self.numeric else index > 0

    def shown_rows(self, *, csv: bool = False) -> list[list[str]]:
        rows = self.rows if csv or self.limit is None else self.rows[: self.limit]
        return [[show(cell, csv=csv) for cell in row] for row in rows]


@dataclass
class Figure:
    title: str
    png_base64: str
    alt: str


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    month: dt.date
    generated_at: dt.datetime
    highlights: list[tuple[str, Any]]
    sections: list[Section]
    data: dict[str, Any]  # raw numbers (never written: tests and callers only)
    warnings: list[str] = field(default_factory=list)

    @property
    def tables(self) -> list[Table]:
        return [table for section in self.sections for table in section.tables]

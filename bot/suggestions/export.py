"""Exports (CSV, JSON) and the monthly counts of suggestions for the monthly report.

Exports carry every field except the sender id (and the digest of the submit key); the contact only
with include_contact=True (the desk: supervisors). Without the contact, e-mail addresses, phone
numbers and document numbers in the text and the notes are replaced by marks (bot.suggestions.scrub),
so an export without contacts has none anywhere. Times are given in Peru time with their offset ("2026-05-03T10:15:00-05:00").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.store import clock
from bot.suggestions import dates
from bot.suggestions.schema import KINDS, STATUSES, suggestions
from bot.suggestions.scrub import scrub
from bot.suggestions.service import Suggestion, iter_suggestions

COLUMNS: tuple[str, ...] = (
    "reference", "created_at", "status", "kind", "country", "city", "topic", "text", "contact", "channel",
    "consent_at", "tags", "notes", "updated_at", "personal_data_erased_at", "id",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FREE_TEXT = ("city", "topic", "text", "tags", "notes")


def columns(include_contact: bool = False) -> list[str]:
    return [c for c in COLUMNS if include_contact or c != "contact"]


def _local(value: dt.datetime | None) -> str | None:
    return value.astimezone(dates.LIMA).isoformat() if value else None


def record(suggestion: Suggestion, include_contact: bool = False) -> dict[str, Any]:
    """One suggestion as exported to JSON."""
    data = suggestion.to_dict(include_contact=include_contact)
    if not include_contact:
        data["text"] = scrub(data["text"])
        data["notes"] = [{**n, "text": scrub(str(n.get("text", "")))} if isinstance(n, dict) else n for n in data["notes"]]
    for key in ("created_at", "updated_at", "consent_at", "personal_data_erased_at"):
        data[key] = _local(getattr(suggestion, key))
    return {c: data[c] for c in columns(include_contact)}


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "tags":
        value = "; ".join(value)
    elif name == "notes":
        value = "\n".join(f"{note.get('at', '')} {note.get('staff_email') or note.get('staff_id') or ''}: {note.get('text', '')}"
                          for note in value)
    value = str(value)
    if name in _FREE_TEXT and value.startswith(_FORMULA_START):
        value = "'" + value  # a spreadsheet must not run what a person wrote as a formula
    return value


def write_csv(out: TextIO, items: Any, include_contact: bool = False) -> int:
    """Write a header and one row per suggestion; how many rows."""
    names = columns(include_contact)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    count = 0
    for suggestion in items:
        data = record(suggestion, include_contact)
        writer.writerow([_cell(name, data[name]) for name in names])
        count += 1
    return count


def write_json(out: TextIO, items: Any, include_contact: bool = False, **about: Any) -> int:
    """Write {"exported_at", filters given in `about`, "include_contact", "count", "suggestions": [...]}."""
    rows = [record(s, include_contact) for s in items]
    document = {"exported_at": _local(clock.now()), **{k: _jsonable(v) for k, v in about.items()},
                "include_contact": include_contact, "count": len(rows), "suggestions": rows}
    json.dump(document, out, ensure_ascii=False, indent=2)
    out.write("\n")
    return len(rows)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def export(engine: Engine, fmt: str, out: TextIO, *, include_contact: bool = False, **criteria: Any) -> int:
    """Export the suggestions matching `criteria` (since, until, status, kind, country, topic) as "csv" or "json"."""
    items = iter_suggestions(engine, **criteria)
    if fmt == "csv":
        return write_csv(out, items, include_contact)
    if fmt == "json":
        return write_json(out, items, include_contact, **{k: v for k, v in criteria.items() if v is not None})
    raise ValueError(f"format must be csv or json, not {fmt!r}")


def export_csv(engine: Engine, *, include_contact: bool = False, **criteria: Any) -> str:
    buffer = io.StringIO()
    export(engine, "csv", buffer, include_contact=include_contact, **criteria)
    return buffer.getvalue()


def export_json(engine: Engine, *, include_contact: bool = False, **criteria: Any) -> str:
    buffer = io.StringIO()
    export(engine, "json", buffer, include_contact=include_contact, **criteria)
    return buffer.getvalue()


def monthly_counts(engine: Engine, month: str | dt.date) -> dict[str, Any]:
    """Suggestions received in a calendar month (Peru time): the total and the counts per kind, country,
    topic and (current) status. Every kind and status is present, with 0 when there is none."""
    first = dates.parse_month(month)
    start, end = dates.month_range(first)
    in_month = (suggestions.c.created_at >= start, suggestions.c.created_at < end)
    result: dict[str, Any] = {"month": f"{first:%Y-%m}"}
    with engine.connect() as conn:
        result["total"] = conn.execute(select(func.count()).select_from(suggestions).where(*in_month)).scalar_one()
        for name, known in (("kind", KINDS), ("country", ()), ("topic", ()), ("status", STATUSES)):
            column = suggestions.c[name]
            rows = conn.execute(select(column, func.count()).where(*in_month).group_by(column)).all()
            found = {value: count for value, count in rows}
            ordered = {k: found.pop(k, 0) for k in known}
            ordered.update(sorted(found.items(), key=lambda item: (-item[1], item[0])))
            result[f"by_{name}"] = ordered
    return result

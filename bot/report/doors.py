"""The service by door (directive 5.1, 5.4.6): the chats (web, WhatsApp, Telegram), the e-mail and the
in-person window counted side by side, by line of action and by country, with the answer times of
the doors where a person waits for an advisor.

- Chats: the month's conversations of the tracker (bot.report.conversations), per channel; their line
  and countries as the conversations section counts them.
- E-mail: the month's "correo" tickets (each new e-mail conversation, or a reply after one was closed,
  is one consultation); line of action from the article the desk found for it, country from the text;
  an e-mail for which the knowledge search found nothing is a content gap: its subject (scrubbed by the
  gaps section like every question; never the text, where people sign with their name).
- Offices (bot/offices): the chats passed to an advisor and the e-mails by the office whose queue they were
  in, and the walk-ins by the office of the window.
- Window: the month's walk-in records (bot/window/schema.py), when that table exists; a walk-in who got no
  article is a content gap (the topics the advisor noted), and the walk-ins are counted per office.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

CHAT_DOORS = ("web", "whatsapp", "telegram")
EMAIL, WINDOW = "correo", "ventanilla"
DOORS = (*CHAT_DOORS, EMAIL, WINDOW)
NO_LINE = ""


def _has(engine: Engine, table: str) -> bool:
    return inspect(engine).has_table(table)


def tickets_by_office(engine: Engine, start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, int]]:
    """The month's handoff tickets (chats passed to an advisor, e-mails) per office name and door; {} without offices."""
    if not (_has(engine, "handoff_tickets") and _has(engine, "offices")):
        return {}
    from bot.handoff.schema import handoff_tickets as t
    from bot.offices.schema import offices as o

    query = (select(o.c.name, t.c.channel).select_from(t.outerjoin(o, o.c.id == t.c.office_id))
             .where(t.c.created_at >= start, t.c.created_at < end))
    counts: dict[str, Counter[str]] = {}
    with engine.connect() as conn:
        for name, channel in conn.execute(query):
            counts.setdefault(name or "", Counter())[EMAIL if channel == EMAIL else "chat"] += 1
    return {name: dict(c) for name, c in counts.items()}


def email_consultations(engine: Engine, start: dt.datetime, end: dt.datetime,
                        line_of: Callable[[str], str]) -> list[dict[str, Any]]:
    """The month's e-mail tickets: line (of the article found), country, and the subject when nothing was found."""
    if not _has(engine, "handoff_tickets"):
        return []
    from bot.handoff.schema import handoff_tickets as t

    query = (select(t.c.article_id, t.c.country, t.c.line, t.c.topic)
             .where(t.c.channel == EMAIL, t.c.created_at >= start, t.c.created_at < end).order_by(t.c.id))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [{"line": row["line"] or (line_of(row["article_id"]) if row["article_id"] else NO_LINE),
             "country": row["country"], "gap": None if row["article_id"] else (row["topic"] or "")}
            for row in rows]


def window_consultations(engine: Engine, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]] | None:
    """The month's walk-ins (line, country, office; the topics noted when no article was handed over); None without the table."""
    if not _has(engine, "window_visits"):
        return None
    from bot.window.schema import window_visits as v

    query = (select(v.c.line, v.c.country, v.c.office, v.c.topics, v.c.articles)
             .where(v.c.created_at >= start, v.c.created_at < end).order_by(v.c.id))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [{"line": row["line"] or NO_LINE, "country": row["country"], "office": row["office"],
             "gap": None if row["articles"] else ", ".join(str(t) for t in row["topics"] or [])} for row in rows]


def figures(chats: dict[str, Any], handoff: dict[str, Any] | None, email: list[dict[str, Any]],
            window: list[dict[str, Any]] | None, tickets_per_office: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    """Consultations by door, by line × door and country × door, answer times by door, gaps of e-mail and window."""
    by_door: Counter[str] = Counter({door: chats["by_channel"].get(door, {}).get("conversations", 0) for door in CHAT_DOORS})
    by_line: dict[str, Counter[str]] = {}
    by_country: dict[str, Counter[str]] = {}
    for door in CHAT_DOORS:
        for line, n in chats.get("line_by_channel", {}).get(door, {}).items():
            by_line.setdefault(line, Counter())[door] += n
        for country, n in chats.get("country_by_channel", {}).get(door, {}).items():
            by_country.setdefault(country, Counter())[door] += n
    offices: Counter[str] = Counter()
    per_office: dict[str, Counter[str]] = {name: Counter(c) for name, c in (tickets_per_office or {}).items()}
    gaps: list[str] = []
    for door, items in ((EMAIL, email), (WINDOW, window or [])):
        for item in items:
            by_door[door] += 1
            by_line.setdefault(item["line"] or NO_LINE, Counter())[door] += 1
            if item["country"]:
                by_country.setdefault(item["country"], Counter())[door] += 1
            if door == WINDOW:
                offices[item.get("office") or ""] += 1
                per_office.setdefault(item.get("office") or "", Counter())[WINDOW] += 1
            if item.get("gap"):
                gaps.append(item["gap"])
    per_channel = (handoff or {}).get("by_channel_summary", {})
    answers = {door: {k: per_channel[door][k] for k in ("tickets", "answered", "wait_median", "wait_p90")}
               for door in (*CHAT_DOORS, EMAIL) if door in per_channel}
    return {"by_door": {door: by_door[door] for door in DOORS}, "window_installed": window is not None,
            "by_line": {k: dict(v) for k, v in by_line.items()}, "by_country": {k: dict(v) for k, v in by_country.items()},
            "answer_times": answers, "window_by_office": dict(offices),
            "by_office": {name: {k: c[k] for k in ("chat", EMAIL, WINDOW)} for name, c in per_office.items()}, "gaps": gaps}

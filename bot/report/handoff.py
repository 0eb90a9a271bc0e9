"""Handoff figures of a month from the handoff tables (bot.handoff.schema): tickets opened in the
month, by reason and channel; the wait until an advisor's first answer and the time to close
(median and 90th percentile); the 1–5 ratings; the same per advisor (the ticket's last advisor) and
per channel (the e-mail's answer times beside the chats', bot/report/doors.py).

Returns None when the database has no handoff tables (the handoff is not installed there).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (q in 0..100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _seconds(end: dt.datetime | None, start: dt.datetime | None) -> float | None:
    end, start = _aware(end), _aware(start)
    return max(0.0, (end - start).total_seconds()) if end and start else None


def _summary(tickets: list[dict[str, Any]]) -> dict[str, Any]:
    waits = [w for w in (_seconds(t["first_response_at"], t["created_at"]) for t in tickets) if w is not None]
    closes = [c for c in (_seconds(t["closed_at"], t["created_at"]) for t in tickets if t["status"] == "closed") if c is not None]
    ratings = [t["rating"] for t in tickets if t["rating"]]
    return {
        "tickets": len(tickets),
        "closed": sum(1 for t in tickets if t["status"] == "closed"),
        "answered": len(waits),
        "wait_median": percentile(waits, 50), "wait_p90": percentile(waits, 90),
        "close_median": percentile(closes, 50), "close_p90": percentile(closes, 90), "closes": len(closes),
        "ratings": len(ratings), "rating_mean": sum(ratings) / len(ratings) if ratings else None,
        "rating_counts": {value: ratings.count(value) for value in range(1, 6)},
    }


def stats(engine: Engine, start: dt.datetime, end: dt.datetime) -> dict[str, Any] | None:
    if not inspect(engine).has_table("handoff_tickets"):
        return None
    from bot.desk.schema import desk_users
    from bot.handoff.schema import handoff_tickets as t

    query = (select(t.c.reason, t.c.channel, t.c.status, t.c.priority, t.c.advisor_id, t.c.created_at, t.c.first_response_at,
                    t.c.closed_at, t.c.rating, desk_users.c.display_name)
             .select_from(t.outerjoin(desk_users, desk_users.c.id == t.c.advisor_id))
             .where(t.c.created_at >= start, t.c.created_at < end))
    with engine.connect() as conn:
        tickets = [dict(row) for row in conn.execute(query).mappings()]
    result = _summary(tickets)
    result["by_reason"] = dict(Counter(ticket["reason"] for ticket in tickets))
    result["by_channel"] = dict(Counter(ticket["channel"] for ticket in tickets))
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for ticket in tickets:
        by_channel.setdefault(ticket["channel"], []).append(ticket)
    result["by_channel_summary"] = {channel: _summary(rows) for channel, rows in sorted(by_channel.items())}
    result["priority"] = sum(1 for ticket in tickets if ticket["priority"])
    result["open"] = sum(1 for ticket in tickets if ticket["status"] != "closed")
    per: dict[str, list[dict[str, Any]]] = {}
    for ticket in tickets:
        if ticket["advisor_id"] is not None:
            per.setdefault(ticket["display_name"] or f"#{ticket['advisor_id']}", []).append(ticket)
    result["advisors"] = {name: _summary(rows) for name, rows in sorted(per.items())}
    return result

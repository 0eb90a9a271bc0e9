"""Retention: what is kept for how long, applied once a day by the running desk server.

`run_retention` applies every period below; `run_daily` does it at most once per day (Lima) across
every process and host that shares the database: the first to insert the day into `privacy_runs`
runs it. The desk starts `daily_loop` with its other background work (bot/desk/erasure.py), so
retention runs by itself; `infomigra privacy retention` runs it by hand.

| what | after | how |
| --- | --- | --- |
| conversations (Rasa's tracker store) | CONVERSATIONS_RETENTION_DAYS (180) without a message | every event deleted |
| advisor tickets | HANDOFF_RETENTION_DAYS (365) after they closed | messages deleted; row anonymised for the statistics |
| channel state: `contacts` | CHANNEL_STATE_RETENTION_DAYS (180) without a message | deleted, except a WhatsApp opt-out |
| channel state: buttons offered | CHANNEL_STATE_RETENTION_DAYS (180) | deleted |
| channel state: provider message ids | 7 days (bot.rasa.channels.state.SEEN_FOR) | deleted |
| suggestions | SUGGESTIONS_RETENTION_MONTHS (24) | personal data erased (bot.suggestions.service.purge) |
| "¿Te sirvió?" ratings | 24 hours (bot.feedback.store.SENDER_KEPT) | sender id removed |
| window: a walk-in's contact | CHANNEL_STATE_RETENTION_DAYS (180) after the visit | removed; the visit stays for the counts |

The monthly report (bot/report) reads the conversations of its month from the tracker store, so
before conversations are deleted the report of every finished month they fall in is written
(REPORTS_DIR, as `infomigra report` does) if it is not there yet; its other figures come from the
tickets, suggestions and ratings, which keep what the counts need.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, insert, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.feedback import store as feedback_store
from bot.feedback.schema import answer_ratings
from bot.handoff.schema import handoff_tickets
from bot.privacy.erase import ERASED_PREFIX, anonymise_tickets, tracker_engine
from bot.privacy.schema import privacy_runs
from bot.store.clock import now
from bot.store.schema import button_choices, contacts, seen_messages

logger = logging.getLogger(__name__)

DEFAULTS = {"CONVERSATIONS_RETENTION_DAYS": 180, "HANDOFF_RETENTION_DAYS": 365, "CHANNEL_STATE_RETENTION_DAYS": 180}
SEEN_FOR = dt.timedelta(days=7)  # as bot.rasa.channels.state.SEEN_FOR (that module needs Rasa's venv pins only)
JOB_ENV = "PRIVACY_RETENTION_JOB"  # "off" disables the daily job (tests)
CHECK_EVERY_SECONDS = 3600.0


def days(name: str, env: dict[str, str] | None = None) -> int:
    raw = (env if env is not None else os.environ).get(name, "").strip()
    try:
        value = int(raw) if raw else DEFAULTS[name]
    except ValueError:
        raise ValueError(f"{name} must be a whole number of days, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1 day")
    return value


def _lima_day(at: dt.datetime) -> dt.date:
    from bot.suggestions import dates

    return at.astimezone(dates.LIMA).date()


def ensure_reports(tracker: Engine, engine: Engine, cutoff: dt.datetime, at: dt.datetime,
                   generate: Callable[..., Any] | None = None) -> list[str]:
    """Write the monthly report of every finished month that has conversation events before `cutoff`
    and no report yet (they are about to be deleted). The months written."""
    from bot.report.output import html_name, reports_dir
    from bot.report.tracker import events
    from bot.suggestions import dates

    with tracker.connect() as conn:
        oldest = conn.execute(select(func.min(events.c.timestamp)).where(events.c.timestamp < cutoff.timestamp())).scalar()
    if oldest is None:
        return []
    month = _lima_day(dt.datetime.fromtimestamp(float(oldest), dt.timezone.utc)).replace(day=1)
    last = _lima_day(cutoff).replace(day=1)
    current = _lima_day(at).replace(day=1)
    written = []
    while month <= last and month < current:
        name = f"{month:%Y-%m}"
        if not (reports_dir() / name / html_name(name)).exists():
            if generate is None:
                from bot.report.cli import generate as generate_report

                generate = generate_report
            generate(name, tracker_url=str(tracker.url.render_as_string(hide_password=False)), engine=engine)
            written.append(name)
        month = dates.add_months(month, 1)
    return written


def purge_conversations(tracker: Engine, cutoff: dt.datetime) -> int:
    """Delete every event of the conversations whose last event is older than `cutoff`. Whole
    conversations only: deleting part of a live one would make Rasa's count-based save write events
    twice. Rasa's cache re-reads conversations idle for hours (bot/rasa/tracker_store.py)."""
    from bot.report.tracker import events

    idle = (select(events.c.sender_id).group_by(events.c.sender_id)
            .having(func.max(events.c.timestamp) < cutoff.timestamp()))
    with tracker.begin() as conn:
        return conn.execute(delete(events).where(events.c.sender_id.in_(idle.scalar_subquery()))).rowcount


def anonymise_closed_tickets(engine: Engine, cutoff: dt.datetime, at: dt.datetime) -> int:
    t = handoff_tickets.c
    with engine.begin() as conn:
        ids = list(conn.execute(select(t.id).where(t.status == "closed", t.closed_at < cutoff,
                                                   t.sender_id.not_like(f"{ERASED_PREFIX}%"))).scalars())
        anonymise_tickets(conn, ids, at)
    return len(ids)


def purge_channel_state(engine: Engine, cutoff: dt.datetime, at: dt.datetime) -> dict[str, int]:
    c = contacts.c
    with engine.begin() as conn:
        people = conn.execute(delete(contacts).where(c.last_inbound_at < cutoff, c.opted_out.is_(False))).rowcount
        buttons = conn.execute(delete(button_choices).where(button_choices.c.created_at < cutoff)).rowcount
        seen = conn.execute(delete(seen_messages).where(seen_messages.c.seen_at < at - SEEN_FOR)).rowcount
    return {"contacts": people, "buttons": buttons, "seen_messages": seen}


def run_retention(engine: Engine, tracker: Engine | None, *, at: dt.datetime | None = None,
                  env: dict[str, str] | None = None, generate: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Apply every retention period now; what was done (counts only)."""
    from bot.suggestions import service as suggestions

    at = at or now()
    result: dict[str, Any] = {}
    tables = set(inspect(engine).get_table_names())
    if tracker is not None and inspect(tracker).has_table("events"):
        cutoff = at - dt.timedelta(days=days("CONVERSATIONS_RETENTION_DAYS", env))
        try:
            result["reports_written"] = ensure_reports(tracker, engine, cutoff, at, generate)
        except Exception as exc:  # keep the conversations until their month's report exists
            logger.exception("privacy: a monthly report could not be written; conversations kept until it is")
            result["conversations"] = f"kept: report failed ({type(exc).__name__})"
        else:
            result["conversation_events"] = purge_conversations(tracker, cutoff)
    if "handoff_tickets" in tables:
        result["tickets"] = anonymise_closed_tickets(engine, at - dt.timedelta(days=days("HANDOFF_RETENTION_DAYS", env)), at)
    result.update(purge_channel_state(engine, at - dt.timedelta(days=days("CHANNEL_STATE_RETENTION_DAYS", env)), at))
    if "window_visits" in tables:  # a walk-in's contact lasts as long as a chat's channel state
        from bot.window.store import WindowStore

        cutoff = at - dt.timedelta(days=days("CHANNEL_STATE_RETENTION_DAYS", env))
        result["window_contacts"] = WindowStore(engine).forget_old_contacts(cutoff, at)
    if "suggestions" in tables:
        months = (env or os.environ).get(suggestions.RETENTION_ENV) or None
        result["suggestions"] = suggestions.purge(engine, months, now=at).erased
    if "answer_ratings" in tables:
        with engine.begin() as conn:
            result["ratings"] = conn.execute(update(answer_ratings).where(
                answer_ratings.c.sender_id.is_not(None), answer_ratings.c.created_at < at - feedback_store.SENDER_KEPT)
                .values(sender_id=None, conversation=None)).rowcount
    return result


def run_daily(engine: Engine, tracker_url: str | None = None, *, at: dt.datetime | None = None,
              env: dict[str, str] | None = None) -> dict[str, Any] | None:
    """Run the retention once for today (Lima): None when another process already did or does."""
    at = at or now()
    day = _lima_day(at)
    try:
        with engine.begin() as conn:
            conn.execute(insert(privacy_runs).values(day=day, started_at=at))
    except IntegrityError:
        return None
    tracker = tracker_engine(tracker_url)
    try:
        result = run_retention(engine, tracker, at=at, env=env)
    except Exception as exc:
        result = {"error": type(exc).__name__}
        logger.exception("privacy: the retention job failed")
    finally:
        if tracker is not None:
            tracker.dispose()
    with engine.begin() as conn:
        conn.execute(update(privacy_runs).where(privacy_runs.c.day == day).values(finished_at=now(), result=result))
    logger.info("privacy: retention for %s: %s", day, result)
    return result


async def daily_loop(engine: Engine, stop: asyncio.Event, every: float = CHECK_EVERY_SECONDS) -> None:
    """Try the daily run now and then every `every` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(run_daily, engine)
        except Exception:  # the database is down: try again later
            logger.exception("privacy: the retention job could not start")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


def enabled(env: dict[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get(JOB_ENV, "on").strip().lower() not in {"off", "0", "false", "no"}

"""Read Rasa's conversation events from its SQL tracker store (SQLite or PostgreSQL).

Rasa's `SQLTrackerStore` keeps one row per event in the table `events` (sender_id, type_name,
timestamp as Unix seconds, intent_name, action_name, data = the event as JSON). Which database:
`--tracker-url`, else TRACKER_DATABASE_URL, else the `tracker_store` of the endpoints file
(endpoints.yml: `var/rasa_tracker.db`; deploy/endpoints.production.yml: PostgreSQL from the
POSTGRES_* variables). The store is only read, never created or changed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, inspect, select
from sqlalchemy.engine import URL, Engine

from bot.store.db import ROOT, database_url

ENV = "TRACKER_DATABASE_URL"
DEFAULT_ENDPOINTS = ROOT / "endpoints.yml"
_VARIABLE = re.compile(r"\$\{([^}]+)\}")

events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


class TrackerStoreError(RuntimeError):
    """The tracker store cannot be found or read; the message says why (without passwords)."""


@dataclass(frozen=True)
class Event:
    sender_id: str
    type_name: str
    timestamp: float
    data: dict[str, Any]


def _expand(value: Any) -> str | None:
    if value is None:
        return None
    return _VARIABLE.sub(lambda m: os.environ.get(m.group(1), ""), str(value)) or None


# Rasa's own SQL store, and ours (the same store, SQLite in WAL mode: bot/rasa/tracker_store.py)
SQL_TYPES = frozenset({"SQL", "BOT.RASA.TRACKER_STORE.SQLTRACKERSTORE"})


def url_from_endpoints(path: Path = DEFAULT_ENDPOINTS) -> str:
    """The tracker store's URL as Rasa would build it from an endpoints file (type SQL)."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise TrackerStoreError(f"cannot read the endpoints file {path}: {exc.strerror}") from exc
    store = config.get("tracker_store") or {}
    if str(store.get("type", "")).upper() not in SQL_TYPES:
        raise TrackerStoreError(f"{path}: the tracker store is not of type SQL; give --tracker-url or {ENV}")
    dialect = _expand(store.get("dialect")) or "sqlite"
    db = _expand(store.get("db")) or "rasa.db"
    if dialect == "sqlite":
        file = Path(db)
        return f"sqlite:///{file if file.is_absolute() else ROOT / file}"
    port = _expand(store.get("port"))
    return URL.create(dialect, username=_expand(store.get("username")), password=_expand(store.get("password")),
                      host=_expand(store.get("url")), port=int(port) if port else None, database=db
                      ).render_as_string(hide_password=False)


def resolve_url(explicit: str | None = None, endpoints: Path | None = None) -> str:
    return explicit or os.environ.get(ENV, "").strip() or url_from_endpoints(endpoints or DEFAULT_ENDPOINTS)


def open_store(url: str) -> Engine:
    """An engine on the tracker store; a SQLite file must exist (it is never created here)."""
    url = database_url(url)
    if url.startswith("sqlite:///"):
        file = Path(url[len("sqlite:///"):])
        if not file.exists():
            raise TrackerStoreError(f"the tracker store {file} does not exist (has the assistant run yet?)")
        return create_engine(f"sqlite:///file:{file}?mode=ro&uri=true", future=True)
    return create_engine(url, future=True, pool_pre_ping=True)


def has_events(engine: Engine) -> bool:
    try:
        return inspect(engine).has_table("events")
    except Exception as exc:  # unreachable server, wrong password…
        raise TrackerStoreError(f"cannot connect to the tracker store: {type(exc).__name__}") from exc


def read_events(engine: Engine, since: float, until: float, batch: int = 2000) -> Iterator[Event]:
    """Events with `since <= timestamp < until`, grouped by sender and in the order Rasa stored them."""
    if not has_events(engine):
        return
    query = (select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
             .where(events.c.timestamp >= since, events.c.timestamp < until)
             .order_by(events.c.sender_id, events.c.id)
             .execution_options(yield_per=batch))
    with engine.connect() as conn:
        for sender_id, type_name, timestamp, data in conn.execute(query):
            try:
                parsed = json.loads(data) if data else {}
            except ValueError:
                parsed = {}
            yield Event(sender_id, type_name, float(timestamp or 0.0), parsed if isinstance(parsed, dict) else {})

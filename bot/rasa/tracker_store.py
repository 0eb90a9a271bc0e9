"""Rasa's SQL tracker store, set up for a server: SQLite tuned, and the latest sessions kept in memory.

SQLite. Rasa 3.6.21 saves the tracker after every message in its own transaction. On SQLite's
defaults (rollback journal, `synchronous=FULL`) every save waits for the disk twice, on a
connection opened for it (SQLAlchemy 1.4 does not pool SQLite files). Here connections are pooled
and, in WAL mode with `synchronous=NORMAL`, a commit is an append to the log, readers (the monthly
report, `rasa test`) never block the writer, and the database stays consistent after a crash; at
most the last transactions before a power cut are lost, which the embedded default accepts.

Cache (`cache_size`, number of conversations; 0 turns it off). Under load py-spy put a third of the
Rasa server's time in this store: every message reads the conversation back with a query on the
latest session, and every save first counts that session's rows to know which events are new.
With a cache the store keeps, per recent conversation, the rows of its latest session exactly as
written (their `data` JSON). `retrieve` rebuilds the tracker from them with Rasa's own
`DialogueStateTracker.from_dict`, as the query would; `save` writes only the events after them,
in one statement and one transaction (on a plain connection: an ORM session around one INSERT cost
as much again). Misses (a new conversation, an evicted one, after a restart) go to the database;
a read that finds nothing is remembered too, so the new conversation's first save needs no count.
A failed write drops the conversation from the cache, so the next read is the database's. The
database stays the only record (every save is committed before the answer leaves); the cache only
saves reading back what this process wrote.

Long sessions (issue 15). Rebuilding the tracker from every row of the session at every message made
a message's cost grow with the session (with the policies' replays, bot/rasa/states.py). So the cache
also keeps, once a conversation has been read, the tracker built from its rows, and a save applies its
new events to it, read back from the JSON just written (`deserialise_events`, as `from_dict` reads
rows), instead of a rebuild; `retrieve` hands out a copy (`copy_tracker`: the processor changes what it
gets), so a turn that fails before its save leaves the kept tracker as the rows are. Where the rows
change otherwise (a new session that leaves rows out, an erasure, a failed write, an eviction) the
tracker is built again from the rows at the next read. The kept tracker also carries the states the
policies computed (`rasa_states.prepare_like`). This belongs to the cache, hence to one Rasa process.

Several Rasa processes on one database (`shared: true`; deploy/endpoints.production.yml, with the
Redis lock store, so that one process at a time serves a conversation). Another process may have
served the conversation since this one cached it, so every read first asks the database what it holds
of the conversation (`Mark`: its count of rows and highest id, one indexed query): unchanged, the cache
is used as it is; grown, only the rows above the known id are read and applied to the cached rows and
the kept tracker, as a save applies its own; anything else (rows deleted) reads it all again. A save
then takes the new mark in its own transaction. Without `shared`, the cache is right only while this
process is the only writer of the conversations it serves, which is what Rasa's in-memory lock store
(endpoints.yml) already requires: one Rasa process. Anything that changes the events of a live
conversation must do it through Rasa (its HTTP API), not in the database behind its back.

Erasure ("borrar mis datos", Ley 29733). A save whose new events include the action
`action_erase_my_data` (ERASE_ACTION) deletes every stored event of that conversation, of every
session, and stores none of the turn: the next message starts a new conversation. It happens here,
in the process that holds the conversation and under its lock, because the action server (which
runs the action) or the desk (which appends the same event through Rasa's HTTP API) deleting rows
behind Rasa's back would race the save that follows: Rasa would write the session again. The rest
of the person's data is erased by bot.privacy.erase.

Conversations left alone for longer than CACHE_IDLE_SECONDS are read again from the database
rather than from the cache, and dropped from memory, so a conversation deleted by the retention
job (bot.privacy.retention: whole conversations idle for months) never comes back from memory.

Configured in endpoints.yml as `type: bot.rasa.tracker_store.SQLTrackerStore` with the keys of
Rasa's `type: SQL`, plus `cache_size` and `shared`. With any other dialect than SQLite (PostgreSQL)
only the cache applies.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core import tracker_store
from rasa.shared.core import events as events_module
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY

from bot.rasa import states as rasa_states
from bot.rasa.states import copy_tracker

logger = logging.getLogger(__name__)


def _tune(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
    finally:
        cursor.close()


# The action of "borrar mis datos" (actions/voz_del_migrante.py; bot.privacy.erase.ERASE_ACTION).
ERASE_ACTION = "action_erase_my_data"
# A cached conversation not used for this long is read from the database again (and leaves memory).
CACHE_IDLE_SECONDS = 6 * 3600.0


def erases(events: Sequence[Event]) -> bool:
    """Whether these events (a save's new ones) carry the erasure of the conversation."""
    return any(isinstance(event, ActionExecuted) and event.action_name == ERASE_ACTION for event in events)


@dataclass(frozen=True)
class Row:
    """One stored event, as in the `events` table: what the latest-session query looks at, and the JSON."""

    type_name: str
    timestamp: float
    data: str


def latest_session(rows: Sequence[Row]) -> list[Row]:
    """The rows Rasa's `_event_query` returns for a conversation: those stamped at or after its
    latest `SessionStarted`, in stored order; all of them when no session was ever started."""
    starts = [row.timestamp for row in rows if row.type_name == SessionStarted.type_name]
    if not starts:
        return list(rows)
    start = max(starts)
    return [row for row in rows if row.timestamp >= start]


def extended_session(rows: list[Row], new: list[Row]) -> list[Row]:
    """`latest_session(rows + new)` for `rows` that are a latest session already: without going through
    `rows` again when `new` starts no session and none of it is older than the first of `rows` (then
    every new row is at or after the session's start, and the filter keeps them all)."""
    if not rows or any(row.type_name == SessionStarted.type_name or row.timestamp < rows[0].timestamp for row in new):
        return latest_session([*rows, *new])
    return [*rows, *new]


@dataclass(frozen=True)
class Mark:
    """Which stored rows the cached rows of a conversation are: the rows from id `first` on (the latest
    session's, whose ids follow each other), `count` of them, the highest `top`; `first` None: the
    conversation had no rows. Taken from the same statement that read the rows, or from the ids of a
    save's own insert. Rows are only appended under the conversation's lock (ids grow) or deleted
    (erasure, retention), so the same count and top from `first` on mean the same rows, and a count grown
    by exactly the rows above `top` means only those were added."""

    first: int | None
    count: int
    top: int | None


class LatestSessions:
    """The stored rows of the latest session of the most recently used conversations (LRU), and the
    tracker they make, once it has been built (it is kept with the rows it was made from)."""

    def __init__(self, size: int, idle_seconds: float = CACHE_IDLE_SECONDS,
                 clock: Any = time.monotonic) -> None:
        self.size = max(0, size)
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._rows: OrderedDict[str, tuple[float, list[Row], Any, Mark | None]] = OrderedDict()

    def _expire(self, at: float) -> None:
        """Drop the least recently used conversations idle for longer than `idle_seconds`."""
        while self._rows:
            used = next(iter(self._rows.values()))[0]
            if at - used <= self.idle_seconds:
                return
            self._rows.popitem(last=False)

    def get(self, sender_id: str) -> list[Row] | None:
        at = self._clock()
        self._expire(at)
        entry = self._rows.get(sender_id)
        if entry is None:
            return None
        self._rows[sender_id] = (at, *entry[1:])
        self._rows.move_to_end(sender_id)
        return entry[1]

    def tracker(self, sender_id: str) -> Any:
        """The tracker made from the conversation's cached rows, if one was kept (see `get`)."""
        entry = self._rows.get(sender_id)
        return None if entry is None else entry[2]

    def mark(self, sender_id: str) -> Mark | None:
        """What the database held of the conversation when its rows were cached (a shared database)."""
        entry = self._rows.get(sender_id)
        return None if entry is None else entry[3]

    def put(self, sender_id: str, rows: list[Row], tracker: Any = None, mark: Mark | None = None) -> None:
        if not self.size:
            return
        self._rows[sender_id] = (self._clock(), rows, tracker, mark)
        self._rows.move_to_end(sender_id)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def keep_tracker(self, sender_id: str, rows: list[Row], tracker: Any) -> None:
        """Keep `tracker`, made from exactly `rows`, with them (if they are still the cached ones)."""
        entry = self._rows.get(sender_id)
        if entry is not None and entry[1] is rows:
            self._rows[sender_id] = (entry[0], rows, tracker, entry[3])

    def drop(self, sender_id: str) -> None:
        self._rows.pop(sender_id, None)

    def __len__(self) -> int:
        return len(self._rows)


def _flag(value: Any) -> bool:
    """A yes/no key of endpoints.yml: YAML's booleans, or the text of an environment variable."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


class SQLTrackerStore(tracker_store.SQLTrackerStore):
    def __init__(self, domain: Any = None, host: Any = None, event_broker: Any = None, cache_size: int = 0,
                 shared: Any = False, **kwargs: Any) -> None:
        super().__init__(domain=domain, host=host, event_broker=event_broker, **kwargs)
        self.cache = LatestSessions(int(cache_size))
        self.shared = _flag(shared)  # other Rasa processes serve conversations from this database
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            self._pool_sqlite_connections()

    def _pool_sqlite_connections(self) -> None:
        """SQLAlchemy 1.4 opens a new SQLite connection for every session on a file (NullPool): a
        connect and the PRAGMAs above for every read and every save. Keep them open in a pool instead
        (the event loop uses one at a time; a connection never serves two threads at once)."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", _tune)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        rows = self.cache.get(sender_id)
        if rows is not None and self.shared:
            rows = self._brought_up_to_date(sender_id, rows)
        if rows is None:
            rows, mark = self._stored_latest_session(sender_id)
            self.cache.put(sender_id, rows, mark=mark)  # none yet is worth remembering too: the new tracker's save needs no count
        if not self.domain or not rows:
            return None
        kept = self.cache.tracker(sender_id)
        if kept is None:
            kept = DialogueStateTracker.from_dict(sender_id, [json.loads(row.data) for row in rows], self.domain.slots)
            self.cache.keep_tracker(sender_id, rows, kept)
        return copy_tracker(kept)  # the processor changes what it gets; the kept one stays the rows' tracker

    def _stored_latest_session(self, sender_id: str) -> tuple[list[Row], Mark | None]:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            events = query.all()  # one statement: the rows and their ids are one snapshot
            rows = [Row(event.type_name, event.timestamp, event.data) for event in events]
            ids = [event.id for event in events]
        return rows, Mark(ids[0] if ids else None, len(ids), max(ids) if ids else None)

    def _mark(self, connection: Any, sender_id: str, first: int | None) -> Mark:
        """The stored rows of the conversation from id `first` on (all of them for None)."""
        table = self.SQLEvent.__table__
        where = [table.c.sender_id == sender_id] + ([table.c.id >= first] if first is not None else [])
        low, count, top = connection.execute(
            sa.select(sa.func.min(table.c.id), sa.func.count(table.c.id), sa.func.max(table.c.id)).where(*where)).one()
        return Mark(low if first is None else first, int(count), top)

    def _brought_up_to_date(self, sender_id: str, rows: list[Row]) -> list[Row] | None:
        """The cached rows of a conversation that other processes may have served since (a shared
        database): as they are when the database holds the same rows (one indexed query); with the rows
        appended since applied to them and to the kept tracker; None (read it all again) when rows were
        deleted, or a new session began, or the cache knows no mark."""
        known = self.cache.mark(sender_id)
        if known is None:
            return None
        table = self.SQLEvent.__table__
        with self.engine.connect() as connection:
            mark = self._mark(connection, sender_id, known.first)
            if mark.count == known.count and mark.top == known.top:
                return rows
            if mark.count <= known.count or mark.top is None:
                return None
            since = -1 if known.top is None else known.top
            found = connection.execute(
                sa.select(table.c.id, table.c.type_name, table.c.timestamp, table.c.data)
                .where(table.c.sender_id == sender_id, table.c.id > since, table.c.id <= mark.top)
                .order_by(table.c.id)).all()
        if len(found) != mark.count - known.count:
            return None  # some rows went and others came
        added = [Row(r.type_name, r.timestamp, r.data) for r in found]
        merged = extended_session(rows, added)
        if len(merged) != len(rows) + len(added):
            return None  # a new session: read it as Rasa reads it
        try:
            carried = self._carried(sender_id, rows, added, merged)
        except Exception:
            logger.exception("tracker store: could not apply another process's events to a kept tracker")
            carried = None
        first = known.first if known.first is not None else found[0].id
        self.cache.put(sender_id, merged, carried, Mark(first, mark.count, mark.top))
        return merged

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events after those of the latest stored session, as Rasa's store does, without
        counting them in the database when the cache knows them."""
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        cached = self.cache.get(sender_id)
        try:
            if cached is None:
                with self.session_scope() as session:
                    stored = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            else:
                stored = len(cached)
            events = list(itertools.islice(tracker.events, stored, len(tracker.events)))
            if erases(events):
                return self.erase(sender_id)
            new = [self._row_values(sender_id, event) for event in events]
            ids: list[int] | None = None
            if new:
                with self.engine.begin() as connection:  # one transaction, without an ORM session around it
                    ids = self._insert(connection, new)
        except BaseException:
            self.cache.drop(sender_id)
            raise
        if cached is not None or stored == 0:  # known rows, or a new conversation: all its rows are these
            rows = [Row(values["type_name"], values["timestamp"], values["data"]) for values in new]
            merged = extended_session(cached or [], rows)
            mark = self._saved_mark(self.cache.mark(sender_id) if cached is not None else Mark(None, 0, None),
                                    ids, len(merged) == len(cached or []) + len(rows))
            try:
                carried = self._carried(sender_id, cached, rows, merged, tracker)
            except Exception:  # the events are stored: build the tracker from the rows at the next read
                logger.exception("tracker store: could not carry the kept tracker of a conversation forward")
                carried = None
            self.cache.put(sender_id, merged, carried, mark)

    def _insert(self, connection: Any, new: list[dict]) -> list[int] | None:
        """Insert a save's rows in one statement; with a shared database, their ids, so that the
        conversation's mark follows without another query: PostgreSQL's `RETURNING`, or, where
        SQLAlchemy 1.4 has no `RETURNING` (SQLite), one insert per row."""
        table = self.SQLEvent.__table__
        if not self.shared:
            connection.execute(table.insert(), new)
            return None
        if connection.dialect.name == "postgresql":
            return list(connection.execute(table.insert().values(new).returning(table.c.id)).scalars())
        return [connection.execute(table.insert().values(**row)).inserted_primary_key[0] for row in new]

    def _saved_mark(self, known: Mark | None, ids: list[int] | None, appended: bool) -> Mark | None:
        """The mark of the cached rows after a save: the known rows plus the inserted ones (`ids`: none
        when nothing was inserted), when the save appended to the cached session; else none (the next
        read reads it all)."""
        if not self.shared or known is None:
            return None
        if not ids:
            return known
        if not appended:
            return None
        return Mark(known.first if known.first is not None else ids[0], known.count + len(ids), max(ids))

    def _carried(self, sender_id: str, cached: list[Row] | None, rows: list[Row], merged: list[Row],
                 saved: DialogueStateTracker | None = None) -> DialogueStateTracker | None:
        """The kept tracker of `cached` with the events of the new `rows` applied, read from their JSON as
        `retrieve` would read them, so that it is the tracker of `merged`; None where only a rebuild gives
        that (nothing kept, or a new session that leaves rows out). The states the policies read from
        `saved` are carried forward on it too (bot/rasa/states.py)."""
        kept = self.cache.tracker(sender_id) if cached is not None else None
        if kept is None or len(merged) != len(cached) + len(rows):
            return None
        for event in events_module.deserialise_events([json.loads(row.data) for row in rows]):
            kept.update(event)
        if saved is not None:
            rasa_states.prepare_like(kept, saved)
        return kept

    def erase(self, sender_id: str) -> None:
        """Delete every stored event of the conversation (all its sessions); remember it has none."""
        self.cache.drop(sender_id)
        with self.engine.begin() as connection:
            connection.execute(self.SQLEvent.__table__.delete().where(self.SQLEvent.__table__.c.sender_id == sender_id))
        self.cache.put(sender_id, [], mark=Mark(None, 0, None) if self.shared else None)

    @staticmethod
    def _row_values(sender_id: str, event: Event) -> dict[str, Any]:
        """The `events` row of Rasa's store for this event (same columns, same JSON)."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get(INTENT, {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

"""The suggestion store: submit, read, review (status workflow, tags, notes), erase and purge.

Plain synchronous functions taking an Engine (from `bot.store.db.get_engine`); an async caller (a Rasa
custom action) runs them with `asyncio.to_thread`. Errors:
- `InvalidInput` (from bot.suggestions.validation): what the person gave cannot be stored; its
  `message` is Spanish and can be shown to them;
- `SuggestionNotFound`, `TransitionError`, `ValueError`: staff or programming errors (English).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, insert, select, true, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from bot.knowledge.model import LINES
from bot.store import clock
from bot.suggestions import dates
from bot.suggestions.reference import new_reference, normalize_reference
from bot.suggestions.schema import KINDS, STATUSES, suggestion_events, suggestions
from bot.suggestions.scrub import scrub
from bot.suggestions.validation import (
    InvalidInput,
    clean_text,
    validate_city,
    validate_contact,
    validate_country,
    validate_kind,
    validate_text,
    validate_topic,
)
from bot.text import whole_number

# The review workflow: new → in_review → forwarded | answered → archived, and forwarded → in_review.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("in_review",),
    "in_review": ("forwarded", "answered"),
    "forwarded": ("archived", "in_review"),
    "answered": ("archived",),
    "archived": (),
}
DEFAULT_RETENTION_MONTHS = 24
# Suggestions one person (sender id) may leave in 24 hours: the store and the reviewers' queue are not
# a place a script can fill. SUGGESTIONS_PER_DAY, 0 for no limit.
DEFAULT_PER_DAY = 5
PER_DAY_ENV = "SUGGESTIONS_PER_DAY"
PER_DAY_PERIOD = dt.timedelta(days=1)
DAILY_LIMIT = ("Hoy ya recibimos {limit} mensajes tuyos para «la voz del migrante», el máximo por día, así que este no "
               "quedó guardado. Puedes enviarlo mañana. Si es urgente, escribe «asesor» y te atenderá una persona.")
RETENTION_ENV = "SUGGESTIONS_RETENTION_MONTHS"
TAG_MAX = 40
NOTE_MAX = 2000
PAGE_MAX = 500
_REFERENCE_ATTEMPTS = 8
_PURGE_BATCH = 200


class SuggestionNotFound(LookupError):
    pass


class TransitionError(ValueError):
    """A status change the workflow does not allow (or one that another reviewer made first)."""


@dataclass(frozen=True)
class Suggestion:
    id: int
    reference: str
    channel: str
    sender_id: str | None
    kind: str
    country: str
    city: str | None
    topic: str
    text: str
    contact: str | None
    consent_at: dt.datetime
    status: str
    tags: tuple[str, ...]
    notes: tuple[dict[str, Any], ...]
    created_at: dt.datetime
    updated_at: dt.datetime
    personal_data_erased_at: dt.datetime | None

    @property
    def allowed_statuses(self) -> tuple[str, ...]:
        return TRANSITIONS[self.status]

    def to_dict(self, *, include_contact: bool = True, include_sender: bool = False) -> dict[str, Any]:
        """JSON-ready (ISO 8601 times). `sender_id` only when asked; `contact` unless refused."""
        data: dict[str, Any] = {
            "id": self.id, "reference": self.reference, "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(), "channel": self.channel, "kind": self.kind,
            "country": self.country, "city": self.city, "topic": self.topic, "text": self.text,
            "consent_at": self.consent_at.isoformat(), "status": self.status, "tags": list(self.tags),
            "notes": [dict(note) for note in self.notes],
            "personal_data_erased_at": self.personal_data_erased_at.isoformat() if self.personal_data_erased_at else None,
        }
        if include_contact:
            data["contact"] = self.contact
        if include_sender:
            data["sender_id"] = self.sender_id
        return data


@dataclass(frozen=True)
class Page:
    items: list[Suggestion]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class PurgeResult:
    cutoff: dt.datetime
    retention_months: int
    erased: int  # suggestions whose personal data was erased now (or would be, on a dry run)
    already_erased: int  # older suggestions erased before
    dry_run: bool = False
    references: list[str] = field(default_factory=list)


def _row(row: Any) -> Suggestion:
    m = row._mapping
    return Suggestion(
        id=m["id"], reference=m["reference"], channel=m["channel"], sender_id=m["sender_id"], kind=m["kind"],
        country=m["country"], city=m["city"], topic=m["topic"], text=m["text"], contact=m["contact"],
        consent_at=clock.aware(m["consent_at"]), status=m["status"], tags=tuple(m["tags"] or ()),
        notes=tuple(m["notes"] or ()), created_at=clock.aware(m["created_at"]), updated_at=clock.aware(m["updated_at"]),
        personal_data_erased_at=clock.aware(m["personal_data_erased_at"]),
    )


def _key_digest(client_key: str) -> str:
    return hashlib.sha256(client_key.encode("utf-8")).hexdigest()


def _staff(staff_id: int | str | None, staff_email: str | None) -> dict[str, str | None]:
    return {"staff_id": None if staff_id is None else str(staff_id)[:64],
            "staff_email": (staff_email or "").strip().lower()[:254] or None}


def _event(conn: Connection, suggestion_id: int, action: str, at: dt.datetime, **values: Any) -> None:
    conn.execute(insert(suggestion_events).values(suggestion_id=suggestion_id, action=action, created_at=at, **values))


# submit ------------------------------------------------------------------------------------------

def submit(
    engine: Engine,
    *,
    client_key: str,
    channel: str,
    kind: str,
    country: str,
    topic: str,
    text: str,
    consent_at: dt.datetime | str | None,
    sender_id: str | None = None,
    city: str | None = None,
    contact: str | None = None,
    now: dt.datetime | None = None,
    max_per_day: int = 0,
) -> tuple[str, bool]:
    """Store a suggestion once per `client_key` and return (reference, created).

    A retried or duplicated submit with the same `client_key` (e.g. the sender id and the time the
    form started) stores nothing new and returns the first reference with created=False, even when
    the duplicates race each other (the unique constraint decides). The key itself is kept only as a
    SHA-256 digest. Raises `InvalidInput` (Spanish message) for anything the person must correct,
    including a missing consent. `consent_at` is when the person said yes (a datetime or ISO 8601 text).
    `max_per_day` (0: none): a sender who left that many in the last 24 hours gets InvalidInput
    (field "daily_limit", DAILY_LIMIT) and nothing is stored.
    """
    if not client_key or not str(client_key).strip():
        raise ValueError("client_key is required (it makes a retried submit store one suggestion)")
    channel = " ".join(str(channel or "").split()).lower()
    if not channel or len(channel) > 20:
        raise ValueError("channel must be a short name such as 'whatsapp', 'telegram' or 'web'")
    if sender_id is not None and len(sender_id) > 160:
        raise ValueError("sender_id is longer than 160 characters")
    values = {
        "kind": validate_kind(kind), "country": validate_country(country), "city": validate_city(city),
        "topic": validate_topic(topic), "text": validate_text(text), "contact": validate_contact(contact),
    }
    if consent_at is None:
        raise InvalidInput("consent", "Sin tu autorización no guardamos tu mensaje. Si cambias de opinión, "
                                      "puedes enviarlo de nuevo cuando quieras.")
    if isinstance(consent_at, str):  # e.g. kept in a Rasa slot as ISO 8601
        consent_at = dt.datetime.fromisoformat(consent_at.strip().replace("Z", "+00:00"))
    digest = _key_digest(str(client_key))
    existing = _reference_for_key(engine, digest)
    if existing:
        return existing, False
    at = dates.utc(now or clock.now())
    if max_per_day and sender_id and count_since(engine, sender_id, at - PER_DAY_PERIOD) >= max_per_day:
        raise InvalidInput("daily_limit", DAILY_LIMIT.format(limit=max_per_day))
    for _ in range(_REFERENCE_ATTEMPTS):
        reference = new_reference(dates.local_year(at))
        try:
            with engine.begin() as conn:
                result = conn.execute(insert(suggestions).values(
                    reference=reference, client_key=digest, channel=channel, sender_id=sender_id,
                    consent_at=dates.utc(consent_at), status="new", tags=[], notes=[], created_at=at, updated_at=at,
                    **values))
                _event(conn, result.inserted_primary_key[0], "created", at, to_status="new")
            return reference, True
        except IntegrityError:
            existing = _reference_for_key(engine, digest)
            if existing:  # a concurrent duplicate committed first
                return existing, False
            # else the random reference was taken: draw another one
    raise RuntimeError("could not draw a free reference code")


def _reference_for_key(engine: Engine, digest: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(suggestions.c.reference).where(suggestions.c.client_key == digest)).scalar()


# read --------------------------------------------------------------------------------------------

def get(engine: Engine, key: int | str) -> Suggestion | None:
    """A suggestion by id (an int or its digits) or by reference code (as typed: "vm 2026 7k3q9" works)."""
    if isinstance(key, str) and whole_number(key) is not None:
        key = whole_number(key)
    if isinstance(key, int):
        condition = suggestions.c.id == key
    else:
        reference = normalize_reference(str(key))
        if reference is None:
            return None
        condition = suggestions.c.reference == reference
    with engine.connect() as conn:
        row = conn.execute(select(suggestions).where(condition)).first()
    return _row(row) if row else None


def _required(engine: Engine, suggestion_id: int) -> Suggestion:
    found = get(engine, suggestion_id)
    if found is None:
        raise SuggestionNotFound(f"no suggestion with id {suggestion_id}")
    return found


def _as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def filters(
    *,
    status: str | Sequence[str] | None = None,
    kind: str | Sequence[str] | None = None,
    country: str | Sequence[str] | None = None,
    topic: str | Sequence[str] | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
) -> list[ColumnElement[bool]]:
    """WHERE conditions. Dates are whole days in Peru (`until` included); datetimes are exact (`until` excluded)."""
    conditions: list[ColumnElement[bool]] = []
    for column, wanted, known in ((suggestions.c.status, status, STATUSES), (suggestions.c.kind, kind, KINDS)):
        values = _as_tuple(wanted)
        unknown = [v for v in values if v not in known]
        if unknown:
            raise ValueError(f"unknown {column.name} {', '.join(unknown)} (one of {', '.join(known)})")
        if values:
            conditions.append(column.in_(values))
    if _as_tuple(country):
        conditions.append(suggestions.c.country.in_(_as_tuple(country)))
    if _as_tuple(topic):
        conditions.append(suggestions.c.topic.in_(_as_tuple(topic)))
    start, end = dates.bound(since, end=False), dates.bound(until, end=True)
    if start is not None:
        conditions.append(suggestions.c.created_at >= start)
    if end is not None:
        conditions.append(suggestions.c.created_at < end)
    return conditions


def list_suggestions(engine: Engine, *, limit: int = 50, offset: int = 0, **criteria: Any) -> Page:
    """Newest first, filtered by status, kind, country, topic (a value or a list of values) and
    since/until; `total` counts every match."""
    if not 1 <= limit <= PAGE_MAX or offset < 0:
        raise ValueError(f"limit must be 1..{PAGE_MAX} and offset ≥ 0")
    where = and_(true(), *filters(**criteria))
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(suggestions).where(where)).scalar_one()
        rows = conn.execute(select(suggestions).where(where)
                            .order_by(suggestions.c.created_at.desc(), suggestions.c.id.desc())
                            .limit(limit).offset(offset)).all()
    return Page(items=[_row(r) for r in rows], total=total, limit=limit, offset=offset)


def iter_suggestions(engine: Engine, *, batch: int = 500, **criteria: Any) -> Iterable[Suggestion]:
    """Every match, oldest first, read in batches (for exports)."""
    where = and_(true(), *filters(**criteria))
    last = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(suggestions).where(where, suggestions.c.id > last)
                                .order_by(suggestions.c.id).limit(batch)).all()
        if not rows:
            return
        yield from (_row(r) for r in rows)
        last = rows[-1]._mapping["id"]


def history(engine: Engine, suggestion_id: int) -> list[dict[str, Any]]:
    """Events of a suggestion, oldest first: action, from_status, to_status, detail, staff_id, staff_email, at."""
    with engine.connect() as conn:
        rows = conn.execute(select(suggestion_events).where(suggestion_events.c.suggestion_id == suggestion_id)
                            .order_by(suggestion_events.c.id)).all()
    events = []
    for row in rows:
        m = dict(row._mapping)
        m["at"] = clock.aware(m.pop("created_at"))
        m.pop("suggestion_id")
        events.append(m)
    return events


# review ------------------------------------------------------------------------------------------

def allowed_transitions(status: str) -> tuple[str, ...]:
    return TRANSITIONS[status]


def change_status(engine: Engine, suggestion_id: int, to_status: str, *, staff_id: int | str | None = None,
                  staff_email: str | None = None, now: dt.datetime | None = None) -> Suggestion:
    if to_status not in STATUSES:
        raise TransitionError(f"unknown status {to_status!r} (one of {', '.join(STATUSES)})")
    current = _required(engine, suggestion_id)
    if to_status not in TRANSITIONS[current.status]:
        allowed = ", ".join(TRANSITIONS[current.status]) or "none, it is final"
        raise TransitionError(f"{current.reference}: cannot go from {current.status} to {to_status} (allowed: {allowed})")
    at = dates.utc(now or clock.now())
    with engine.begin() as conn:
        changed = conn.execute(update(suggestions)
                               .where(suggestions.c.id == suggestion_id, suggestions.c.status == current.status)
                               .values(status=to_status, updated_at=at)).rowcount
        if not changed:
            raise TransitionError(f"{current.reference}: its status was changed by someone else meanwhile; reload it")
        _event(conn, suggestion_id, "status", at, from_status=current.status, to_status=to_status,
               **_staff(staff_id, staff_email))
    return _required(engine, suggestion_id)


def _locked(conn: Connection, suggestion_id: int, at: dt.datetime) -> Any:
    """Lock the row for this transaction (an UPDATE first: a row lock on PostgreSQL, the write lock on
    SQLite) and read it, so that concurrent tag and note edits never overwrite each other."""
    if not conn.execute(update(suggestions).where(suggestions.c.id == suggestion_id).values(updated_at=at)).rowcount:
        raise SuggestionNotFound(f"no suggestion with id {suggestion_id}")
    return conn.execute(select(suggestions).where(suggestions.c.id == suggestion_id)).one()._mapping


def normalize_tag(tag: str) -> str:
    value = " ".join(clean_text(tag or "").split()).lower().strip(",;#")
    if not value or len(value) > TAG_MAX:
        raise ValueError(f"a tag is 1 to {TAG_MAX} characters")
    return value


def add_tag(engine: Engine, suggestion_id: int, tag: str, *, staff_id: int | str | None = None,
            staff_email: str | None = None, now: dt.datetime | None = None) -> Suggestion:
    return _change_tags(engine, suggestion_id, normalize_tag(tag), True, staff_id, staff_email, now)


def remove_tag(engine: Engine, suggestion_id: int, tag: str, *, staff_id: int | str | None = None,
               staff_email: str | None = None, now: dt.datetime | None = None) -> Suggestion:
    return _change_tags(engine, suggestion_id, normalize_tag(tag), False, staff_id, staff_email, now)


def _change_tags(engine: Engine, suggestion_id: int, tag: str, add: bool, staff_id: int | str | None,
                 staff_email: str | None, now: dt.datetime | None) -> Suggestion:
    at = dates.utc(now or clock.now())
    with engine.begin() as conn:
        tags = set(_locked(conn, suggestion_id, at)["tags"] or ())
        if (tag in tags) != add:
            tags = tags | {tag} if add else tags - {tag}
            conn.execute(update(suggestions).where(suggestions.c.id == suggestion_id).values(tags=sorted(tags)))
            _event(conn, suggestion_id, "tag_added" if add else "tag_removed", at, detail=tag, **_staff(staff_id, staff_email))
    return _required(engine, suggestion_id)


def add_note(engine: Engine, suggestion_id: int, text: str, *, staff_id: int | str | None = None,
             staff_email: str | None = None, now: dt.datetime | None = None) -> Suggestion:
    """A private staff note (never shown to the person)."""
    body = clean_text(text or "")
    if not body or len(body) > NOTE_MAX:
        raise ValueError(f"a note is 1 to {NOTE_MAX} characters")
    at = dates.utc(now or clock.now())
    staff = _staff(staff_id, staff_email)
    with engine.begin() as conn:
        notes = list(_locked(conn, suggestion_id, at)["notes"] or ())
        notes.append({"at": at.isoformat(), **staff, "text": body})
        conn.execute(update(suggestions).where(suggestions.c.id == suggestion_id).values(notes=notes))
        _event(conn, suggestion_id, "note_added", at, **staff)
    return _required(engine, suggestion_id)


# erasure -----------------------------------------------------------------------------------------

ERASED_TEXT = "[borrado a pedido de la persona]"


def _erase(conn: Connection, condition: ColumnElement[bool], at: dt.datetime, reason: str,
           limit: int | None = None, whole_text: bool = False) -> list[str]:
    """Erase the personal data of the matching suggestions; their references. `whole_text`: the
    text and the notes are replaced, not scrubbed (what the person wrote may name them)."""
    ids = select(suggestions.c.id).where(condition).order_by(suggestions.c.id)
    if limit:
        ids = ids.limit(limit)
    chosen = [r[0] for r in conn.execute(ids)]
    if not chosen:
        return []
    # lock them first (see _locked), then read them again: a concurrent erasure may have come first
    conn.execute(update(suggestions).where(suggestions.c.id.in_(chosen), condition).values(updated_at=at))
    rows = conn.execute(select(suggestions.c.id, suggestions.c.reference, suggestions.c.text, suggestions.c.topic,
                               suggestions.c.notes).where(suggestions.c.id.in_(chosen), condition)).all()
    for row in rows:
        m = row._mapping
        clean = (lambda _text: ERASED_TEXT) if whole_text else scrub
        notes = [{**note, "text": clean(note.get("text"))} for note in (m["notes"] or ())]
        topic = m["topic"] if m["topic"] in LINES else ("otro" if whole_text else (scrub(m["topic"]) or "")[:120])
        # the submit key's digest may be derived from the sender id: replace it with a random one
        conn.execute(update(suggestions).where(suggestions.c.id == m["id"]).values(
            sender_id=None, contact=None, city=None, text=clean(m["text"]), topic=topic, notes=notes,
            client_key=_key_digest(f"erased:{secrets.token_hex(16)}"), personal_data_erased_at=at))
        _event(conn, m["id"], "erased", at, detail=reason)
    return [r._mapping["reference"] for r in rows]


def count_by_sender(engine: Engine, sender_id: str) -> int:
    """How many suggestions still hold this sender's personal data (for the "borrar mis datos" confirmation)."""
    if not sender_id:
        return 0
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(suggestions)
                            .where(suggestions.c.sender_id == sender_id)).scalar_one()


def count_since(engine: Engine, sender_id: str, since: dt.datetime) -> int:
    """How many suggestions this sender left since `since` (the daily limit of `submit`)."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(suggestions).where(
            suggestions.c.sender_id == sender_id, suggestions.c.created_at >= dates.utc(since))).scalar_one()


def per_day(env: dict[str, str] | None = None) -> int:
    """SUGGESTIONS_PER_DAY, else 5; 0 for no limit."""
    raw = ((os.environ if env is None else env).get(PER_DAY_ENV) or "").strip()
    value = whole_number(raw)
    return DEFAULT_PER_DAY if value is None else value


def erase_personal_data(engine: Engine, sender_id: str, *, now: dt.datetime | None = None,
                        whole_text: bool = False) -> int:
    """"Borrar mis datos": for every suggestion of this sender, drop the contact, city and sender id and
    scrub e-mails, phone numbers and document numbers from the text, a free topic and the notes (the
    submit key is replaced too, as it may derive from the sender id). Kind, country, topic,
    status and dates stay, so the monthly counts do not change. Returns how many were affected.
    `whole_text` (bot.privacy.erase): the text, a free topic and the notes are replaced entirely."""
    if not sender_id:
        return 0
    at = dates.utc(now or clock.now())
    with engine.begin() as conn:
        return len(_erase(conn, suggestions.c.sender_id == sender_id, at, "requested by the person",
                          whole_text=whole_text))


def resolve_retention_months(value: int | str | None = None) -> int:
    """`value`, else SUGGESTIONS_RETENTION_MONTHS, else 24; at least 1."""
    raw = value if value is not None else os.environ.get(RETENTION_ENV, "").strip() or DEFAULT_RETENTION_MONTHS
    try:
        months = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{RETENTION_ENV} must be a whole number of months, not {raw!r}") from None
    if months < 1:
        raise ValueError(f"the retention must be at least 1 month, not {months}")
    return months


def purge(engine: Engine, retention_months: int | None = None, *, dry_run: bool = False,
          now: dt.datetime | None = None) -> PurgeResult:
    """Erase the personal data of suggestions created before the retention period (default from
    SUGGESTIONS_RETENTION_MONTHS, else 24 months), in batches; a dry run only counts."""
    months = resolve_retention_months(retention_months)
    at = dates.utc(now or clock.now())
    today = at.astimezone(dates.LIMA).date()
    cutoff = dates.day_start(dates.add_months(today, -months))
    old = suggestions.c.created_at < cutoff
    pending = and_(old, suggestions.c.personal_data_erased_at.is_(None))
    with engine.connect() as conn:
        already = conn.execute(select(func.count()).select_from(suggestions)
                               .where(old, suggestions.c.personal_data_erased_at.is_not(None))).scalar_one()
        if dry_run:
            refs = list(conn.execute(select(suggestions.c.reference).where(pending).order_by(suggestions.c.id)).scalars())
            return PurgeResult(cutoff, months, len(refs), already, True, refs)
    references: list[str] = []
    while True:
        with engine.begin() as conn:
            batch = _erase(conn, pending, at, f"retention of {months} months", limit=_PURGE_BATCH)
        references += batch
        if len(batch) < _PURGE_BATCH:
            return PurgeResult(cutoff, months, len(references), already, False, references)

"""Erase everything the service holds about one person on one channel ("borrar mis datos", Ley 29733).

One person is one conversation id (`sender_id`: "whatsapp:+51…", "telegram:123", "web:<uuid>", or
the REST client's id). `erase_person` does our tables; the conversation itself (every event of
every session in Rasa's tracker store, which is also the web widget's history) is deleted by the
tracker store when the action ERASE_ACTION is recorded in the conversation (bot/rasa/tracker_store.py),
inside the Rasa process that holds it:

- the person: the action `action_erase_my_data` (actions/voz_del_migrante.py), after their
  confirmation, calls `erase_person` and is itself the record that deletes the conversation;
- the desk (bot/desk/erasure.py) or `infomigra privacy erase`: `erase_person`, then
  `forget_conversation`, which appends that action to the conversation through Rasa's HTTP API
  (and, when Rasa cannot be reached, deletes the rows in the tracker database directly).

What `erase_person` does, in one transaction:
- suggestions of "la voz del migrante": sender id, contact and city removed, the text, a free topic
  and the staff notes replaced (kind, country, line of action, status and dates stay for the counts);
- "¿Te sirvió?" ratings: sender id and conversation removed (article, answer and date stay);
- advisor tickets: every message deleted; the ticket row stays for the statistics with a random
  id instead of the sender, no e-mail and no event details (an open ticket is closed first);
- channel state: the person's `contacts` row (last message time, opt-out) and the buttons offered;
- the in-person window (bot/window): the contact a walk-in person left with their consent, found as
  "ventanilla:<e-mail or +number>" (`find_people`), and a WhatsApp conversation's number too; the
  consultations stay for the counts, without it.
Provider message ids (`seen_messages`) name no person and go after SEEN_FOR (7 days) anyway.
An audit row (privacy_erasures) records when, who asked, the channel and the counts, nothing else.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import delete, distinct, func, insert, inspect, or_, select, update
from sqlalchemy.engine import Connection, Engine

from bot.feedback.schema import answer_ratings
from bot.handoff.schema import OPEN_STATUSES, handoff_events, handoff_messages, handoff_tickets
from bot.mail.schema import SENDER_PREFIX as MAIL_PREFIX
from bot.mail.schema import mail_messages, mail_threads
from bot.privacy.schema import privacy_erasures
from bot.store.clock import now
from bot.store.schema import button_choices, contacts
from bot.suggestions import service as suggestions
from bot.suggestions.schema import suggestions as suggestions_table

logger = logging.getLogger(__name__)

ERASE_ACTION = "action_erase_my_data"  # the same name in bot/rasa/tracker_store.py (Rasa's venv)
ERASED_PREFIX = "borrado:"  # an erased ticket's sender id: this and random characters
CHANNELS = ("whatsapp", "telegram", "web", "correo", "ventanilla")
WINDOW_PREFIX = "ventanilla:"  # a walk-in contact as erasure names it: "ventanilla:ana@example.org", "ventanilla:+51987…"


def channel_of(sender_id: str) -> str:
    prefix = sender_id.split(":", 1)[0] if ":" in sender_id else ""
    return prefix if prefix in CHANNELS else "rest"


@dataclass(frozen=True)
class Erasure:
    """How many records of the person were erased, per kind."""

    suggestions: int = 0
    ratings: int = 0
    tickets: int = 0
    ticket_messages: int = 0
    contacts: int = 0
    buttons: int = 0
    mail_threads: int = 0
    window_contacts: int = 0

    def counts(self) -> dict[str, int]:
        return asdict(self)

    @property
    def total(self) -> int:
        return sum(self.counts().values())


def anonymise_tickets(conn: Connection, ids: list[int], at: dt.datetime) -> int:
    """Delete the messages of these tickets and keep only what the statistics read: a random sender
    id, no e-mail, no event details; an open one is closed by the system. Messages deleted."""
    if not ids:
        return 0
    t = handoff_tickets.c
    senders = set(conn.execute(select(t.sender_id).where(t.id.in_(ids))).scalars())
    deleted = conn.execute(delete(handoff_messages).where(handoff_messages.c.ticket_id.in_(ids))).rowcount
    conn.execute(update(handoff_events).where(handoff_events.c.ticket_id.in_(ids)).values(detail=None))
    conn.execute(update(handoff_tickets).where(t.id.in_(ids), t.status.in_(OPEN_STATUSES))
                 .values(status="closed", closed_at=at, closed_by="system"))
    for ticket_id in ids:
        conn.execute(update(handoff_tickets).where(t.id == ticket_id).values(
            sender_id=f"{ERASED_PREFIX}{secrets.token_hex(12)}", contact_email=None))
    forget_mail(conn, senders)
    return deleted


def forget_mail(conn: Connection, senders: set[str]) -> int:
    """The e-mail threads of these conversations (address, name, subject, message ids), unless one of
    them still has an open ticket; threads deleted."""
    t = handoff_tickets.c
    still_open = set(conn.execute(select(t.sender_id).where(t.sender_id.in_(senders), t.status.in_(OPEN_STATUSES))).scalars())
    gone = [s for s in senders if s.startswith(MAIL_PREFIX) and s not in still_open]
    if not gone:
        return 0
    conn.execute(delete(mail_messages).where(mail_messages.c.sender_id.in_(gone)))
    return conn.execute(delete(mail_threads).where(mail_threads.c.sender_id.in_(gone))).rowcount


def erase_person(engine: Engine, sender_id: str, *, requested_by: str = "person", staff_id: int | str | None = None,
                 staff_email: str | None = None, at: dt.datetime | None = None) -> Erasure:
    """Erase what our tables hold about `sender_id` (see the module); audited. Idempotent."""
    sender_id = (sender_id or "").strip()
    if not sender_id:
        raise ValueError("a conversation id is needed")
    at = at or now()
    window = forget_window_contact(engine, sender_id, at)
    erased_suggestions = suggestions.erase_personal_data(engine, sender_id, now=at, whole_text=True)
    with engine.begin() as conn:
        ratings = conn.execute(update(answer_ratings).where(answer_ratings.c.sender_id == sender_id)
                               .values(sender_id=None, conversation=None)).rowcount
        ids = list(conn.execute(select(handoff_tickets.c.id).where(handoff_tickets.c.sender_id == sender_id)).scalars())
        threads = conn.execute(select(func.count()).select_from(mail_threads).where(mail_threads.c.sender_id == sender_id)).scalar()
        messages = anonymise_tickets(conn, ids, at)  # deletes the e-mail thread with the tickets
        contact_rows = conn.execute(delete(contacts).where(contacts.c.sender_id == sender_id)).rowcount
        buttons = conn.execute(delete(button_choices).where(button_choices.c.sender_id == sender_id)).rowcount
        forget_mail(conn, {sender_id})  # a thread without tickets
        result = Erasure(erased_suggestions, ratings, len(ids), messages, contact_rows, buttons, threads, window)
        conn.execute(insert(privacy_erasures).values(
            at=at, requested_by=requested_by[:10], staff_id=None if staff_id is None else str(staff_id)[:64],
            staff_email=(staff_email or "").strip().lower()[:254] or None, channel=channel_of(sender_id),
            counts=result.counts()))
    return result


def forget_window_contact(engine: Engine, sender_id: str, at: dt.datetime) -> int:
    """The walk-in contact of a "ventanilla:<contact>" id, or the number of a WhatsApp conversation, removed
    from the window's consultations; records changed."""
    from bot.window.store import WindowStore

    if sender_id.startswith(WINDOW_PREFIX):
        key = sender_id[len(WINDOW_PREFIX):]
    elif sender_id.startswith("whatsapp:"):
        key = sender_id[len("whatsapp:"):]
    else:
        return 0
    if not inspect(engine).has_table("window_visits"):
        return 0
    return WindowStore(engine).forget_contact(key, at)


# the conversation in Rasa ---------------------------------------------------------------------------

def erase_events(sender_id: str) -> list[dict[str, Any]]:
    """The events that, appended to the conversation through Rasa's HTTP API, erase it."""
    return [{"event": "action", "name": ERASE_ACTION, "policy": None, "confidence": None}]


def tracker_engine(url: str | None = None) -> Engine | None:
    """An engine that may write Rasa's tracker database (TRACKER_DATABASE_URL, else endpoints.yml);
    None when there is none (no SQL tracker store, or the SQLite file does not exist yet)."""
    from pathlib import Path

    from sqlalchemy import create_engine

    from bot.report.tracker import TrackerStoreError, resolve_url
    from bot.store.db import database_url

    try:
        resolved = database_url(resolve_url(url))
    except TrackerStoreError as exc:
        logger.warning("privacy: no tracker store to work on (%s)", exc)
        return None
    if resolved.startswith("sqlite:///"):
        if not Path(resolved[len("sqlite:///"):]).exists():
            return None
        return create_engine(resolved, future=True, connect_args={"timeout": 15})
    return create_engine(resolved, future=True, pool_pre_ping=True)


def delete_conversation(engine: Engine, sender_id: str) -> int:
    """Delete every stored event of the conversation in the tracker database. Only safe when Rasa is
    not running (its cache and the save of a turn in progress would not know): use it when Rasa
    cannot be reached; `forget_conversation` asks Rasa first."""
    if not inspect(engine).has_table("events"):
        return 0
    from bot.report.tracker import events

    with engine.begin() as conn:
        return conn.execute(delete(events).where(events.c.sender_id == sender_id)).rowcount


async def forget_conversation(api: Any, sender_id: str, *, tracker_url: str | None = None) -> str:
    """Erase the conversation in Rasa: "rasa" when Rasa did it (the normal case), "database" when
    Rasa could not be reached and the rows were deleted directly, "failed" when neither worked."""
    import asyncio

    from bot.handoff.rasa_api import RasaRefused, RasaUnavailable

    try:
        await api.append(sender_id, erase_events(sender_id), channel=None)
        return "rasa"
    except (RasaUnavailable, RasaRefused) as exc:
        logger.warning("privacy: Rasa did not erase a conversation (%s); deleting it in the tracker database", exc)
    engine = await asyncio.to_thread(tracker_engine, tracker_url)
    if engine is None:
        return "failed"
    try:
        await asyncio.to_thread(delete_conversation, engine, sender_id)
        return "database"
    except Exception:
        logger.exception("privacy: the conversation could not be deleted in the tracker database")
        return "failed"
    finally:
        engine.dispose()


# finding a person (the desk) ----------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    sender_id: str
    channel: str
    found_in: tuple[str, ...]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def find_people(engine: Engine, query: str, tracker: Engine | None = None, limit: int = 20) -> list[Match]:
    """Conversation ids that match a phone number (digits anywhere in the id or the contact left), an
    e-mail address (a suggestion's contact, a ticket's e-mail, or written in the conversation) or
    a conversation id given exactly."""
    query = (query or "").strip()
    if len(query) < 5:
        return []
    found: dict[str, set[str]] = {}

    def add(sender: str | None, where: str) -> None:
        if sender and not sender.startswith(ERASED_PREFIX):
            found.setdefault(sender, set()).add(where)

    digits = _digits(query)
    email = query.lower() if "@" in query else None
    sources = [(contacts.c.sender_id, None, "estado del canal"),
               (suggestions_table.c.sender_id, suggestions_table.c.contact, "sugerencias"),
               (handoff_tickets.c.sender_id, handoff_tickets.c.contact_email, "atención por asesores"),
               (answer_ratings.c.sender_id, None, "valoraciones"),
               (mail_threads.c.sender_id, mail_threads.c.address, "correo")]
    with engine.connect() as conn:
        for sender_col, contact_col, label in sources:
            conditions = [sender_col == query]
            if digits and len(digits) >= 6 and not email:
                conditions.append(sender_col.contains(digits))
                if contact_col is not None:
                    conditions.append(func.replace(func.replace(contact_col, " ", ""), "-", "").contains(digits))
            if email and contact_col is not None:
                conditions.append(func.lower(contact_col) == email)
            for sender in conn.execute(select(distinct(sender_col)).where(or_(*conditions)).limit(limit)).scalars():
                add(sender, label)
    if inspect(engine).has_table("window_visits"):
        from bot.window.store import WindowStore

        window_digits = digits if digits and len(digits) >= 6 and not email else None
        for contact in WindowStore(engine).contacts_matching(email, window_digits, limit):
            add(WINDOW_PREFIX + contact, "ventanilla")
    if tracker is not None and inspect(tracker).has_table("events"):
        from bot.report.tracker import events

        conditions = [events.c.sender_id == query]
        if digits and len(digits) >= 6 and not email:
            conditions.append(events.c.sender_id.contains(digits))
        if email:
            conditions.append(func.lower(events.c.data).contains(email))
        with tracker.connect() as conn:
            for sender in conn.execute(select(distinct(events.c.sender_id)).where(or_(*conditions)).limit(limit)).scalars():
                add(sender, "conversación")
    return [Match(sender, channel_of(sender), tuple(sorted(where))) for sender, where in sorted(found.items())][:limit]

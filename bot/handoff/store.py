"""The handoff's tables: tickets, their messages, events and the advisors' presence.

Synchronous SQLAlchemy (call it in a worker thread from async code). Every change of a ticket's
state is a conditional UPDATE (compare-and-set on its status and advisor), so two advisors, two
desk processes or a double click never take, close or deliver the same thing twice.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from bot.handoff.schema import (
    MAX_TAGS,
    NOTE_MAX,
    OPEN_STATUSES,
    TAG_MAX,
    TEXT_MAX,
    handoff_events,
    handoff_messages,
    handoff_presence,
    handoff_tickets,
)
from bot.store.clock import aware, now
from bot.store.schema import contacts

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})*\.[A-Za-z]{2,24}")
TRANSCRIPT_LIMIT = 80  # the assistant's turns kept from before the handoff
MAX_ATTEMPTS = 8  # deliveries through Rasa before a message is marked failed
WHATSAPP_WINDOW = dt.timedelta(hours=24)
RESUME_LEASE = dt.timedelta(seconds=90)  # longer than a resume's Rasa call (20 s timeout)
PRIORITY_EVENT = "priority"  # a ticket entered the queue with priority (handoff_events.action)


class HandoffError(ValueError):
    """An operation that the ticket's state does not allow; the message (Spanish) says why."""


def _times(row: RowMapping) -> dict[str, Any]:
    return {k: aware(v) if isinstance(v, dt.datetime) else v for k, v in row.items()}


@dataclass(frozen=True)
class Ticket:
    id: int
    sender_id: str
    channel: str
    status: str
    reason: str
    priority: int
    line: str | None
    country: str | None
    topic: str | None
    article_id: str | None
    contact_email: str | None
    advisor_id: int | None
    office_id: int | None
    assigned_at: dt.datetime | None
    accepted_at: dt.datetime | None
    tags: list[str]
    created_at: dt.datetime
    queued_at: dt.datetime
    first_response_at: dt.datetime | None
    last_person_at: dt.datetime | None
    last_advisor_at: dt.datetime | None
    waiting_notice_at: dt.datetime | None
    end_requested_at: dt.datetime | None
    closed_at: dt.datetime | None
    closed_by: str | None
    resumed_at: dt.datetime | None
    messages_since_compaction: int
    rating: int | None
    rating_requested_at: dt.datetime | None
    rated_at: dt.datetime | None
    advisor_name: str | None = None
    preview: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def owes_reply(self) -> bool:
        """The person wrote after the advisor's last message."""
        return self.last_person_at is not None and (self.last_advisor_at is None or self.last_person_at > self.last_advisor_at)


def _ticket(row: RowMapping, **extra: Any) -> Ticket:
    data = _times(row)
    known = {f for f in Ticket.__dataclass_fields__}
    values = {k: v for k, v in data.items() if k in known}
    values["tags"] = list(values.get("tags") or [])
    values.update({k: v for k, v in extra.items() if k in known})
    return Ticket(**values)


@dataclass(frozen=True)
class Message:
    id: int
    ticket_id: int
    role: str
    text: str
    article_id: str | None
    attachments: list[dict] | None
    author_id: int | None
    author_name: str | None
    source_key: str | None
    created_at: dt.datetime
    delivery: str | None
    attempts: int
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    error: str | None
    kind: str | None


def _message(row: RowMapping) -> Message:
    return Message(**{k: v for k, v in _times(row).items() if k in Message.__dataclass_fields__})


def clean_text(text: object, limit: int = TEXT_MAX) -> str:
    """Text as stored: a string, without NUL characters, trimmed, at most `limit` characters."""
    value = str(text or "").replace("\x00", "").strip()
    return value[:limit]


def first_email(text: str) -> str | None:
    match = EMAIL.search(text or "")
    return match.group(0).lower()[:254] if match else None


class HandoffStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    # --- reading -------------------------------------------------------------------------------
    def _event(self, conn: Connection, ticket_id: int, action: str, actor_id: int | None = None,
               detail: str | None = None, at: dt.datetime | None = None) -> None:
        conn.execute(insert(handoff_events).values(ticket_id=ticket_id, action=action, actor_id=actor_id,
                                                   detail=(detail or None) and detail[:300], created_at=at or now()))

    def get(self, ticket_id: int) -> Ticket | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(handoff_tickets).where(handoff_tickets.c.id == ticket_id)).mappings().first()
        return _ticket(row) if row else None

    def open_for(self, sender_id: str) -> Ticket | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(handoff_tickets).where(handoff_tickets.c.sender_id == sender_id,
                                                             handoff_tickets.c.status.in_(OPEN_STATUSES))).mappings().first()
        return _ticket(row) if row else None

    def _previews(self, conn: Connection, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        latest = (select(func.max(handoff_messages.c.id)).where(handoff_messages.c.ticket_id.in_(ids),
                                                                handoff_messages.c.role == "person")
                  .group_by(handoff_messages.c.ticket_id))
        rows = conn.execute(select(handoff_messages.c.ticket_id, handoff_messages.c.text)
                            .where(handoff_messages.c.id.in_(latest.scalar_subquery()))).all()
        return {ticket_id: text for ticket_id, text in rows}

    def _with_details(self, conn: Connection, rows: Iterable[RowMapping]) -> list[Ticket]:
        from bot.desk.schema import desk_users

        rows = list(rows)
        previews = self._previews(conn, [r["id"] for r in rows])
        names = dict(conn.execute(select(desk_users.c.id, desk_users.c.display_name)).all()) if rows else {}
        return [_ticket(r, preview=previews.get(r["id"]), advisor_name=names.get(r["advisor_id"])) for r in rows]

    def waiting(self, office_ids: Iterable[int | None] | None = None) -> list[Ticket]:
        """The queue (of these offices, None among them for tickets routed to none; or all): priority first,
        then the oldest escalation."""
        query = select(handoff_tickets).where(handoff_tickets.c.status == "waiting")
        if office_ids is not None:
            ids = list(office_ids)
            known = handoff_tickets.c.office_id.in_([i for i in ids if i is not None])
            query = query.where(or_(known, handoff_tickets.c.office_id.is_(None)) if None in ids else known)
        with self.engine.connect() as conn:
            rows = conn.execute(query
                                .order_by(handoff_tickets.c.priority.desc(), handoff_tickets.c.created_at,
                                          handoff_tickets.c.id)).mappings().all()
            return self._with_details(conn, rows)

    def open_tickets(self, advisor_id: int | None = None) -> list[Ticket]:
        """Tickets being handled (active or closing), of one advisor or of everyone."""
        query = select(handoff_tickets).where(handoff_tickets.c.status.in_(("active", "closing")))
        if advisor_id is not None:
            query = query.where(handoff_tickets.c.advisor_id == advisor_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(handoff_tickets.c.priority.desc(), handoff_tickets.c.created_at)).mappings().all()
            return self._with_details(conn, rows)

    def recently_closed(self, advisor_id: int | None, since: dt.datetime, limit: int = 20) -> list[Ticket]:
        query = select(handoff_tickets).where(handoff_tickets.c.status == "closed", handoff_tickets.c.closed_at >= since)
        if advisor_id is not None:
            query = query.where(handoff_tickets.c.advisor_id == advisor_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(handoff_tickets.c.closed_at.desc()).limit(limit)).mappings().all()
            return self._with_details(conn, rows)

    def detailed(self, ticket_id: int) -> Ticket | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(handoff_tickets).where(handoff_tickets.c.id == ticket_id)).mappings().first()
            return self._with_details(conn, [row])[0] if row else None

    def position(self, ticket: Ticket) -> int:
        """1 for the next ticket an advisor of its office will take; 0 when it is not waiting."""
        if ticket.status != "waiting":
            return 0
        t = handoff_tickets.c
        ahead = or_(t.priority > ticket.priority,
                    and_(t.priority == ticket.priority,
                         or_(t.created_at < ticket.created_at, and_(t.created_at == ticket.created_at, t.id < ticket.id))))
        same_office = t.office_id.is_(None) if ticket.office_id is None else t.office_id == ticket.office_id
        with self.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(handoff_tickets)
                                 .where(t.status == "waiting", same_office, ahead)).scalar()
        return int(count or 0) + 1

    def messages(self, ticket_id: int, after_id: int = 0, limit: int = 500) -> list[Message]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(handoff_messages).where(handoff_messages.c.ticket_id == ticket_id,
                                                               handoff_messages.c.id > after_id)
                                .order_by(handoff_messages.c.id).limit(limit)).mappings().all()
        return [_message(r) for r in rows]

    def history(self, sender_id: str, before_ticket: int, limit: int = 5) -> list[Ticket]:
        """Earlier tickets of the same person (the advisor sees that they came before)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(handoff_tickets).where(handoff_tickets.c.sender_id == sender_id,
                                                              handoff_tickets.c.id < before_ticket)
                                .order_by(handoff_tickets.c.id.desc()).limit(limit)).mappings().all()
        return [_ticket(r) for r in rows]

    def events(self, ticket_id: int) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(handoff_events).where(handoff_events.c.ticket_id == ticket_id)
                                .order_by(handoff_events.c.id)).mappings().all()
        return [_times(r) for r in rows]

    def last_inbound(self, sender_id: str) -> dt.datetime | None:
        """When the person last wrote, as their channel recorded it (contacts.last_inbound_at)."""
        with self.engine.connect() as conn:
            value = conn.execute(select(contacts.c.last_inbound_at).where(contacts.c.sender_id == sender_id)).scalar()
        return aware(value)

    # --- escalation (action server) --------------------------------------------------------------
    def open_ticket(self, *, sender_id: str, channel: str, reason: str, priority: int, line: str | None = None,
                    country: str | None = None, topic: str | None = None, article_id: str | None = None,
                    transcript: Iterable[dict] = (), office_id: int | None = None,
                    at: dt.datetime | None = None) -> tuple[Ticket, bool]:
        """Open a ticket for the conversation, with the assistant's turns so far, in the queue of `office_id`
        (bot/offices: routed by the caller); an open ticket of the same conversation is returned instead
        (False: not created now), raised to safety if needed."""
        at = at or now()
        existing = self.open_for(sender_id)
        if existing is not None:
            if priority > existing.priority:
                with self.engine.begin() as conn:
                    conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == existing.id)
                                 .values(priority=priority, reason=reason))
                    self._event(conn, existing.id, PRIORITY_EVENT, detail=reason, at=at)
                existing = replace(existing, priority=priority, reason=reason)
            return existing, False
        values = {"sender_id": sender_id, "channel": channel[:20], "status": "waiting", "reason": reason, "priority": priority,
                  "line": line, "country": country, "topic": topic, "article_id": article_id, "tags": [],
                  "office_id": office_id, "created_at": at, "queued_at": at, "messages_since_compaction": 0}
        try:
            with self.engine.begin() as conn:
                ticket_id = conn.execute(insert(handoff_tickets).values(**values)).inserted_primary_key[0]
                rows = [
                    {"ticket_id": ticket_id, "role": m["role"], "text": clean_text(m.get("text")), "article_id": m.get("article_id"),
                     "attachments": m.get("attachments") or None, "source_key": m.get("source_key"),
                     "created_at": m.get("at") or at, "attempts": 0}
                    for m in list(transcript)[-TRANSCRIPT_LIMIT:] if clean_text(m.get("text")) or m.get("attachments")
                ]
                if rows:
                    conn.execute(insert(handoff_messages), rows)
                self._event(conn, ticket_id, "created", detail=reason, at=at)
                if priority:
                    self._event(conn, ticket_id, PRIORITY_EVENT, detail=reason, at=at)
        except IntegrityError:  # the same conversation escalated twice at once
            again = self.open_for(sender_id)
            if again is None:
                raise
            return again, False
        ticket = self.get(ticket_id)
        assert ticket is not None
        return ticket, True

    def priority_escalations(self, sender_id: str, since: dt.datetime) -> int:
        """How often this person's tickets entered the queue with priority (opened with it or raised to
        it) since `since`: the handoff caps it per day (bot/handoff/escalation.py)."""
        e, t = handoff_events.c, handoff_tickets.c
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(handoff_events.join(handoff_tickets, e.ticket_id == t.id))
                                    .where(t.sender_id == sender_id, e.action == PRIORITY_EVENT,
                                           e.created_at >= since)).scalar() or 0)

    # --- what the person writes (action server) ----------------------------------------------------
    def record_person_message(self, sender_id: str, text: str, *, source_key: str | None, attachments: list[dict] | None = None,
                              at: dt.datetime | None = None, wants_assistant: bool = False) -> tuple[Ticket | None, bool]:
        """Add a message of the person to their open ticket. Returns (ticket, recorded now); the
        ticket is None when there is no open ticket. An e-mail address in it becomes the ticket's
        contact; `wants_assistant` records that the person asked to go back to the assistant."""
        at = at or now()
        ticket = self.open_for(sender_id)
        if ticket is None:
            return None, False
        body = clean_text(text)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(handoff_messages).values(
                    ticket_id=ticket.id, role="person", text=body or "[mensaje sin texto]", attachments=attachments or None,
                    source_key=source_key[:200] if source_key else None, created_at=at, attempts=0))
                values: dict[str, Any] = {"last_person_at": at,
                                          "messages_since_compaction": handoff_tickets.c.messages_since_compaction + 1}
                email = first_email(body)
                if email and not ticket.contact_email:
                    values["contact_email"] = email
                if wants_assistant:
                    values["end_requested_at"] = at
                conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket.id).values(**values))
        except IntegrityError:  # the same message recorded before (a retried action call)
            return ticket, False
        return self.get(ticket.id), True

    def count_person_messages(self, ticket_id: int, since: dt.datetime) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(handoff_messages).where(
                handoff_messages.c.ticket_id == ticket_id, handoff_messages.c.role == "person",
                handoff_messages.c.created_at >= since)).scalar() or 0)

    def last_of_kind(self, ticket_id: int, kind: str) -> Message | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(handoff_messages).where(handoff_messages.c.ticket_id == ticket_id,
                                                              handoff_messages.c.kind == kind)
                               .order_by(handoff_messages.c.id.desc()).limit(1)).mappings().first()
        return _message(row) if row else None

    def has_kind(self, ticket_id: int, kind: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(handoff_messages).where(
                handoff_messages.c.ticket_id == ticket_id, handoff_messages.c.kind == kind)).scalar() or 0)

    # --- messages to the person and notes ------------------------------------------------------------
    def add_message(self, ticket_id: int, role: str, text: str, *, author_id: int | None = None,
                    author_name: str | None = None, kind: str | None = None, delivery: str | None = "pending",
                    at: dt.datetime | None = None, limit: int = TEXT_MAX, article_id: str | None = None) -> Message:
        at = at or now()
        body = clean_text(text, limit)
        if not body:
            raise HandoffError("El mensaje está vacío.")
        with self.engine.begin() as conn:
            message_id = conn.execute(insert(handoff_messages).values(
                ticket_id=ticket_id, role=role, text=body, author_id=author_id, author_name=author_name, kind=kind,
                article_id=article_id, created_at=at, delivery=delivery, attempts=0, next_attempt_at=at if delivery == "pending" else None,
                delivered_at=at if delivery == "sent" else None)).inserted_primary_key[0]
            if role == "advisor":
                values: dict[str, Any] = {"last_advisor_at": at,
                                          "messages_since_compaction": handoff_tickets.c.messages_since_compaction + 1}
                conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket_id).values(**values))
                conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket_id,
                                                           handoff_tickets.c.first_response_at.is_(None))
                             .values(first_response_at=at))
            if role == "note":
                self._event(conn, ticket_id, "note", author_id, at=at)
        return self.message(message_id)

    def message(self, message_id: int) -> Message:
        with self.engine.connect() as conn:
            row = conn.execute(select(handoff_messages).where(handoff_messages.c.id == message_id)).mappings().one()
        return _message(row)

    def claim_due(self, at: dt.datetime | None = None, limit: int = 20) -> list[Message]:
        """Messages waiting to be sent whose time has come, claimed for this process ('sending')."""
        at = at or now()
        with self.engine.connect() as conn:
            ids = conn.execute(select(handoff_messages.c.id).where(handoff_messages.c.delivery == "pending",
                                                                   handoff_messages.c.next_attempt_at <= at)
                               .order_by(handoff_messages.c.id).limit(limit)).scalars().all()
        claimed = [i for i in ids if self.claim(i)]
        return [self.message(i) for i in claimed]

    def claim(self, message_id: int) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(update(handoff_messages).where(handoff_messages.c.id == message_id,
                                                               handoff_messages.c.delivery == "pending")
                                .values(delivery="sending", next_attempt_at=now())).rowcount == 1

    def delivered(self, message_id: int, at: dt.datetime | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(handoff_messages).where(handoff_messages.c.id == message_id)
                         .values(delivery="sent", delivered_at=at or now(), error=None))

    def failed(self, message_id: int, error: str, at: dt.datetime | None = None) -> str:
        """Record a failed attempt: tried again later with a growing delay, 'failed' after MAX_ATTEMPTS."""
        at = at or now()
        message = self.message(message_id)
        attempts = message.attempts + 1
        state = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        delay = dt.timedelta(seconds=min(300, 2 ** attempts))
        with self.engine.begin() as conn:
            conn.execute(update(handoff_messages).where(handoff_messages.c.id == message_id).values(
                delivery=state, attempts=attempts, error=error[:300], next_attempt_at=at + delay))
        return state

    def hold(self, message_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(handoff_messages).where(handoff_messages.c.id == message_id).values(delivery="held"))

    def release_held(self, ticket_id: int, at: dt.datetime | None = None) -> int:
        at = at or now()
        with self.engine.begin() as conn:
            return conn.execute(update(handoff_messages).where(handoff_messages.c.ticket_id == ticket_id,
                                                               handoff_messages.c.delivery == "held")
                                .values(delivery="pending", next_attempt_at=at)).rowcount

    def held_tickets(self) -> list[Ticket]:
        with self.engine.connect() as conn:
            ids = select(handoff_messages.c.ticket_id).where(handoff_messages.c.delivery == "held").distinct()
            rows = conn.execute(select(handoff_tickets).where(handoff_tickets.c.id.in_(ids))).mappings().all()
        return [_ticket(r) for r in rows]

    def undelivered(self, ticket_id: int) -> int:
        """Messages to the person not yet accepted by Rasa (pending, sending or held)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(handoff_messages).where(
                handoff_messages.c.ticket_id == ticket_id,
                handoff_messages.c.delivery.in_(("pending", "sending", "held")))).scalar() or 0)

    def reset_stale_sending(self, older_than: dt.timedelta = dt.timedelta(minutes=2)) -> int:
        """A process that died while sending leaves 'sending' rows: they are tried again."""
        cutoff = now() - older_than
        with self.engine.begin() as conn:
            return conn.execute(update(handoff_messages).where(handoff_messages.c.delivery == "sending",
                                                               handoff_messages.c.next_attempt_at < cutoff)
                                .values(delivery="pending")).rowcount

    # --- advisor actions -------------------------------------------------------------------------
    def take(self, ticket_id: int, advisor_id: int, at: dt.datetime | None = None) -> tuple[Ticket, bool]:
        """Waiting → active with this advisor. (ticket, False) when it was already theirs."""
        at = at or now()
        with self.engine.begin() as conn:
            changed = conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket_id,
                                                                 handoff_tickets.c.status == "waiting")
                                   .values(status="active", advisor_id=advisor_id, assigned_at=at, accepted_at=at)).rowcount
            if changed:
                self._event(conn, ticket_id, "taken", advisor_id, at=at)
        ticket = self.get(ticket_id)
        if ticket is None:
            raise HandoffError("Esa conversación no existe.")
        if not changed:
            if ticket.status in ("active", "closing") and ticket.advisor_id == advisor_id:
                return self.accept(ticket_id, advisor_id, at), False
            raise HandoffError("Otra persona ya tomó esta conversación, o ya no está en la cola.")
        return ticket, True

    def accept(self, ticket_id: int, advisor_id: int, at: dt.datetime | None = None) -> Ticket:
        """A transferred chat is opened by its new advisor."""
        at = at or now()
        with self.engine.begin() as conn:
            if conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket_id,
                                                          handoff_tickets.c.advisor_id == advisor_id,
                                                          handoff_tickets.c.accepted_at.is_(None))
                            .values(accepted_at=at)).rowcount:
                self._event(conn, ticket_id, "accepted", advisor_id, at=at)
        ticket = self.get(ticket_id)
        assert ticket is not None
        return ticket

    def require_owner(self, ticket_id: int, advisor_id: int, supervisor: bool = False) -> Ticket:
        ticket = self.get(ticket_id)
        if ticket is None:
            raise HandoffError("Esa conversación no existe.")
        if ticket.status not in ("active", "closing"):
            raise HandoffError("Esta conversación no está en atención: tómela primero." if ticket.status == "waiting"
                               else "Esta conversación ya está cerrada.")
        if ticket.advisor_id != advisor_id and not supervisor:
            raise HandoffError("Esta conversación la atiende otra persona.")
        return ticket

    def set_tags(self, ticket_id: int, tags: Iterable[str], actor_id: int | None) -> list[str]:
        clean: list[str] = []
        for tag in tags:
            value = " ".join(str(tag).replace("\x00", "").split()).lower()[:TAG_MAX]
            if value and value not in clean:
                clean.append(value)
        if len(clean) > MAX_TAGS:
            raise HandoffError(f"Como máximo {MAX_TAGS} etiquetas.")
        with self.engine.begin() as conn:
            if not conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket_id).values(tags=clean)).rowcount:
                raise HandoffError("Esa conversación no existe.")
            self._event(conn, ticket_id, "tags", actor_id, detail=", ".join(clean))
        return clean

    def add_note(self, ticket_id: int, text: str, author_id: int, author_name: str) -> Message:
        if self.get(ticket_id) is None:
            raise HandoffError("Esa conversación no existe.")
        return self.add_message(ticket_id, "note", text, author_id=author_id, author_name=author_name, delivery=None,
                                limit=NOTE_MAX)

    def transfer(self, ticket_id: int, from_id: int, to_id: int, supervisor: bool = False, at: dt.datetime | None = None) -> Ticket:
        at = at or now()
        ticket = self.require_owner(ticket_id, from_id, supervisor)
        if ticket.status != "active":
            raise HandoffError("Solo se transfiere una conversación en atención.")
        if to_id == ticket.advisor_id:
            raise HandoffError("La conversación ya está asignada a esa persona.")
        with self.engine.begin() as conn:
            changed = conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket_id,
                                                                 handoff_tickets.c.status == "active",
                                                                 handoff_tickets.c.advisor_id == ticket.advisor_id)
                                   .values(advisor_id=to_id, assigned_at=at, accepted_at=None)).rowcount
            if not changed:
                raise HandoffError("La conversación cambió mientras tanto; vuelva a intentarlo.")
            self._event(conn, ticket_id, "transferred", from_id, detail=f"{ticket.advisor_id}->{to_id}", at=at)
        return self.get(ticket_id)  # type: ignore[return-value]

    def move_to_office(self, ticket_id: int, office_id: int, actor_id: int, supervisor: bool = False,
                       at: dt.datetime | None = None) -> Ticket:
        """Send a conversation to another office's queue (waiting, without advisor): the advisor who has it,
        or a supervisor, or anyone for a conversation still waiting."""
        at = at or now()
        ticket = self.get(ticket_id)
        if ticket is None:
            raise HandoffError("Esa conversación no existe.")
        if ticket.status == "active":
            ticket = self.require_owner(ticket_id, actor_id, supervisor)
        elif ticket.status != "waiting":
            raise HandoffError("Solo se deriva a otra oficina una conversación en cola o en atención.")
        if ticket.office_id == office_id:
            raise HandoffError("La conversación ya está en la cola de esa oficina.")
        with self.engine.begin() as conn:
            changed = conn.execute(update(handoff_tickets).where(
                handoff_tickets.c.id == ticket_id, handoff_tickets.c.status == ticket.status,
                handoff_tickets.c.advisor_id.is_(None) if ticket.advisor_id is None else handoff_tickets.c.advisor_id == ticket.advisor_id)
                .values(office_id=office_id, status="waiting", advisor_id=None, assigned_at=None, accepted_at=None,
                        queued_at=at, waiting_notice_at=None)).rowcount
            if not changed:
                raise HandoffError("La conversación cambió mientras tanto; vuelva a intentarlo.")
            self._event(conn, ticket_id, "office", actor_id, detail=f"{ticket.office_id}->{office_id}", at=at)
        return self.get(ticket_id)  # type: ignore[return-value]

    def return_to_queue(self, ticket_id: int, why: str, actor_id: int | None = None, expect_advisor: int | None = None,
                        at: dt.datetime | None = None) -> Ticket | None:
        """Active → waiting, without advisor (timeouts, or an advisor who gives the chat back)."""
        at = at or now()
        conditions = [handoff_tickets.c.id == ticket_id, handoff_tickets.c.status == "active"]
        if expect_advisor is not None:
            conditions.append(handoff_tickets.c.advisor_id == expect_advisor)
        with self.engine.begin() as conn:
            if not conn.execute(update(handoff_tickets).where(*conditions).values(
                    status="waiting", advisor_id=None, assigned_at=None, accepted_at=None, queued_at=at,
                    waiting_notice_at=None)).rowcount:
                return None
            self._event(conn, ticket_id, "returned", actor_id, detail=why, at=at)
        return self.get(ticket_id)

    def close(self, ticket_id: int, by: str, actor_id: int | None = None, expect_advisor: int | None = None,
              at: dt.datetime | None = None) -> Ticket:
        """Close a ticket: 'closed' at once, or 'closing' while an answer waits for WhatsApp's window
        (it closes when that answer is delivered)."""
        at = at or now()
        ticket = self.get(ticket_id)
        if ticket is None:
            raise HandoffError("Esa conversación no existe.")
        if not ticket.is_open:
            raise HandoffError("Esta conversación ya está cerrada.")
        held = self.undelivered(ticket_id) > 0 and by == "advisor"
        conditions = [handoff_tickets.c.id == ticket_id, handoff_tickets.c.status == ticket.status]
        if expect_advisor is not None:
            conditions.append(handoff_tickets.c.advisor_id == expect_advisor)
        with self.engine.begin() as conn:
            if not conn.execute(update(handoff_tickets).where(*conditions).values(
                    status="closing" if held else "closed", closed_at=at, closed_by=by)).rowcount:
                raise HandoffError("La conversación cambió mientras tanto; vuelva a intentarlo.")
            self._event(conn, ticket_id, "closing" if held else "closed", actor_id, detail=by, at=at)
        return self.get(ticket_id)  # type: ignore[return-value]

    def finish_closing(self, ticket_id: int, at: dt.datetime | None = None) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket_id,
                                                              handoff_tickets.c.status == "closing")
                                .values(status="closed", closed_at=at or now())).rowcount == 1
            if done:
                self._event(conn, ticket_id, "closed", detail="answer delivered")
        return done

    def claim_resume(self, ticket_id: int, at: dt.datetime | None = None) -> bool:
        """Take the right to give this closed conversation back to the assistant: True for one caller across
        every desk process, until it is resumed, released, or the claim is older than RESUME_LEASE (its
        process died mid-way)."""
        at = at or now()
        t = handoff_tickets.c
        with self.engine.begin() as conn:
            return conn.execute(update(handoff_tickets).where(
                t.id == ticket_id, t.resumed_at.is_(None),
                or_(t.resume_claimed_at.is_(None), t.resume_claimed_at < at - RESUME_LEASE)).values(resume_claimed_at=at)).rowcount == 1

    def release_resume(self, ticket_id: int) -> None:
        """Give the claim back (Rasa did not take the conversation): the next round tries again."""
        with self.engine.begin() as conn:
            conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket_id, handoff_tickets.c.resumed_at.is_(None))
                         .values(resume_claimed_at=None))

    def mark_resumed(self, ticket_id: int, rating_requested: bool, at: dt.datetime | None = None) -> None:
        at = at or now()
        values: dict[str, Any] = {"resumed_at": at}
        if rating_requested:
            values["rating_requested_at"] = at
        with self.engine.begin() as conn:
            conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket_id).values(**values))

    def compacted(self, ticket_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket_id).values(messages_since_compaction=0))

    def waiting_noticed(self, ticket_id: int, at: dt.datetime | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(handoff_tickets).where(handoff_tickets.c.id == ticket_id).values(waiting_notice_at=at or now()))

    def not_resumed(self) -> list[Ticket]:
        """Closed tickets whose conversation is still paused in Rasa (Rasa was unreachable)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(handoff_tickets).where(handoff_tickets.c.status == "closed",
                                                              handoff_tickets.c.resumed_at.is_(None))).mappings().all()
        return [_ticket(r) for r in rows]

    def end_requested(self) -> list[Ticket]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(handoff_tickets).where(handoff_tickets.c.status.in_(OPEN_STATUSES),
                                                              handoff_tickets.c.end_requested_at.is_not(None))).mappings().all()
        return [_ticket(r) for r in rows]

    def first_unanswered_at(self, ticket: Ticket) -> dt.datetime | None:
        """When the advisor started to owe an answer: the person's oldest message after the advisor's
        last one (or since the advisor accepted the chat, when that is later)."""
        query = select(func.min(handoff_messages.c.created_at)).where(handoff_messages.c.ticket_id == ticket.id,
                                                                     handoff_messages.c.role == "person")
        if ticket.last_advisor_at is not None:
            query = query.where(handoff_messages.c.created_at > ticket.last_advisor_at)
        with self.engine.connect() as conn:
            first = aware(conn.execute(query).scalar())
        if first is None:
            return None
        return max(first, ticket.accepted_at) if ticket.accepted_at else first

    # --- rating --------------------------------------------------------------------------------------
    def rate(self, sender_id: str, rating: int, within: dt.timedelta = dt.timedelta(days=2),
             at: dt.datetime | None = None) -> Ticket | None:
        """Record the person's rating of their last closed ticket (once, soon after it closed)."""
        at = at or now()
        if not 1 <= rating <= 5:
            raise HandoffError("La calificación va de 1 a 5.")
        t = handoff_tickets.c
        with self.engine.begin() as conn:
            row = conn.execute(select(t.id).where(t.sender_id == sender_id, t.status == "closed",
                                                  t.rating_requested_at.is_not(None), t.rating.is_(None),
                                                  t.rating_requested_at >= at - within)
                               .order_by(t.id.desc()).limit(1)).first()
            if row is None:
                return None
            conn.execute(update(handoff_tickets).where(t.id == row.id).values(rating=rating, rated_at=at))
            self._event(conn, row.id, "rated", detail=str(rating), at=at)
        return self.get(row.id)

    # --- presence and statistics -------------------------------------------------------------------------
    def seen(self, user_id: int, at: dt.datetime | None = None) -> None:
        at = at or now()
        with self.engine.begin() as conn:
            if not conn.execute(update(handoff_presence).where(handoff_presence.c.user_id == user_id)
                                .values(last_seen_at=at)).rowcount:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(handoff_presence).values(user_id=user_id, last_seen_at=at))
                except IntegrityError:
                    pass

    def online(self, window: dt.timedelta, at: dt.datetime | None = None) -> list[int]:
        at = at or now()
        with self.engine.connect() as conn:
            return list(conn.execute(select(handoff_presence.c.user_id).where(handoff_presence.c.last_seen_at >= at - window))
                        .scalars().all())

    def stats(self, since: dt.datetime, window: dt.timedelta, at: dt.datetime | None = None) -> dict[str, Any]:
        """What a supervisor sees: queue length and waits now, and per advisor since `since`."""
        from bot.desk.schema import desk_users

        at = at or now()
        t = handoff_tickets.c
        with self.engine.connect() as conn:
            waiting = [_times(r) for r in conn.execute(select(t.created_at, t.priority).where(t.status == "waiting")).mappings()]
            taken = [_times(r) for r in conn.execute(select(t.created_at, t.assigned_at, t.first_response_at).where(
                t.assigned_at >= since, t.assigned_at.is_not(None))).mappings()]
            per: dict[int, dict[str, Any]] = {}
            users = conn.execute(select(desk_users.c.id, desk_users.c.display_name, desk_users.c.roles, desk_users.c.active)).all()
            online = set(self.online(window, at))
            for user_id, name, roles, active in users:
                if "advisor" in roles.split() and active:
                    per[user_id] = {"id": user_id, "name": name, "online": user_id in online, "active": 0, "closed": 0,
                                    "ratings": [], "first_response_seconds": []}
            for row in conn.execute(select(t.advisor_id, t.status, t.rating, t.created_at, t.first_response_at, t.closed_at)
                                    .where(t.advisor_id.is_not(None), or_(t.status.in_(("active", "closing")),
                                                                          t.closed_at >= since))).mappings():
                entry = per.get(row["advisor_id"])
                if entry is None:
                    continue
                if row["status"] in ("active", "closing"):
                    entry["active"] += 1
                else:
                    entry["closed"] += 1
                if row["rating"]:
                    entry["ratings"].append(row["rating"])
            for row in conn.execute(select(t.advisor_id, t.assigned_at, t.first_response_at).where(
                    t.advisor_id.is_not(None), t.first_response_at >= since)).mappings():
                entry = per.get(row["advisor_id"])
                if entry is not None and row["assigned_at"] is not None:
                    seconds = (aware(row["first_response_at"]) - aware(row["assigned_at"])).total_seconds()
                    entry["first_response_seconds"].append(max(0.0, seconds))
            ratings = [r for (r,) in conn.execute(select(t.rating).where(t.rated_at >= since, t.rating.is_not(None))).all()]
        waits_now = sorted((at - w["created_at"]).total_seconds() for w in waiting)
        waits_taken = [(w["assigned_at"] - w["created_at"]).total_seconds() for w in taken]
        advisors = []
        for entry in per.values():
            ratings_of = entry.pop("ratings")
            responses = entry.pop("first_response_seconds")
            entry["rating"] = round(sum(ratings_of) / len(ratings_of), 1) if ratings_of else None
            entry["first_response_seconds"] = round(sum(responses) / len(responses)) if responses else None
            advisors.append(entry)
        advisors.sort(key=lambda e: (not e["online"], -e["active"], e["name"]))
        return {
            "waiting": len(waiting),
            "waiting_priority": sum(1 for w in waiting if w["priority"] > 0),
            "longest_wait_seconds": round(waits_now[-1]) if waits_now else 0,
            "average_wait_now_seconds": round(sum(waits_now) / len(waits_now)) if waits_now else 0,
            "average_wait_taken_seconds": round(sum(waits_taken) / len(waits_taken)) if waits_taken else None,
            "taken": len(waits_taken),
            "active": sum(e["active"] for e in advisors),
            "online": sum(1 for e in advisors if e["online"]),
            "rating": round(sum(ratings) / len(ratings), 1) if ratings else None,
            "ratings": len(ratings),
            "advisors": advisors,
        }

    # --- personal data -------------------------------------------------------------------------------
    def erase_sender(self, sender_id: str) -> int:
        """Delete every ticket of a person with its messages and events (their right to erasure)."""
        with self.engine.begin() as conn:
            ids = conn.execute(select(handoff_tickets.c.id).where(handoff_tickets.c.sender_id == sender_id)).scalars().all()
            if ids:
                conn.execute(delete(handoff_messages).where(handoff_messages.c.ticket_id.in_(ids)))
                conn.execute(delete(handoff_events).where(handoff_events.c.ticket_id.in_(ids)))
                conn.execute(delete(handoff_tickets).where(handoff_tickets.c.id.in_(ids)))
        return len(ids)

    def purge_closed_before(self, cutoff: dt.datetime) -> int:
        """Delete closed tickets (and their messages) closed before `cutoff` (retention)."""
        with self.engine.begin() as conn:
            ids = conn.execute(select(handoff_tickets.c.id).where(handoff_tickets.c.status == "closed",
                                                                  handoff_tickets.c.closed_at < cutoff)).scalars().all()
            if ids:
                conn.execute(delete(handoff_messages).where(handoff_messages.c.ticket_id.in_(ids)))
                conn.execute(delete(handoff_events).where(handoff_events.c.ticket_id.in_(ids)))
                conn.execute(delete(handoff_tickets).where(handoff_tickets.c.id.in_(ids)))
        return len(ids)

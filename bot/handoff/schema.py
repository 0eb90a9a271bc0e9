"""Tables of the handoff to human advisors (on the shared metadata). Change them only with a new
migration (this package's first one is bot/store/migrations/versions/0004_handoff.py).

- handoff_tickets: one row per escalation of a conversation (a sender id of a channel), from the
  moment the assistant hands it over until it is closed, with what the queue shows and the rating.
- handoff_messages: the conversation as the advisor sees it: the assistant's turns before the
  handoff (with the article each answer came from), everything the person wrote while waiting or
  talking to the advisor (attachments included), the advisor's replies (with their delivery state)
  and the advisors' private notes.
- handoff_events: who did what with a ticket (taken, transferred, returned to the queue, closed…).
- handoff_presence: when each advisor last had the desk open (advisors online, expected waits).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

import bot.desk.schema  # noqa: F401  (desk_users, which the foreign keys below refer to)
import bot.offices.schema  # noqa: F401  (offices: handoff_tickets.office_id, migration 0010_offices)
from bot.store.schema import metadata

STATUSES: tuple[str, ...] = ("waiting", "active", "closing", "closed")
OPEN_STATUSES: tuple[str, ...] = ("waiting", "active", "closing")
REASONS: tuple[str, ...] = ("asked", "unsure", "safety")
ROLES: tuple[str, ...] = ("person", "bot", "advisor", "note", "system")
# Delivery of what the desk sends to the person (advisor replies and system notices):
#   pending  to be sent through Rasa (now, or again after a failure)
#   sending  claimed by one process, being sent
#   held     WhatsApp: the person wrote more than 24 hours ago; sent when they write again
#   sent     accepted by Rasa's HTTP API (and so by the channel)
#   failed   given up after too many attempts
DELIVERIES: tuple[str, ...] = ("pending", "sending", "held", "sent", "failed")

TEXT_MAX = 4000
NOTE_MAX = 2000
TAG_MAX = 40
MAX_TAGS = 12


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


_OPEN = text("status IN ('waiting', 'active', 'closing')")

handoff_tickets = Table(
    "handoff_tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(160), nullable=False, index=True),
    Column("channel", String(20), nullable=False),
    Column("status", String(10), nullable=False),
    Column("reason", String(10), nullable=False),
    Column("priority", Integer, nullable=False, default=0),  # 1: safety topics, served first
    Column("line", String(20), nullable=True),  # line of action of the last topic (emigrar, retorno…)
    Column("country", String(40), nullable=True),
    Column("topic", String(120), nullable=True),
    Column("article_id", String(160), nullable=True),
    Column("contact_email", String(254), nullable=True),  # left by the person while waiting
    Column("advisor_id", Integer, ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("office_id", Integer, ForeignKey("offices.id", ondelete="SET NULL"), nullable=True, index=True),  # its queue
    Column("assigned_at", DateTime(timezone=True), nullable=True),  # given to advisor_id (taken or transferred)
    Column("accepted_at", DateTime(timezone=True), nullable=True),  # advisor_id opened it (a transfer is accepted)
    Column("tags", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("queued_at", DateTime(timezone=True), nullable=False),  # last time it (re)entered the queue
    Column("first_response_at", DateTime(timezone=True), nullable=True),
    Column("last_person_at", DateTime(timezone=True), nullable=True),
    Column("last_advisor_at", DateTime(timezone=True), nullable=True),
    Column("waiting_notice_at", DateTime(timezone=True), nullable=True),  # "still waiting" told to the person
    Column("end_requested_at", DateTime(timezone=True), nullable=True),  # the person asked to go back
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_by", String(10), nullable=True),  # advisor | person | system
    Column("resumed_at", DateTime(timezone=True), nullable=True),  # the assistant took over again in Rasa
    # a desk process is giving the conversation back now (a lease: RESUME_LEASE in bot/handoff/store.py)
    Column("resume_claimed_at", DateTime(timezone=True), nullable=True),
    Column("messages_since_compaction", Integer, nullable=False, default=0),
    Column("rating", Integer, nullable=True),
    Column("rating_requested_at", DateTime(timezone=True), nullable=True),
    Column("rated_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(_one_of("status", STATUSES), name="ck_handoff_tickets_status"),
    CheckConstraint(_one_of("reason", REASONS), name="ck_handoff_tickets_reason"),
    CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_handoff_tickets_rating"),
    # At most one open ticket per conversation (a retried escalation finds the same one).
    Index("uq_handoff_tickets_open_sender", "sender_id", unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN),
    Index("ix_handoff_tickets_status_queue", "status", "priority", "created_at"),
)

handoff_messages = Table(
    "handoff_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, ForeignKey("handoff_tickets.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("role", String(10), nullable=False),
    Column("text", Text, nullable=False),
    Column("article_id", String(160), nullable=True),  # the article a bot answer came from
    Column("attachments", JSON, nullable=True),  # [{"type", "content_type"?, "url"?, "file_id"?}]
    Column("author_id", Integer, ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True),
    Column("author_name", String(120), nullable=True),
    Column("source_key", String(200), nullable=True),  # Rasa's message id (or event time): recorded once
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivery", String(10), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("error", String(300), nullable=True),
    Column("kind", String(20), nullable=True),  # system notices: taken, transfer, returned, waiting, closed…
    CheckConstraint(_one_of("role", ROLES), name="ck_handoff_messages_role"),
    CheckConstraint(f"delivery IS NULL OR {_one_of('delivery', DELIVERIES)}", name="ck_handoff_messages_delivery"),
    UniqueConstraint("ticket_id", "source_key", name="uq_handoff_messages_source"),
    Index("ix_handoff_messages_delivery", "delivery", "next_attempt_at"),
)

handoff_events = Table(
    "handoff_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, ForeignKey("handoff_tickets.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("actor_id", Integer, ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True),
    Column("detail", String(300), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

handoff_presence = Table(
    "handoff_presence",
    metadata,
    Column("user_id", Integer, ForeignKey("desk_users.id", ondelete="CASCADE"), primary_key=True),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
)

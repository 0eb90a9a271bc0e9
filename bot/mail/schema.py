"""Tables of the e-mail door (on the shared metadata; migration bot/store/migrations/versions/0008_mail.py).

- mail_threads: one row per e-mail conversation: its sender id in the desk ("correo:<reference>"), the
  reference the person sees, their address and name, the subject, and the thread's latest message ids
  (what an answer replies to). Personal data: erased with the conversation, like a chat's.
- mail_messages: every e-mail of a thread, received or sent, by its Message-ID, so that a message read
  twice (a crash between storing it and marking it read) is stored once, and a reply finds its thread
  through In-Reply-To/References.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, Text

import bot.handoff.schema  # noqa: F401  (handoff_tickets, which mail_messages refers to)
from bot.store.schema import metadata

SENDER_PREFIX = "correo:"
CHANNEL = "correo"

mail_threads = Table(
    "mail_threads",
    metadata,
    Column("sender_id", String(160), primary_key=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("address", String(254), nullable=False, index=True),
    Column("name", String(120), nullable=True),
    Column("subject", String(250), nullable=False),
    Column("last_message_id", String(250), nullable=True),
    Column("message_ids", Text, nullable=False, default=""),  # the thread's ids, space-separated, newest last
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

mail_messages = Table(
    "mail_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(250), nullable=False, unique=True),
    Column("sender_id", String(160), nullable=True, index=True),  # None: an automatic message, never answered
    Column("direction", String(3), nullable=False),  # in | out
    Column("ticket_id", Integer, ForeignKey("handoff_tickets.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

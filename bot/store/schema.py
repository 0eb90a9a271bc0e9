"""Table definitions. Change them only together with a new Alembic migration."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

# One row per person per channel: when they last wrote (WhatsApp's 24-hour window) and whether
# they asked not to be written to (WhatsApp "BAJA"/"STOP").
contacts = Table(
    "contacts",
    metadata,
    Column("sender_id", String(160), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("last_inbound_at", DateTime(timezone=True), nullable=True),
    Column("opted_out", Boolean, nullable=False, default=False),
    Column("opted_out_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Provider message ids already processed (Twilio MessageSid, Telegram update_id), so that a
# retried delivery is handled once.
seen_messages = Table(
    "seen_messages",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
)

# The buttons last offered to a person: a short reference (what a channel sends back: "2" on
# WhatsApp, callback_data on Telegram, the button id on the web) mapped to the payload that only
# the assistant issues.
button_choices = Table(
    "button_choices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(160), nullable=False, index=True),
    Column("offer", String(32), nullable=False),
    Column("position", Integer, nullable=False),
    Column("ref", String(32), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

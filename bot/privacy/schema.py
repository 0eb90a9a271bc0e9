"""Tables of the privacy work (on the shared metadata). Change them only with a new migration
(this package's first one is bot/store/migrations/versions/0007_privacy.py).

- privacy_runs: one row per day the retention job ran (its primary key is the lock: the first
  process to insert the day runs it, the others skip it), with what it did.
- privacy_erasures: the audit of every erasure: when, who asked (the person in the conversation,
  or a desk account on their behalf), the channel and how many records went. It holds no
  identifier of the person, by design.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, DateTime, Integer, String, Table

from bot.store.schema import metadata

privacy_runs = Table(
    "privacy_runs",
    metadata,
    Column("day", Date, primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("result", JSON, nullable=True),
)

privacy_erasures = Table(
    "privacy_erasures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("requested_by", String(10), nullable=False),  # person | desk
    Column("staff_id", String(64), nullable=True),
    Column("staff_email", String(254), nullable=True),
    Column("channel", String(20), nullable=False),
    Column("counts", JSON, nullable=False),
)

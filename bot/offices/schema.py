"""Tables of the offices (on the shared metadata; migration bot/store/migrations/versions/0010_offices.py).

- offices: one row per office: a short slug, its name, the regions it serves (region slugs of
  bot/offices/regions.py, space-separated), its own hours (HANDOFF_OFFICE_HOURS' syntax; NULL: the
  service's), whether it is the main office (the ministry in Lima: what no other office serves goes
  there) and whether it is active.
- desk_user_offices: which advisors belong to which offices.
handoff_tickets.office_id (bot/handoff/schema.py) is the office a conversation is routed to.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table

import bot.desk.schema  # noqa: F401  (desk_users, which desk_user_offices refers to)
from bot.store.schema import metadata

offices = Table(
    "offices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slug", String(40), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("regions", String(400), nullable=False, default=""),
    Column("hours", String(200), nullable=True),
    Column("is_main", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

desk_user_offices = Table(
    "desk_user_offices",
    metadata,
    Column("user_id", Integer, ForeignKey("desk_users.id", ondelete="CASCADE"), primary_key=True),
    Column("office_id", Integer, ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True, index=True),
)

"""Tables of the in-person window (on the shared metadata; migration bot/store/migrations/versions/0009_window.py).

- window_visits: one row per walk-in consultation: when, the advisor and the office of the window, the
  line of action, the country, the topics, the articles handed over, whether (and to whom) the person
  was referred. No name, no ID number. The contact (an e-mail address and/or a WhatsApp number) only
  with the person's consent (`consent_at`), and only until erasure or retention forgets it
  (`contact_erased_at`); the rest of the row stays for the counts.
- Sending to WhatsApp (bot/window/whatsapp.py, migration 0012): `whatsapp_sent_at` once the articles went
  out; `whatsapp_waiting_since` while an approved template waits for the person to write back (outside
  WhatsApp's 24-hour window nothing else may be sent first).
- window_sends: every attempt to send the articles (channel, when, whether the server took it, and a
  short reason when it did not, never the address).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, CheckConstraint, Column, DateTime, ForeignKey, Integer, String, Table

import bot.desk.schema  # noqa: F401  (desk_users, which window_visits refers to)
from bot.store.schema import metadata

REFERENCE_PREFIX = "VE"  # "VE-2026-7K3Q9": the reference printed on the sheet and written in the e-mail

window_visits = Table(
    "window_visits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("advisor_id", Integer, ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("office", String(80), nullable=True),
    Column("line", String(20), nullable=False),
    Column("country", String(40), nullable=True),
    Column("topics", JSON, nullable=False),  # list of short texts (knowledge-base topics or free tags)
    Column("articles", JSON, nullable=False),  # list of article ids handed over
    Column("referred", Boolean, nullable=False, default=False),
    Column("referred_to", String(160), nullable=True),
    Column("contact_email", String(254), nullable=True, index=True),
    Column("contact_whatsapp", String(20), nullable=True),
    Column("consent_at", DateTime(timezone=True), nullable=True),
    Column("contact_erased_at", DateTime(timezone=True), nullable=True),
    Column("emailed_at", DateTime(timezone=True), nullable=True),
    Column("whatsapp_sent_at", DateTime(timezone=True), nullable=True),
    Column("whatsapp_waiting_since", DateTime(timezone=True), nullable=True, index=True),
    CheckConstraint("(contact_email IS NULL AND contact_whatsapp IS NULL) OR consent_at IS NOT NULL",
                    name="ck_window_visits_contact_consent"),
)

window_sends = Table(
    "window_sends",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("visit_id", Integer, ForeignKey("window_visits.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("channel", String(10), nullable=False),  # correo | whatsapp
    Column("at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("detail", String(300), nullable=True),
    Column("advisor_id", Integer, ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True),
)

"""The desk's tables, on the project's shared `metadata` (migrations 0002_desk_accounts, 0006_desk_totp)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table

from bot.store.schema import metadata

# Staff accounts. `roles` is a space-separated subset of bot.desk.accounts.ROLES. `totp_secret` is the
# base32 secret of the second factor (NULL: not enrolled yet); `totp_last_step` the 30-second step of
# the last code accepted, so a code is never accepted twice.
desk_users = Table(
    "desk_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("display_name", String(120), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("roles", String(64), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
    Column("totp_secret", String(64), nullable=True),
    Column("totp_last_step", BigInteger, nullable=True),
    Column("totp_enrolled_at", DateTime(timezone=True), nullable=True),
)

# Server-side sessions. `id` is the SHA-256 of the cookie's random value, so the table alone does
# not give anyone a live session.
desk_sessions = Table(
    "desk_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("desk_users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

# Failed logins, kept for the throttling window only. `key` is the SHA-256 of "email:<address>"
# or "ip:<address>": neither the address nor the IP is stored in clear.
desk_login_failures = Table(
    "desk_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Index("ix_desk_login_failures_key_failed_at", "key", "failed_at"),
)

# A login half done: the password was right, the second factor (or its enrolment) is still owed.
# `id` is the SHA-256 of a random cookie value, as for sessions; `secret` is the secret offered
# for enrolment (kind "enrol") until a code from it confirms it. It grants nothing but /login/codigo.
desk_login_challenges = Table(
    "desk_login_challenges",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("desk_users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),
    Column("secret", String(64), nullable=True),
    Column("next_path", String(500), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

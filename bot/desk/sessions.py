"""Server-side sessions: a random value in an HttpOnly cookie, its SHA-256 in desk_sessions with the
account, the CSRF token and an idle expiry that slides with use (and a hard maximum age)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from bot.desk.accounts import DeskUser, user_from_row
from bot.desk.schema import desk_sessions, desk_users
from bot.store.clock import aware, now

MAX_TOKEN = 128  # longer cookie values are not ours
SLIDE_AFTER = dt.timedelta(minutes=1)  # refresh the expiry at most once a minute per session


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class DeskSession:
    token: str
    user: DeskUser
    csrf_token: str
    created_at: dt.datetime
    expires_at: dt.datetime


class Sessions:
    def __init__(self, engine: Engine, idle: dt.timedelta, max_age: dt.timedelta):
        self.engine = engine
        self.idle = idle
        self.max_age = max_age

    def create(self, user: DeskUser) -> DeskSession:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        started = now()
        expires = min(started + self.idle, started + self.max_age)
        with self.engine.begin() as conn:
            conn.execute(delete(desk_sessions).where(desk_sessions.c.expires_at < started))  # housekeeping
            conn.execute(insert(desk_sessions).values(id=_digest(token), user_id=user.id, csrf_token=csrf,
                                                      created_at=started, expires_at=expires))
        return DeskSession(token, user, csrf, started, expires)

    def get(self, token: str | None) -> DeskSession | None:
        """The live session of this cookie value, its expiry pushed forward; None when it is unknown,
        expired, too old or its account is disabled (then it is deleted)."""
        if not token or len(token) > MAX_TOKEN:
            return None
        key = _digest(token)
        query = (select(desk_sessions.c.csrf_token, desk_sessions.c.created_at, desk_sessions.c.expires_at,
                        *[c for c in desk_users.c])
                 .join(desk_users, desk_users.c.id == desk_sessions.c.user_id)
                 .where(desk_sessions.c.id == key))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        current = now()
        created, expires = aware(row["created_at"]), aware(row["expires_at"])
        if expires <= current or created + self.max_age <= current or not row["active"]:
            self.delete(token)
            return None
        renewed = min(current + self.idle, created + self.max_age)
        if renewed - expires >= SLIDE_AFTER:
            with self.engine.begin() as conn:
                conn.execute(update(desk_sessions).where(desk_sessions.c.id == key).values(expires_at=renewed))
            expires = renewed
        return DeskSession(token, user_from_row(row), row["csrf_token"], created, expires)

    def delete(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(desk_sessions).where(desk_sessions.c.id == _digest(token)))

    def purge_expired(self) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(desk_sessions).where(desk_sessions.c.expires_at <= now())).rowcount

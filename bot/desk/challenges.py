"""Half-done logins: the password was right, a second-factor code (or the enrolment of a new factor)
is still owed. A random value in a short-lived cookie, its SHA-256 in desk_login_challenges; it
grants nothing but the code page (/login/codigo)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from bot.desk.accounts import DeskUser, user_from_row
from bot.desk.schema import desk_login_challenges, desk_users
from bot.desk.totp import new_secret
from bot.store.clock import aware, now

CHALLENGE_TTL = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5
KINDS = ("totp", "enrol")  # enter a code of the enrolled secret / enrol a new secret by entering its code


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class Challenge:
    token: str
    user: DeskUser
    kind: str
    secret: str | None  # the secret offered for enrolment
    next_path: str
    attempts: int


class Challenges:
    """Half-done logins: created when the password was right, ended by a right code (then a session
    starts), MAX_ATTEMPTS wrong ones, or CHALLENGE_TTL."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def create(self, user: DeskUser, kind: str, next_path: str) -> Challenge:
        assert kind in KINDS
        token = secrets.token_urlsafe(32)
        secret = new_secret() if kind == "enrol" else None
        started = now()
        with self.engine.begin() as conn:
            conn.execute(delete(desk_login_challenges).where(desk_login_challenges.c.expires_at <= started))
            conn.execute(insert(desk_login_challenges).values(id=_digest(token), user_id=user.id, kind=kind, secret=secret,
                                                              next_path=next_path[:500], attempts=0,
                                                              expires_at=started + CHALLENGE_TTL))
        return Challenge(token, user, kind, secret, next_path, 0)

    def get(self, token: str | None) -> Challenge | None:
        if not token or len(token) > 128:
            return None
        query = (select(desk_login_challenges.c.kind, desk_login_challenges.c.secret.label("challenge_secret"),
                        desk_login_challenges.c.next_path, desk_login_challenges.c.attempts,
                        desk_login_challenges.c.expires_at, *[c for c in desk_users.c])
                 .join(desk_users, desk_users.c.id == desk_login_challenges.c.user_id)
                 .where(desk_login_challenges.c.id == _digest(token)))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        if aware(row["expires_at"]) <= now() or not row["active"] or row["attempts"] >= MAX_ATTEMPTS:
            self.delete(token)
            return None
        return Challenge(token, user_from_row(row), row["kind"], row["challenge_secret"], row["next_path"], row["attempts"])

    def failed(self, token: str) -> int:
        """Count a wrong code; the challenge ends at MAX_ATTEMPTS. Returns the attempts left."""
        key = _digest(token)
        with self.engine.begin() as conn:
            conn.execute(update(desk_login_challenges).where(desk_login_challenges.c.id == key)
                         .values(attempts=desk_login_challenges.c.attempts + 1))
            attempts = conn.execute(select(desk_login_challenges.c.attempts)
                                    .where(desk_login_challenges.c.id == key)).scalar_one_or_none()
            if attempts is None or attempts >= MAX_ATTEMPTS:
                conn.execute(delete(desk_login_challenges).where(desk_login_challenges.c.id == key))
                return 0
        return MAX_ATTEMPTS - attempts

    def delete(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(desk_login_challenges).where(desk_login_challenges.c.id == _digest(token)))

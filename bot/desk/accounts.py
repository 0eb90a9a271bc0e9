"""Staff accounts of the desk: create, find, list, enable/disable, change password, authenticate."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from bot.desk import passwords
from bot.desk.schema import desk_sessions, desk_users
from bot.store.clock import aware, now

ROLES = ("advisor", "supervisor", "reviewer")
ROLE_LABELS = {"advisor": "Asesor/a", "supervisor": "Supervisor/a", "reviewer": "Revisor/a de sugerencias"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254
MAX_NAME = 120


class AccountError(ValueError):
    """Input an account cannot take (the message says why, in Spanish)."""


@dataclass(frozen=True)
class DeskUser:
    id: int
    email: str
    name: str
    roles: frozenset[str]
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles & set(roles))

    @property
    def role_labels(self) -> list[str]:
        return [ROLE_LABELS[r] for r in ROLES if r in self.roles]

    def public(self) -> dict:
        """What /api/me and the pages may show about the account."""
        return {"id": self.id, "email": self.email, "name": self.name, "roles": [r for r in ROLES if r in self.roles]}


def user_from_row(row: RowMapping) -> DeskUser:
    return DeskUser(
        id=row["id"],
        email=row["email"],
        name=row["display_name"],
        roles=frozenset(row["roles"].split()),
        active=bool(row["active"]),
        created_at=aware(row["created_at"]),
        last_login_at=aware(row["last_login_at"]),
    )


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_email(email: str) -> str:
    email = normalise_email(email)
    if not email or len(email) > MAX_EMAIL or not EMAIL.match(email):
        raise AccountError("El correo electrónico no es válido.")
    return email


def check_roles(roles: Iterable[str]) -> str:
    chosen = {r.strip().lower() for r in roles if r.strip()}
    unknown = chosen - set(ROLES)
    if unknown:
        raise AccountError(f"Rol desconocido: {', '.join(sorted(unknown))} (roles: {', '.join(ROLES)}).")
    if not chosen:
        raise AccountError(f"Indique al menos un rol ({', '.join(ROLES)}).")
    return " ".join(r for r in ROLES if r in chosen)


def check_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise AccountError(f"El nombre debe tener entre 1 y {MAX_NAME} caracteres.")
    return name


class Accounts:
    def __init__(self, engine: Engine):
        self.engine = engine

    def create(self, email: str, name: str, password: str, roles: Iterable[str]) -> DeskUser:
        values = {"email": check_email(email), "display_name": check_name(name), "roles": check_roles(roles)}
        try:
            passwords.check_policy(password)
        except passwords.PasswordError as exc:
            raise AccountError(str(exc)) from None
        values.update(password_hash=passwords.hash_password(password), active=True, created_at=now())
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(desk_users).values(**values))
        except IntegrityError:
            raise AccountError(f"Ya existe una cuenta con el correo {values['email']}.") from None
        user = self.by_email(values["email"])
        assert user is not None
        return user

    def _row(self, **where: object) -> RowMapping | None:
        (column, value), = where.items()
        with self.engine.connect() as conn:
            return conn.execute(select(desk_users).where(desk_users.c[column] == value)).mappings().first()

    def by_email(self, email: str) -> DeskUser | None:
        row = self._row(email=normalise_email(email))
        return user_from_row(row) if row else None

    def by_id(self, user_id: int) -> DeskUser | None:
        row = self._row(id=user_id)
        return user_from_row(row) if row else None

    def all(self) -> list[DeskUser]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(desk_users).order_by(desk_users.c.email)).mappings().all()
        return [user_from_row(r) for r in rows]

    def set_active(self, email: str, active: bool) -> bool:
        """Enable or disable an account; disabling also ends its sessions. False if there is no such account."""
        with self.engine.begin() as conn:
            row = conn.execute(select(desk_users.c.id).where(desk_users.c.email == normalise_email(email))).first()
            if row is None:
                return False
            conn.execute(update(desk_users).where(desk_users.c.id == row.id).values(active=active))
            if not active:
                conn.execute(delete(desk_sessions).where(desk_sessions.c.user_id == row.id))
        return True

    def set_password(self, email: str, password: str) -> bool:
        """Change a password and end the account's sessions. False if there is no such account."""
        try:
            passwords.check_policy(password)
        except passwords.PasswordError as exc:
            raise AccountError(str(exc)) from None
        hashed = passwords.hash_password(password)
        with self.engine.begin() as conn:
            row = conn.execute(select(desk_users.c.id).where(desk_users.c.email == normalise_email(email))).first()
            if row is None:
                return False
            conn.execute(update(desk_users).where(desk_users.c.id == row.id).values(password_hash=hashed))
            conn.execute(delete(desk_sessions).where(desk_sessions.c.user_id == row.id))
        return True

    def authenticate(self, email: str, password: str) -> DeskUser | None:
        """The active account with these credentials, else None. Unknown, disabled and wrong all take
        about the same time; a hash made with older parameters is upgraded on success."""
        row = self._row(email=normalise_email(email)) if len(email) <= MAX_EMAIL and len(password) <= passwords.MAX_LENGTH else None
        if row is None:
            passwords.burn_time(password[: passwords.MAX_LENGTH])
            return None
        if not passwords.verify_password(password, row["password_hash"]) or not row["active"]:
            return None
        values: dict[str, object] = {"last_login_at": now()}
        if passwords.needs_rehash(row["password_hash"]):
            values["password_hash"] = passwords.hash_password(password)
        with self.engine.begin() as conn:
            conn.execute(update(desk_users).where(desk_users.c.id == row["id"]).values(**values))
        return self.by_id(row["id"])

"""Staff accounts of the desk: create, find, list, enable/disable, change password, authenticate, the
supervisors' changes (roles, enabled: bot.desk.staff), and the second factor (TOTP: bot.desk.totp) —
enrol, reset, remove, check a code once.

Every account gets a TOTP secret when it is created. An account without one (made before the second
factor existed, or whose factor an administrator removed) must enrol at its next login, right after
the password and before any page opens — except a supervisor's: supervisors may not enrol on the web
(a stolen password alone would then be enough to enrol the thief's phone), so a supervisor without
the factor cannot log in until an administrator runs `infomigra desk reset-totp`, which prints the secret.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from bot.desk import passwords, totp
from bot.desk.schema import desk_sessions, desk_users
from bot.store.clock import aware, now

ROLES = ("advisor", "supervisor", "reviewer")
TOTP_REQUIRED_ROLE = "supervisor"  # may not log in without an enrolled second factor, nor enrol on the web
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
    totp: bool = False  # a second factor is enrolled

    @property
    def may_enrol_on_the_web(self) -> bool:
        return TOTP_REQUIRED_ROLE not in self.roles

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
        totp=row.get("totp_secret") is not None,
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

    def create(self, email: str, name: str, password: str, roles: Iterable[str], *, with_totp: bool = True) -> DeskUser:
        """A new account, with a TOTP secret (read it with `totp_secret`) unless `with_totp` is False
        (then it must enrol at its first login; supervisors cannot be created so)."""
        values = {"email": check_email(email), "display_name": check_name(name), "roles": check_roles(roles)}
        if with_totp:
            values.update(totp_secret=totp.new_secret(), totp_enrolled_at=now())
        elif TOTP_REQUIRED_ROLE in values["roles"].split():
            raise AccountError("Una cuenta de supervisión necesita el segundo factor desde su creación.")
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
        """Enable or disable an account by e-mail (the command line); disabling also ends its sessions.
        False if there is no such account. The same rules as `set_enabled` (AccountError: the last active
        supervisor is never disabled), applied by `_change`, the one place they live."""
        user = self.by_email(email)
        if user is None:
            return False
        self.set_enabled(user.id, active)
        return True

    # supervisors' changes (bot.desk.staff) ---------------------------------------------------------

    def set_roles(self, user_id: int, roles: Iterable[str], *, by: int | None = None) -> DeskUser:
        """The account's roles become `roles` (at least one of ROLES). `by` is the acting account: it may
        not take its own supervision away; the last active supervisor never loses it (see `_change`).
        Supervision needs an enrolled second factor: an account without one gets it from the command line
        first (`reset-totp`), never from the web."""
        return self._change(user_id, {"roles": check_roles(roles)}, by)

    def set_enabled(self, user_id: int, active: bool, *, by: int | None = None) -> DeskUser:
        """Enable or disable an account by id; disabling ends its sessions at once. `by` may not disable
        itself; the last active supervisor is never disabled."""
        return self._change(user_id, {"active": bool(active)}, by)

    def _change(self, user_id: int, values: dict, by: int | None) -> DeskUser:
        """One change of roles or state with the rules that keep the desk manageable, in one transaction:
        the accounts are locked (PostgreSQL: SELECT … FOR UPDATE) and the number of active supervisors is
        counted after the update (SQLite: the update holds the write lock), so two supervisors demoting
        each other at the same moment cannot leave none."""
        with self.engine.begin() as conn:
            rows = {r.id: r for r in conn.execute(select(desk_users.c.id, desk_users.c.roles, desk_users.c.active,
                                                         desk_users.c.totp_secret)
                                                  .where((desk_users.c.id == user_id) | desk_users.c.active.is_(True))
                                                  .order_by(desk_users.c.id).with_for_update())}
            row = rows.get(user_id)
            if row is None:
                raise AccountError("Esa cuenta no existe.")
            was_supervisor = bool(row.active) and TOTP_REQUIRED_ROLE in row.roles.split()
            roles = values.get("roles", row.roles).split()
            active = values.get("active", bool(row.active))
            if by == user_id and not active:
                raise AccountError("No puede desactivar su propia cuenta: pídalo a otra persona de supervisión.")
            if by == user_id and TOTP_REQUIRED_ROLE in row.roles.split() and TOTP_REQUIRED_ROLE not in roles:
                raise AccountError("No puede quitarse su propio rol de supervisión: pídalo a otra persona de supervisión.")
            if TOTP_REQUIRED_ROLE in roles and TOTP_REQUIRED_ROLE not in row.roles.split() and row.totp_secret is None:
                raise AccountError("Esta cuenta no tiene segundo factor y una cuenta de supervisión lo necesita: un administrador "
                                   "debe ejecutar antes «infomigra desk reset-totp» para ella.")
            conn.execute(update(desk_users).where(desk_users.c.id == user_id).values(**values))
            if not active:
                conn.execute(delete(desk_sessions).where(desk_sessions.c.user_id == user_id))
            if was_supervisor and not (active and TOTP_REQUIRED_ROLE in roles):
                left = conn.execute(select(desk_users.c.roles).where(desk_users.c.active.is_(True))).scalars()
                if not any(TOTP_REQUIRED_ROLE in r.split() for r in left):
                    raise AccountError("Es la última cuenta de supervisión activa: no puede desactivarse ni perder ese rol. "
                                       "Dé antes el rol de supervisión a otra cuenta.")
        user = self.by_id(user_id)
        assert user is not None
        return user

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
        """The active account with this password, else None (the second factor is checked after this,
        by the login). Unknown, disabled and wrong all take about the same time; a hash made with
        older parameters (a lower scrypt N) is replaced on success."""
        row = self._row(email=normalise_email(email)) if len(email) <= MAX_EMAIL and len(password) <= passwords.MAX_LENGTH else None
        if row is None:
            passwords.burn_time(password[: passwords.MAX_LENGTH])
            return None
        if not passwords.verify_password(password, row["password_hash"]) or not row["active"]:
            return None
        if passwords.needs_rehash(row["password_hash"]):
            with self.engine.begin() as conn:
                conn.execute(update(desk_users).where(desk_users.c.id == row["id"])
                             .values(password_hash=passwords.hash_password(password)))
        return self.by_id(row["id"])

    def record_login(self, user_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(desk_users).where(desk_users.c.id == user_id).values(last_login_at=now()))

    # second factor ---------------------------------------------------------------------------------

    def totp_secret(self, email: str) -> str | None:
        """The enrolled secret (for the command line that shows it once, and for tests)."""
        row = self._row(email=normalise_email(email))
        return row["totp_secret"] if row else None

    def reset_totp(self, email: str) -> str | None:
        """A new secret for the account (the old one stops working) and its sessions and half-done logins
        ended; None if there is no such account."""
        from bot.desk.schema import desk_login_challenges

        secret = totp.new_secret()
        with self.engine.begin() as conn:
            row = conn.execute(select(desk_users.c.id).where(desk_users.c.email == normalise_email(email))).first()
            if row is None:
                return None
            conn.execute(update(desk_users).where(desk_users.c.id == row.id)
                         .values(totp_secret=secret, totp_last_step=None, totp_enrolled_at=now()))
            conn.execute(delete(desk_sessions).where(desk_sessions.c.user_id == row.id))
            conn.execute(delete(desk_login_challenges).where(desk_login_challenges.c.user_id == row.id))
        return secret

    def remove_totp(self, email: str) -> bool:
        """Remove the factor (a lost phone): the account enrols a new one at its next login. Refused for
        supervisors (use reset_totp). Ends the sessions. False if there is no such account."""
        from bot.desk.schema import desk_login_challenges

        with self.engine.begin() as conn:
            row = conn.execute(select(desk_users.c.id, desk_users.c.roles)
                               .where(desk_users.c.email == normalise_email(email))).first()
            if row is None:
                return False
            if TOTP_REQUIRED_ROLE in row.roles.split():
                raise AccountError("Una cuenta de supervisión no puede quedar sin segundo factor: use reset-totp.")
            conn.execute(update(desk_users).where(desk_users.c.id == row.id)
                         .values(totp_secret=None, totp_last_step=None, totp_enrolled_at=None))
            conn.execute(delete(desk_sessions).where(desk_sessions.c.user_id == row.id))
            conn.execute(delete(desk_login_challenges).where(desk_login_challenges.c.user_id == row.id))
        return True

    def use_code(self, user_id: int, code: object) -> bool:
        """True when `code` is the account's current code and was not used before (it is then spent)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(desk_users.c.totp_secret, desk_users.c.totp_last_step)
                               .where(desk_users.c.id == user_id)).first()
        if row is None or row.totp_secret is None:
            return False
        step = totp.matching_step(row.totp_secret, code, row.totp_last_step)
        if step is None:
            return False
        with self.engine.begin() as conn:  # spent only once, even by two requests at the same moment
            spent = conn.execute(update(desk_users)
                                 .where(desk_users.c.id == user_id, desk_users.c.totp_secret == row.totp_secret,
                                        (desk_users.c.totp_last_step.is_(None)) | (desk_users.c.totp_last_step < step))
                                 .values(totp_last_step=step))
        return spent.rowcount == 1

    def confirm_enrolment(self, user_id: int, secret: str, code: object) -> bool:
        """Enrol `secret` when `code` is its current code and the account has no factor yet."""
        step = totp.matching_step(secret, code, None)
        if step is None:
            return False
        with self.engine.begin() as conn:
            done = conn.execute(update(desk_users)
                                .where(desk_users.c.id == user_id, desk_users.c.totp_secret.is_(None))
                                .values(totp_secret=secret, totp_last_step=step, totp_enrolled_at=now()))
        return done.rowcount == 1

"""The desk's second factor in tests: accounts seeded with a secret, and the code step of a login
(the tests log in through the real login pages, password then code, as staff do).

A code is accepted once (replay protection), so each login takes the earliest 30-second step of the
accepted window (previous, current, next) that the account has not used yet, read from the
database, and waits for the next step when all three are spent.
"""

from __future__ import annotations

import re
import time

import httpx
import pyotp
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.desk import passwords, totp
from bot.desk.schema import desk_users
from bot.store.clock import now

CODE_PAGE = "/login/codigo"


def cheap_passwords(monkeypatch) -> None:  # noqa: ANN001
    """For tests of the pages, not of hashing: scrypt at N=2^12 instead of 2^17 (a second per login on
    a busy machine). tests/unit/test_desk_passwords.py and test_desk_store.py keep the real cost."""
    monkeypatch.setattr(passwords, "N", 2**12)
    monkeypatch.setattr(passwords, "_DUMMY", None)


def enrolled() -> dict:
    """The columns of a seeded account with a second factor (a fresh secret)."""
    return {"totp_secret": totp.new_secret(), "totp_enrolled_at": now()}


def factor_of(engine: Engine, email: str) -> tuple[str | None, int | None]:
    with engine.connect() as conn:
        row = conn.execute(select(desk_users.c.totp_secret, desk_users.c.totp_last_step)
                           .where(desk_users.c.email == email.strip().lower())).first()
    return (row.totp_secret, row.totp_last_step) if row else (None, None)


def fresh_code(secret: str, last_step: int | None) -> str:
    """A code the desk accepts now and has not seen for this account."""
    while True:
        seconds = time.time()
        if seconds % totp.STEP_SECONDS > totp.STEP_SECONDS - 1.5:  # not across a step boundary
            time.sleep(totp.STEP_SECONDS - seconds % totp.STEP_SECONDS + 0.1)
            continue
        here = int(seconds) // totp.STEP_SECONDS
        for step in range(here - totp.DRIFT_STEPS, here + totp.DRIFT_STEPS + 1):
            if last_step is None or step > last_step:
                return pyotp.TOTP(secret).generate_otp(step)
        time.sleep(totp.STEP_SECONDS - seconds % totp.STEP_SECONDS + 0.1)


def code_for(engine: Engine, email: str) -> str:
    secret, last_step = factor_of(engine, email)
    assert secret, f"{email} has no second factor"
    return fresh_code(secret, last_step)


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def enrolment_secret(html: str) -> str:
    """The secret the enrolment page offers (grouped by four on the page)."""
    return re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")


def _engine_of(client: httpx.AsyncClient) -> Engine:
    return client._transport.app.state.desk.engine  # type: ignore[attr-defined]


async def second_factor(client: httpx.AsyncClient, response: httpx.Response, email: str) -> httpx.Response:
    """After a right password (303 to the code page), enter a fresh code; other answers pass through.
    An account without a factor enrols the secret the page offers."""
    if response.status_code != 303 or response.headers.get("location") != CODE_PAGE:
        return response
    page = await client.get(CODE_PAGE)
    enrolling = 'id="totp-secret"' in page.text
    code = fresh_code(enrolment_secret(page.text), None) if enrolling else code_for(_engine_of(client), email)
    return await client.post(CODE_PAGE, data={"code": code, "csrf_token": form_token(page.text)})


def second_factor_sync(client: httpx.Client, response: httpx.Response, engine: Engine, email: str) -> httpx.Response:
    """`second_factor` for a desk in its own process (its database is `engine`)."""
    if response.status_code != 303 or response.headers.get("location") != CODE_PAGE:
        return response
    page = client.get(CODE_PAGE)
    return client.post(CODE_PAGE, data={"code": code_for(engine, email), "csrf_token": form_token(page.text)})


# --- accounts and logins of the desk's in-process tests -------------------------------------------------
PASSWORD = "clave-de-prueba-larga"
NO_FACTOR = {"totp_secret": None, "totp_enrolled_at": None}


def seed_accounts(engine: Engine, users: dict[str, tuple], password: str = PASSWORD) -> None:
    """Accounts by e-mail: (name, role) with a second factor, or (name, role, False) without one yet."""
    hashed = passwords.hash_password(password)
    with engine.begin() as conn:
        conn.execute(desk_users.insert(), [
            {"email": email, "display_name": spec[0], "password_hash": hashed, "roles": spec[1], "active": True,
             "created_at": now(), **(enrolled() if len(spec) < 3 or spec[2] else NO_FACTOR)} for email, spec in users.items()])


def account_id(engine: Engine, email: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(desk_users.c.id).where(desk_users.c.email == email)).scalar_one()


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Through the login pages (password, then a code); the session's CSRF token."""
    token = form_token((await client.get("/login")).text)
    response = await client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert (await second_factor(client, response, email)).status_code == 303
    return (await client.get("/api/me")).json()["csrf_token"]

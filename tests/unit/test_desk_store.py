"""The desk's accounts, sessions and login throttle against SQLite and PostgreSQL."""

import datetime as dt
import hashlib

import pyotp
import pytest
from sqlalchemy import select

from bot.desk import sessions as sessions_module
from bot.desk import throttle as throttle_module
from bot.desk import totp
from bot.desk.accounts import AccountError, Accounts
from bot.desk.passwords import hash_password
from bot.desk.schema import desk_login_failures, desk_sessions, desk_users
from bot.desk.sessions import Sessions
from bot.desk.throttle import LoginThrottle
from bot.store.clock import now
from tests.databases import migrated_engine

PASSWORD = "clave-de-prueba-larga"
IDLE, MAX_AGE = dt.timedelta(hours=8), dt.timedelta(hours=12)


def about(actual: dt.timedelta, expected: dt.timedelta) -> bool:
    return abs(actual - expected) < dt.timedelta(seconds=5)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture
def accounts(engine):
    return Accounts(engine)


@pytest.fixture
def clock(monkeypatch):
    """Move the sessions' and the throttle's clock forward."""
    class Clock:
        offset = dt.timedelta()

        def now(self):
            return now() + self.offset

    fake = Clock()
    monkeypatch.setattr(sessions_module, "now", fake.now)
    monkeypatch.setattr(throttle_module, "now", fake.now)
    return fake


def test_accounts_are_created_listed_and_authenticated(accounts):
    user = accounts.create("  Ana.Quispe@Example.ORG ", "  Ana   Quispe ", PASSWORD, ["supervisor", "advisor"])
    assert (user.email, user.name, user.roles, user.active) == ("ana.quispe@example.org", "Ana Quispe", {"advisor", "supervisor"}, True)
    assert user.last_login_at is None
    assert [u.email for u in accounts.all()] == ["ana.quispe@example.org"]
    logged = accounts.authenticate("ANA.QUISPE@example.org", PASSWORD)
    assert logged is not None and logged.id == user.id and logged.last_login_at is None  # the code is still owed
    accounts.record_login(user.id)
    assert accounts.by_id(user.id).last_login_at is not None
    assert accounts.authenticate("ana.quispe@example.org", PASSWORD + "x") is None
    assert accounts.authenticate("nadie@example.org", PASSWORD) is None
    assert accounts.authenticate("x" * 400, PASSWORD) is None


def test_passwords_are_stored_hashed(accounts, engine):
    accounts.create("ana@example.org", "Ana", PASSWORD, ["advisor"])
    with engine.connect() as conn:
        stored = conn.execute(select(desk_users.c.password_hash)).scalar_one()
    assert PASSWORD not in stored and stored.startswith("scrypt$")


@pytest.mark.parametrize(("email", "name", "password", "roles"), [
    ("no-es-correo", "Ana", PASSWORD, ["advisor"]),
    ("ana@example.org", "", PASSWORD, ["advisor"]),
    ("ana@example.org", "Ana", "corta", ["advisor"]),
    ("ana@example.org", "Ana", PASSWORD, []),
    ("ana@example.org", "Ana", PASSWORD, ["admin"]),
])
def test_bad_account_input_is_refused_in_spanish(accounts, email, name, password, roles):
    with pytest.raises(AccountError) as error:
        accounts.create(email, name, password, roles)
    assert str(error.value)[0].isupper()
    assert accounts.all() == []


def test_an_address_has_one_account(accounts):
    accounts.create("ana@example.org", "Ana", PASSWORD, ["advisor"])
    with pytest.raises(AccountError, match="Ya existe"):
        accounts.create("ANA@example.org", "Otra Ana", PASSWORD, ["reviewer"])


def test_a_disabled_account_cannot_log_in_and_loses_its_sessions(accounts, engine):
    user = accounts.create("ana@example.org", "Ana", PASSWORD, ["advisor"])
    sessions = Sessions(engine, IDLE, MAX_AGE)
    session = sessions.create(user)
    assert accounts.set_active("ana@example.org", False)
    assert sessions.get(session.token) is None
    assert accounts.authenticate("ana@example.org", PASSWORD) is None
    assert accounts.set_active("ana@example.org", True)
    assert accounts.authenticate("ana@example.org", PASSWORD) is not None
    assert not accounts.set_active("nadie@example.org", False)


def test_a_new_password_ends_the_sessions(accounts, engine):
    user = accounts.create("ana@example.org", "Ana", PASSWORD, ["advisor"])
    sessions = Sessions(engine, IDLE, MAX_AGE)
    session = sessions.create(user)
    assert accounts.set_password("ana@example.org", "otra-clave-mas-larga")
    assert sessions.get(session.token) is None
    assert accounts.authenticate("ana@example.org", PASSWORD) is None
    assert accounts.authenticate("ana@example.org", "otra-clave-mas-larga") is not None
    with pytest.raises(AccountError):
        accounts.set_password("ana@example.org", "corta")


def test_an_old_hash_is_upgraded_at_login(accounts, engine):
    accounts.create("ana@example.org", "Ana", PASSWORD, ["advisor"])
    with engine.begin() as conn:
        conn.execute(desk_users.update().values(password_hash=hash_password(PASSWORD, n=2**14)))
    assert accounts.authenticate("ana@example.org", PASSWORD) is not None
    with engine.connect() as conn:
        assert conn.execute(select(desk_users.c.password_hash)).scalar_one().startswith("scrypt$131072$")


def test_sessions_are_random_and_stored_as_a_digest(accounts, engine):
    user = accounts.create("ana@example.org", "Ana", PASSWORD, ["advisor"])
    sessions = Sessions(engine, IDLE, MAX_AGE)
    first, second = sessions.create(user), sessions.create(user)
    assert first.token != second.token and first.csrf_token != second.csrf_token and len(first.token) >= 40
    with engine.connect() as conn:
        ids = set(conn.execute(select(desk_sessions.c.id)).scalars())
    assert ids == {hashlib.sha256(s.token.encode()).hexdigest() for s in (first, second)}
    found = sessions.get(first.token)
    assert found is not None and found.user.email == "ana@example.org" and found.csrf_token == first.csrf_token
    for bad in (None, "", "x", first.token + "x", "é" * 500, hashlib.sha256(first.token.encode()).hexdigest()):
        assert sessions.get(bad) is None


def test_a_session_expires_when_idle_and_slides_with_use(accounts, engine, clock):
    user = accounts.create("ana@example.org", "Ana", PASSWORD, ["advisor"])
    sessions = Sessions(engine, IDLE, MAX_AGE)
    session = sessions.create(user)
    assert session.expires_at - session.created_at == IDLE
    clock.offset = dt.timedelta(hours=2)
    used = sessions.get(session.token)  # used after 2 hours: expires 8 hours from now
    assert used is not None and about(used.expires_at - session.created_at, dt.timedelta(hours=10))
    clock.offset = dt.timedelta(hours=9)  # past the first expiry, within the slid one
    used = sessions.get(session.token)
    assert used is not None and about(used.expires_at - session.created_at, MAX_AGE)  # capped by the maximum age
    clock.offset = dt.timedelta(hours=11, minutes=59)
    assert sessions.get(session.token) is not None
    clock.offset = dt.timedelta(hours=12, minutes=1)  # past the maximum age although in use
    assert sessions.get(session.token) is None

    idle = sessions.create(user)
    clock.offset += IDLE + dt.timedelta(seconds=1)
    assert sessions.get(idle.token) is None
    with engine.connect() as conn:  # expired sessions are deleted
        assert conn.execute(select(desk_sessions)).first() is None


def test_a_deleted_session_is_gone(accounts, engine, clock):
    user = accounts.create("ana@example.org", "Ana", PASSWORD, ["advisor"])
    sessions = Sessions(engine, IDLE, MAX_AGE)
    session, other = sessions.create(user), sessions.create(user)
    sessions.delete(session.token)
    assert sessions.get(session.token) is None and sessions.get(other.token) is not None
    clock.offset = IDLE * 2
    assert sessions_module.Sessions(engine, IDLE, MAX_AGE).purge_expired() == 1


def test_the_throttle_blocks_after_five_failures_per_address_and_account(engine, clock):
    throttle = LoginThrottle(engine, 5, 20, dt.timedelta(minutes=15))
    for _ in range(4):
        throttle.failed("ana@example.org", "10.0.0.1")
    assert throttle.retry_after("ana@example.org", "10.0.0.1") == 0
    throttle.failed("ANA@example.org ", "10.0.0.1")
    wait = throttle.retry_after("ana@example.org", "10.0.0.1")
    assert 14 * 60 < wait <= 15 * 60
    assert throttle.retry_after("otra@example.org", "10.0.0.1") == 0  # this address, another account
    # stored in the database: a new instance (a restart) still blocks
    assert LoginThrottle(engine, 5, 20, dt.timedelta(minutes=15)).retry_after("ana@example.org", "10.0.0.1") > 0
    clock.offset = dt.timedelta(minutes=15, seconds=1)
    assert throttle.retry_after("ana@example.org", "10.0.0.1") == 0


def test_nobody_can_lock_an_account_out_from_other_addresses(engine):
    """The hole this closes: a count per account alone let anyone lock an advisor out by failing on purpose."""
    throttle = LoginThrottle(engine, 5, 20, dt.timedelta(minutes=15))
    for i in range(60):  # many addresses, each under the per-address cap, all at one account
        throttle.failed("ana@example.org", f"198.51.100.{i % 12}")
    assert throttle.retry_after("ana@example.org", "198.51.100.1") > 0  # the attacker's addresses are blocked
    assert throttle.retry_after("ana@example.org", "10.0.0.1") == 0  # Ana, from her office, is not


def test_the_throttle_blocks_an_ip_trying_many_addresses(engine):
    throttle = LoginThrottle(engine, 5, 3, dt.timedelta(minutes=15))
    for i in range(3):
        throttle.failed(f"persona{i}@example.org", "203.0.113.7")
    assert throttle.retry_after("nueva@example.org", "203.0.113.7") > 0
    assert throttle.retry_after("nueva@example.org", "203.0.113.8") == 0


def test_a_success_clears_the_address_but_not_the_ip(engine):
    throttle = LoginThrottle(engine, 5, 20, dt.timedelta(minutes=15))
    for _ in range(3):
        throttle.failed("ana@example.org", "10.0.0.1")
    throttle.failed("ana@example.org", "10.0.0.2")
    throttle.succeeded("ana@example.org", "10.0.0.1")
    assert throttle.failures("ana@example.org", "10.0.0.1") == {"pair": 0, "ip": 3}
    assert throttle.failures("ana@example.org", "10.0.0.2") == {"pair": 1, "ip": 1}  # another address's count stays


def test_the_throttle_keeps_no_address_or_ip_in_clear(engine, clock):
    throttle = LoginThrottle(engine, 5, 20, dt.timedelta(minutes=15))
    throttle.failed("ana@example.org", "198.51.100.4")
    with engine.connect() as conn:
        keys = list(conn.execute(select(desk_login_failures.c.key)).scalars())
    assert len(keys) == 2 and not any("ana" in k or "198." in k for k in keys)
    clock.offset = dt.timedelta(minutes=16)
    throttle.failed("otra@example.org", "198.51.100.5")  # old rows are purged on the way
    with engine.connect() as conn:
        assert len(conn.execute(select(desk_login_failures)).all()) == 2


def test_every_new_account_has_a_second_factor_and_a_code_works_once(accounts, engine):
    user = accounts.create("ana@example.org", "Ana", PASSWORD, ["advisor"])
    secret = accounts.totp_secret("ana@example.org")
    assert user.totp and secret and len(secret) == 32
    code = pyotp.TOTP(secret).now()
    assert not accounts.use_code(user.id, "000000" if code != "000000" else "111111")
    assert accounts.use_code(user.id, code)
    assert not accounts.use_code(user.id, code)  # replayed within its window
    assert not accounts.use_code(user.id, "12345") and not accounts.use_code(user.id, None)


def test_the_second_factor_is_reset_and_removed_from_the_command_side(accounts, engine):
    user = accounts.create("ana@example.org", "Ana", PASSWORD, ["advisor"])
    boss = accounts.create("jefa@example.org", "Jefa", PASSWORD, ["supervisor"])
    sessions = Sessions(engine, IDLE, MAX_AGE)
    session = sessions.create(user)
    old = accounts.totp_secret("ana@example.org")
    new = accounts.reset_totp("ana@example.org")
    assert new and new != old and sessions.get(session.token) is None
    assert not accounts.use_code(user.id, pyotp.TOTP(old).now()) or pyotp.TOTP(old).now() == pyotp.TOTP(new).now()
    assert accounts.remove_totp("ana@example.org") and not accounts.by_id(user.id).totp
    with pytest.raises(AccountError):
        accounts.remove_totp("jefa@example.org")  # a supervisor never goes without
    assert accounts.by_id(boss.id).totp
    with pytest.raises(AccountError):
        accounts.create("otra@example.org", "Otra", PASSWORD, ["supervisor"], with_totp=False)
    assert accounts.reset_totp("nadie@example.org") is None and not accounts.remove_totp("nadie@example.org")
    secret = totp.new_secret()
    assert accounts.confirm_enrolment(user.id, secret, pyotp.TOTP(secret).now())
    assert not accounts.confirm_enrolment(user.id, totp.new_secret(), "123456")  # already enrolled

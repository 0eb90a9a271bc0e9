"""Password hashing (scrypt, salted, constant-time verify) and the desk's settings."""

import datetime as dt
import hmac

import pytest

from bot.desk import passwords
from bot.desk.passwords import PasswordError, check_policy, hash_password, needs_rehash, verify_password
from bot.desk.settings import DeskSettings, SettingsError


def test_a_hash_verifies_its_password_only():
    stored = hash_password("una clave bastante larga")
    assert stored.startswith("scrypt$131072$8$1$")
    assert verify_password("una clave bastante larga", stored)
    assert not verify_password("una clave bastante larg", stored)
    assert not verify_password("Una clave bastante larga", stored)
    assert not verify_password("", stored)


def test_each_hash_has_its_own_salt():
    first, second = hash_password("la misma contraseña"), hash_password("la misma contraseña")
    assert first != second
    assert first.split("$")[4] != second.split("$")[4]
    assert verify_password("la misma contraseña", first) and verify_password("la misma contraseña", second)


def test_unicode_is_normalised_before_hashing():
    composed, decomposed = "contraseña-añeja-ñ", "contrasen\u0303a-an\u0303eja-n\u0303"
    assert composed != decomposed
    assert verify_password(decomposed, hash_password(composed))


@pytest.mark.parametrize("stored", ["", "plain", "md5$x$y", "scrypt$1$2$3", "scrypt$16384$8$1$!!!$???",
                                    "bcrypt$16384$8$1$c2FsdA==$a2V5"])
def test_malformed_stored_hashes_never_verify(stored):
    assert not verify_password("lo-que-sea-123", stored)


def test_verification_compares_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(passwords.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    verify_password("otra clave larga", hash_password("una clave larga"))
    assert len(calls) == 1


def test_older_parameters_ask_for_a_rehash():
    assert needs_rehash(hash_password("clave antigua larga", n=2**14))
    assert not needs_rehash(hash_password("clave nueva larga"))


def test_the_cost_is_at_least_n_2_to_the_17_and_its_memory_is_allowed():
    assert passwords.N >= 2**17 and passwords.R >= 8
    needed = 128 * passwords.R * passwords.N
    assert passwords.maxmem(passwords.N, passwords.R, passwords.P) > needed  # hashlib's default 32 MiB would refuse it
    assert int(hash_password("una clave bastante larga").split("$")[1]) >= 2**17


def test_hashes_made_with_a_lower_n_still_verify():
    for n in (2**14, 2**15):
        old = hash_password("una clave antigua larga", n=n)
        assert verify_password("una clave antigua larga", old) and needs_rehash(old)


def test_absurd_stored_parameters_are_refused_not_computed():
    assert not verify_password("x" * 12, "scrypt$1073741824$8$1$c2FsdA==$a2V5")
    assert not verify_password("x" * 12, "scrypt$131073$8$1$c2FsdA==$a2V5")  # not a power of two


def test_at_most_two_hashes_run_at_once(monkeypatch):
    import threading
    import time

    running, peak, lock = 0, 0, threading.Lock()
    real = passwords.hashlib.scrypt

    def counting(*args, **kwargs):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return real(*args, **kwargs)

    monkeypatch.setattr(passwords.hashlib, "scrypt", counting)
    threads = [threading.Thread(target=hash_password, args=("una clave larga", ), kwargs={"n": 2**10}) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == passwords.HASH_SLOTS == 2


@pytest.mark.parametrize("password", ["corta", "x" * 11, " " * 20, "y" * 1025])
def test_the_policy_refuses_weak_or_absurd_passwords(password):
    with pytest.raises(PasswordError):
        check_policy(password)


def test_unknown_accounts_spend_the_time_of_a_verification(monkeypatch):
    seen = []
    monkeypatch.setattr(passwords, "verify_password", lambda pw, stored: seen.append(stored) or False)
    passwords.burn_time("cualquier cosa")
    assert seen and seen[0].startswith("scrypt$")


def test_settings_come_from_the_environment():
    assert DeskSettings.from_env({}) == DeskSettings()
    settings = DeskSettings.from_env({"DESK_COOKIE_SECURE": "1", "DESK_SESSION_IDLE_HOURS": "2", "DESK_LOGIN_MAX_FAILURES": "3",
                                      "DESK_LOGIN_WINDOW_MINUTES": "30"})
    assert settings.cookie_secure and settings.session_idle == dt.timedelta(hours=2)
    assert settings.login_max_failures == 3 and settings.login_window == dt.timedelta(minutes=30)
    assert DeskSettings().session_idle == dt.timedelta(hours=8)


@pytest.mark.parametrize("env", [{"DESK_COOKIE_SECURE": "quizás"}, {"DESK_SESSION_IDLE_HOURS": "ocho"},
                                 {"DESK_SESSION_IDLE_HOURS": "-1"}, {"DESK_SESSION_IDLE_HOURS": "10", "DESK_SESSION_MAX_HOURS": "5"}])
def test_bad_settings_are_named(env):
    with pytest.raises(SettingsError, match="DESK_"):
        DeskSettings.from_env(env)

"""The desk's second factor: time-based one-time codes (TOTP, RFC 6238: 6 digits, 30 seconds, SHA-1,
what every authenticator app reads). The half-done logins that wait for a code: bot.desk.challenges.

A code is accepted for the current 30-second step and the one before and after (clocks drift), and
only for a step later than the last one accepted for the account: a code, once used, never opens a
second session, even within its window. Wrong codes count as failed logins (bot.desk.throttle), and
a half-done login ends after its MAX_ATTEMPTS wrong codes or its CHALLENGE_TTL.
"""

from __future__ import annotations

import datetime as dt
import hmac

import pyotp

from bot.store.clock import now

ISSUER = "PERÚ INFOMIGRA"
STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app takes (typed, pasted or as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def grouped(secret: str) -> str:
    """The secret as people type it: groups of four."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def clean_code(code: object) -> str | None:
    """Six digits, spaces and dashes ignored; None for anything else."""
    if not isinstance(code, str) or len(code) > 20:
        return None
    digits = "".join(ch for ch in code if ch not in " -\u00a0")
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else None


def current_step(at: dt.datetime | None = None) -> int:
    return int((at or now()).timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: object, last_step: int | None, at: dt.datetime | None = None) -> int | None:
    """The step whose code `code` is, within the drift and after `last_step`; None when there is none."""
    typed = clean_code(code)
    if typed is None:
        return None
    totp = pyotp.TOTP(secret)
    here = current_step(at)
    found = None
    for step in range(here - DRIFT_STEPS, here + DRIFT_STEPS + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected.encode(), typed.encode()) and (last_step is None or step > last_step):
            found = step
    return found


def code_for(secret: str, at: dt.datetime | None = None) -> str:
    """The current code of a secret (the CLI's check and the tests)."""
    return pyotp.TOTP(secret).generate_otp(current_step(at))

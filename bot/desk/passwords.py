"""Password hashing with scrypt (memory-hard, in the standard library), a random salt per password.

Stored form: ``scrypt$<n>$<r>$<p>$<salt, base64>$<key, base64>``; the parameters travel with each
hash, so raising the cost later only needs `needs_rehash` at the next login (a hash made with a lower
N still verifies, and the login that proves the password stores a new one).

Cost: N = 2**17, r = 8 takes 128 MiB and about a third of a second per hash. hashlib's default
`maxmem` (32 MiB) would refuse it, so `maxmem` follows the parameters; at most HASH_SLOTS hashes
run at once (the others wait), so a burst of logins cannot take more than HASH_SLOTS × 128 MiB.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import unicodedata

N, R, P = 2**17, 8, 1  # 128 MiB (128 · r · N bytes) and about a third of a second per hash
MAX_N, MAX_R, MAX_P = 2**20, 32, 16  # a stored hash asking for more is refused, not computed
HASH_SLOTS = 2
_slots = threading.BoundedSemaphore(HASH_SLOTS)
KEY_BYTES = 32
SALT_BYTES = 16
MIN_LENGTH = 12
MAX_LENGTH = 1024


class PasswordError(ValueError):
    """A password that does not meet the policy (the message says why, in Spanish)."""


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"La contraseña debe tener al menos {MIN_LENGTH} caracteres.")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"La contraseña no puede tener más de {MAX_LENGTH} caracteres.")
    if not password.strip():
        raise PasswordError("La contraseña no puede estar en blanco.")


def maxmem(n: int, r: int, p: int) -> int:
    """What scrypt needs for these parameters (128·r·N for V, 128·r·p for B) with room to spare."""
    return 128 * r * (n + p + 2) + 128 * r * p + 16 * 1024 * 1024


def _key(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    if not (2 <= n <= MAX_N and n & (n - 1) == 0 and 1 <= r <= MAX_R and 1 <= p <= MAX_P):
        raise ValueError("scrypt parameters out of range")
    data = unicodedata.normalize("NFKC", password).encode("utf-8")
    with _slots:
        return hashlib.scrypt(data, salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=maxmem(n, r, p))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, n: int | None = None, r: int | None = None, p: int | None = None) -> str:
    """A new hash; the parameters default to N, R, P as they are at the call."""
    n, r, p = n or N, r or R, p or P
    salt = secrets.token_bytes(SALT_BYTES)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(_key(password, salt, n, r, p))}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; the comparison takes the same time for any mismatch."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key, validate=True)
        actual = _key(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    return not stored.startswith(f"scrypt${N}${R}${P}$")


_DUMMY: str | None = None


def burn_time(password: str) -> None:
    """Spend the time of one verification, so an unknown account answers as slowly as a known one."""
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = hash_password("unused-" + secrets.token_hex(8))
    verify_password(password, _DUMMY)

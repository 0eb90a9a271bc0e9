"""Login throttling, kept in the database (so a restart does not reset it) for the window only, under
a hash of what it counts.

Failed attempts (a wrong password or a wrong second-factor code) are counted per (client address,
account) — DESK_LOGIN_MAX_FAILURES — and, looser, per client address whatever the account —
DESK_LOGIN_MAX_FAILURES_PER_IP. There is deliberately no count per account alone: that would let
anyone lock an advisor out by failing on purpose from anywhere. From the advisor's own address the
pair count is theirs alone; an attacker's failures fill the attacker's pair and address counts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from bot.desk.accounts import normalise_email
from bot.desk.schema import desk_login_failures
from bot.store.clock import aware, now


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode("utf-8", "replace")).hexdigest()


class LoginThrottle:
    def __init__(self, engine: Engine, max_per_pair: int, max_per_ip: int, window: dt.timedelta):
        self.engine = engine
        self.limits = {"pair": max_per_pair, "ip": max_per_ip}
        self.window = window

    def _keys(self, email: str, ip: str) -> dict[str, str]:
        address = ip or "unknown"
        return {"pair": _key("pair", f"{address}\n{normalise_email(email)[:300]}"), "ip": _key("ip", address)}

    def retry_after(self, email: str, ip: str) -> int:
        """Seconds until this address may try this account again; 0 when it may now."""
        current = now()
        since = current - self.window
        wait = 0.0
        with self.engine.connect() as conn:
            for kind, key in self._keys(email, ip).items():
                times = conn.execute(
                    select(desk_login_failures.c.failed_at)
                    .where(desk_login_failures.c.key == key, desk_login_failures.c.failed_at > since)
                    .order_by(desk_login_failures.c.failed_at.desc())
                    .limit(self.limits[kind])
                ).scalars().all()
                if len(times) >= self.limits[kind]:
                    # allowed again when the limit-th most recent failure leaves the window
                    wait = max(wait, (aware(times[-1]) + self.window - current).total_seconds())
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def failed(self, email: str, ip: str) -> None:
        current = now()
        with self.engine.begin() as conn:
            conn.execute(delete(desk_login_failures).where(desk_login_failures.c.failed_at <= current - self.window))
            conn.execute(insert(desk_login_failures), [{"key": k, "failed_at": current} for k in self._keys(email, ip).values()])

    def succeeded(self, email: str, ip: str) -> None:
        """A complete login (password and code) clears this address's failures for this account only."""
        with self.engine.begin() as conn:
            conn.execute(delete(desk_login_failures).where(desk_login_failures.c.key == self._keys(email, ip)["pair"]))

    def failures(self, email: str, ip: str) -> dict[str, int]:
        since = now() - self.window
        with self.engine.connect() as conn:
            return {kind: conn.execute(select(func.count()).where(desk_login_failures.c.key == key,
                                                                  desk_login_failures.c.failed_at > since)).scalar_one()
                    for kind, key in self._keys(email, ip).items()}

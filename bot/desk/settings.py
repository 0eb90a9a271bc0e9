"""The desk's settings, from the environment (no secret lives here: the desk needs none)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass

SERVICE_NAME = "PERÚ INFOMIGRA"


class SettingsError(ValueError):
    """An environment variable of the desk has a value it cannot use."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be 1 or 0, not {raw!r}")


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, not {raw}")
    return value


def _cookie_secure(env: Mapping[str, str]) -> bool | None:
    raw = env.get("DESK_COOKIE_SECURE", "").strip().lower()
    if raw in {"", "auto"}:
        return None
    if not _flag(env, "DESK_COOKIE_SECURE", True):
        raise SettingsError("DESK_COOKIE_SECURE cannot be 0: cookies are Secure except when the desk is opened at "
                            "http://localhost or http://127.0.0.1, where browsers would refuse them; leave it unset")
    return True


@dataclass(frozen=True)
class DeskSettings:
    # None: Secure (with the __Host- prefix) unless the request came over http:// to localhost,
    # 127.0.0.1 or ::1; True (DESK_COOKIE_SECURE=1): Secure even there. Never off on another host.
    cookie_secure: bool | None = None
    session_idle: dt.timedelta = dt.timedelta(hours=8)  # DESK_SESSION_IDLE_HOURS
    session_max: dt.timedelta = dt.timedelta(hours=12)  # DESK_SESSION_MAX_HOURS: even when active
    login_max_failures: int = 5  # per (client IP, account) within the window (DESK_LOGIN_MAX_FAILURES)
    login_max_failures_per_ip: int = 20  # per client IP, any account (DESK_LOGIN_MAX_FAILURES_PER_IP): offices share one
    login_window: dt.timedelta = dt.timedelta(minutes=15)  # DESK_LOGIN_WINDOW_MINUTES
    max_body_bytes: int = 1024 * 1024  # DESK_MAX_BODY_BYTES, per request
    service_name: str = SERVICE_NAME

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeskSettings:
        env = os.environ if env is None else env
        idle = _number(env, "DESK_SESSION_IDLE_HOURS", 8, 0.05, 24 * 7)
        longest = _number(env, "DESK_SESSION_MAX_HOURS", max(12, idle), 0.05, 24 * 30)
        if longest < idle:
            raise SettingsError("DESK_SESSION_MAX_HOURS must not be shorter than DESK_SESSION_IDLE_HOURS")
        return cls(
            cookie_secure=_cookie_secure(env),
            session_idle=dt.timedelta(hours=idle),
            session_max=dt.timedelta(hours=longest),
            login_max_failures=int(_number(env, "DESK_LOGIN_MAX_FAILURES", 5, 1, 1000)),
            login_max_failures_per_ip=int(_number(env, "DESK_LOGIN_MAX_FAILURES_PER_IP", 20, 1, 100_000)),
            login_window=dt.timedelta(minutes=_number(env, "DESK_LOGIN_WINDOW_MINUTES", 15, 1, 24 * 60)),
            max_body_bytes=int(_number(env, "DESK_MAX_BODY_BYTES", 1024 * 1024, 1024, 512 * 1024 * 1024)),
        )

"""Settings of the handoff, from the environment (read by the action server and by the desk).

| variable | default | meaning |
| --- | --- | --- |
| HANDOFF_OFFICE_HOURS | lun-vie 08:30-16:30 | when advisors work (see bot/offices/hours.py) |
| HANDOFF_HOLIDAYS | (none) | closed days, "2026-12-25,2027-01-01" |
| HANDOFF_TIMEZONE | America/Lima | the time zone of the office hours |
| HANDOFF_MINUTES_PER_CHAT | 10 | minutes an advisor needs per chat, for the expected wait |
| HANDOFF_TAKE_MINUTES | 5 | a chat transferred to an advisor who does not open it in this time goes back to the queue |
| HANDOFF_REPLY_MINUTES | 10 | an advisor who leaves the person's message unanswered this long: back to the queue |
| HANDOFF_WAITING_NOTICE_MINUTES | 15 | a waiting chat nobody takes in this time (office hours): the person is told |
| HANDOFF_PRIORITY_PER_DAY | 3 | priority (safety) escalations per person in 24 h; then no priority (numbers still given) |
| HANDOFF_COMPACT_EVERY | 40 | messages of a handoff after which its Rasa session is started afresh |
| HANDOFF_ONLINE_MINUTES | 2 | an advisor with the desk open in this time counts as online |
| HANDOFF_WHATSAPP_TEMPLATE_SID | (none) | Twilio ContentSid of the template sent when the person wrote more than 24 h ago |
| RASA_URL | http://localhost:5005 | Rasa's HTTP API (the desk delivers, pauses and resumes through it) |
| RASA_JWT_SECRET | (none) | the secret its API checks JWTs with (`python -m bot.rasa.server run --enable-api`) |
| INFOMIGRA_CONTACT_EMAIL | (none) | the service's address, given when the handoff itself is unavailable |
| HANDOFF_WORKER_SECONDS | 1 | how often the desk's worker runs (bot/desk/queue.py) |
| HANDOFF_RETENTION_DAYS | 365 | `infomigra handoff purge` deletes closed tickets older than this |
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from bot.offices.hours import DEFAULT_HOURS, HoursError, OfficeHours
from bot.text import whole_number


class HandoffSettingsError(ValueError):
    """A HANDOFF_* variable has a value the handoff cannot use."""


def _minutes(env: Mapping[str, str], name: str, default: float, low: float = 0.05, high: float = 7 * 24 * 60) -> dt.timedelta:
    raw = env.get(name, "").strip()
    if not raw:
        return dt.timedelta(minutes=default)
    try:
        value = float(raw)
    except ValueError:
        raise HandoffSettingsError(f"{name} must be a number of minutes, not {raw!r}") from None
    if not low <= value <= high:
        raise HandoffSettingsError(f"{name} must be between {low:g} and {high:g} minutes, not {raw}")
    return dt.timedelta(minutes=value)


def _count(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = whole_number(raw)
    if value is None or not low <= value <= high:
        raise HandoffSettingsError(f"{name} must be a whole number between {low} and {high}, not {raw!r}")
    return value


@dataclass(frozen=True)
class HandoffSettings:
    hours: OfficeHours = field(default_factory=OfficeHours.parse)
    minutes_per_chat: dt.timedelta = dt.timedelta(minutes=10)
    take_timeout: dt.timedelta = dt.timedelta(minutes=5)
    reply_timeout: dt.timedelta = dt.timedelta(minutes=10)
    waiting_notice: dt.timedelta = dt.timedelta(minutes=15)
    compact_every: int = 40
    priority_per_day: int = 3
    online_window: dt.timedelta = dt.timedelta(minutes=2)
    whatsapp_template_sid: str = ""
    rasa_url: str = "http://localhost:5005"
    rasa_jwt_secret: str = ""
    contact_email: str = ""  # the service's address (INFOMIGRA_CONTACT_EMAIL), given outside office hours

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HandoffSettings:
        env = os.environ if env is None else env
        try:
            hours = OfficeHours.parse(env.get("HANDOFF_OFFICE_HOURS", "").strip() or DEFAULT_HOURS,
                                      env.get("HANDOFF_HOLIDAYS", ""), env.get("HANDOFF_TIMEZONE", "").strip() or "America/Lima")
        except HoursError as exc:
            raise HandoffSettingsError(f"HANDOFF_OFFICE_HOURS/HANDOFF_HOLIDAYS/HANDOFF_TIMEZONE: {exc}") from None
        template = env.get("HANDOFF_WHATSAPP_TEMPLATE_SID", "").strip()
        if template and not (template.startswith("HX") and len(template) == 34):
            raise HandoffSettingsError("HANDOFF_WHATSAPP_TEMPLATE_SID must be a Twilio ContentSid (HX + 32 characters)")
        return cls(
            hours=hours,
            minutes_per_chat=_minutes(env, "HANDOFF_MINUTES_PER_CHAT", 10, 1, 240),
            take_timeout=_minutes(env, "HANDOFF_TAKE_MINUTES", 5),
            reply_timeout=_minutes(env, "HANDOFF_REPLY_MINUTES", 10),
            waiting_notice=_minutes(env, "HANDOFF_WAITING_NOTICE_MINUTES", 15),
            compact_every=_count(env, "HANDOFF_COMPACT_EVERY", 40, 5, 10_000),
            priority_per_day=_count(env, "HANDOFF_PRIORITY_PER_DAY", 3, 1, 1000),
            online_window=_minutes(env, "HANDOFF_ONLINE_MINUTES", 2, 0.1, 60),
            whatsapp_template_sid=template,
            rasa_url=(env.get("RASA_URL", "").strip() or "http://localhost:5005").rstrip("/"),
            rasa_jwt_secret=env.get("RASA_JWT_SECRET", "").strip(),
            contact_email=env.get("INFOMIGRA_CONTACT_EMAIL", "").strip(),
        )


@lru_cache(maxsize=1)
def settings() -> HandoffSettings:
    """The settings of this process (read once)."""
    return HandoffSettings.from_env()

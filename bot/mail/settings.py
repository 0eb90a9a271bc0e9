"""Where the service's mailbox is: read over IMAP, answered over SMTP, all from the environment.

| variable | default | what |
| --- | --- | --- |
| MAIL_IMAP_HOST | (none: the e-mail door is off) | the mailbox's IMAP server |
| MAIL_IMAP_PORT | 993 (`ssl`), 143 otherwise | |
| MAIL_IMAP_SECURITY | `ssl` | `ssl`, `starttls`, or `none` (only for a server on this machine) |
| MAIL_IMAP_USER, MAIL_IMAP_PASSWORD | (required) | the mailbox's account |
| MAIL_IMAP_FOLDER | `INBOX` | where new messages arrive |
| MAIL_SMTP_HOST | (required with IMAP) | the server that sends the answers |
| MAIL_SMTP_PORT | 587 (`starttls`), 465 (`ssl`), 25 (`none`) | |
| MAIL_SMTP_SECURITY | `starttls` | `starttls`, `ssl`, or `none` (only for a server on this machine) |
| MAIL_SMTP_USER, MAIL_SMTP_PASSWORD | MAIL_IMAP_USER / MAIL_IMAP_PASSWORD when unset | set but empty: no login |
| MAIL_ADDRESS | INFOMIGRA_CONTACT_EMAIL | the service's address, the answers' sender |
| MAIL_TIMEOUT_SECONDS | 30 | for every connection |

Passwords never travel in clear text to another machine: `none` is refused unless the host is a
loopback address or `localhost`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from bot.text import whole_number

SECURITY = ("ssl", "starttls", "none")
IMAP_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
SMTP_PORTS = {"ssl": 465, "starttls": 587, "none": 25}


class MailSettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str
    user: str
    password: str


@dataclass(frozen=True)
class MailSettings:
    imap: Server
    smtp: Server
    folder: str
    address: str
    timeout: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MailSettings | None:
        """The mailbox's settings, or None when MAIL_IMAP_HOST is not set (the door is off)."""
        env = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return (env.get(name) or "").strip() or default

        if not get("MAIL_IMAP_HOST"):
            return None
        imap = _server(get, "IMAP", "ssl", IMAP_PORTS, get("MAIL_IMAP_USER"), env.get("MAIL_IMAP_PASSWORD") or "")
        if not imap.user or not imap.password:
            raise MailSettingsError("MAIL_IMAP_USER and MAIL_IMAP_PASSWORD are required to read the mailbox")
        if not get("MAIL_SMTP_HOST"):
            raise MailSettingsError("MAIL_SMTP_HOST is required: the answers are sent over SMTP")
        if "MAIL_SMTP_USER" in env:  # set, even empty (no login): the SMTP account is its own
            smtp_user, smtp_password = get("MAIL_SMTP_USER"), env.get("MAIL_SMTP_PASSWORD") or ""
        else:
            smtp_user, smtp_password = imap.user, imap.password
        smtp = _server(get, "SMTP", "starttls", SMTP_PORTS, smtp_user, smtp_password)
        return cls(imap=imap, smtp=smtp, folder=get("MAIL_IMAP_FOLDER", "INBOX"), address=_address(get), timeout=_timeout(get))

    @classmethod
    def for_sending(cls, env: Mapping[str, str] | None = None) -> MailSettings | None:
        """The settings to send e-mail (the window's sheets, bot/window/mailing.py): the door's when it is on;
        without the door (no MAIL_IMAP_HOST) MAIL_SMTP_HOST alone is enough, the SMTP account then being
        MAIL_SMTP_USER/MAIL_SMTP_PASSWORD (unset: no login) and the mailbox unused. None when neither is set."""
        env = os.environ if env is None else env
        settings = cls.from_env(env)
        if settings is not None:
            return settings

        def get(name: str, default: str = "") -> str:
            return (env.get(name) or "").strip() or default

        if not get("MAIL_SMTP_HOST"):
            return None
        smtp = _server(get, "SMTP", "starttls", SMTP_PORTS, get("MAIL_SMTP_USER"), env.get("MAIL_SMTP_PASSWORD") or "")
        return cls(imap=Server("", 0, "none", "", ""), smtp=smtp, folder="INBOX", address=_address(get), timeout=_timeout(get))


def _address(get) -> str:  # noqa: ANN001
    address = get("MAIL_ADDRESS", get("INFOMIGRA_CONTACT_EMAIL")).lower()
    if "@" not in address or any(c.isspace() for c in address):
        raise MailSettingsError("MAIL_ADDRESS (or INFOMIGRA_CONTACT_EMAIL) must be the service's e-mail address")
    return address


def _timeout(get) -> float:  # noqa: ANN001
    try:
        timeout = float(get("MAIL_TIMEOUT_SECONDS", "30"))
    except ValueError:
        raise MailSettingsError("MAIL_TIMEOUT_SECONDS must be a number of seconds") from None
    if not 1 <= timeout <= 600:
        raise MailSettingsError("MAIL_TIMEOUT_SECONDS must be between 1 and 600")
    return timeout


def _server(get, kind: str, default_security: str, ports: dict[str, int], user: str, password: str) -> Server:
    host = get(f"MAIL_{kind}_HOST")
    security = get(f"MAIL_{kind}_SECURITY", default_security).lower()
    if security not in SECURITY:
        raise MailSettingsError(f"MAIL_{kind}_SECURITY must be one of {', '.join(SECURITY)}")
    if security == "none" and not is_local(host):
        raise MailSettingsError(f"MAIL_{kind}_SECURITY=none is only allowed for a server on this machine, not {host}")
    raw_port = get(f"MAIL_{kind}_PORT", str(ports[security]))
    port = whole_number(raw_port)
    if port is None or not 0 < port < 65536:
        raise MailSettingsError(f"MAIL_{kind}_PORT must be a port number")
    return Server(host, port, security, user, password)


def is_local(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

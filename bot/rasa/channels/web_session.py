"""The web widget's sessions, origins and history, without Rasa imports (unit-tested in .venv-svc).

- A session id is a UUID chosen by the server. The widget keeps a token "<uuid>.<HMAC-SHA256>"
  (key: WEB_SESSION_SECRET) and presents it on every connection; a token that does not verify
  gets a new session, so knowing someone's session id gives nothing.
- Origins: WEB_ALLOWED_ORIGINS (comma-separated) plus the server's own origin; without it, the
  own origin and localhost (development).
- History: the messages of a conversation rebuilt from Rasa's tracker events, for a page reload.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

SENDER_PREFIX = "web:"
HISTORY_LIMIT = 120
MAX_TOKEN_CHARS = 200
_TOKEN_CONTEXT = b"infomigra-web-session:v1:"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def session_secret(value: str | None) -> bytes:
    """The HMAC key from WEB_SESSION_SECRET; a random one (sessions end with the process) if unset."""
    value = (value or "").strip()
    if not value:
        logger.warning("WEB_SESSION_SECRET is not set: the web widget signs its sessions with a random key, "
                       "so conversations in the widget do not survive a restart of the Rasa server.")
        return secrets.token_bytes(32)
    if len(value) < 16:
        logger.warning("WEB_SESSION_SECRET is shorter than 16 characters: use a long random value.")
    return value.encode()


class SessionTokens:
    """Issue and verify the widget's session tokens."""

    def __init__(self, secret: bytes):
        self._secret = secret

    def _mac(self, session_id: str) -> str:
        digest = hmac.new(self._secret, _TOKEN_CONTEXT + session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, session_id: str) -> str:
        return f"{session_id}.{self._mac(session_id)}"

    def issue(self) -> tuple[str, str]:
        """A new session id and its token."""
        session_id = str(uuid.uuid4())
        return session_id, self.sign(session_id)

    def verify(self, token: Any) -> str | None:
        """The session id of a valid token, else None (wrong type, size, format or signature)."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            return None
        session_id, mac = token.split(".")
        try:
            if str(uuid.UUID(session_id)) != session_id:
                return None
        except ValueError:
            return None
        return session_id if hmac.compare_digest(mac, self._mac(session_id)) else None


def sender_for(session_id: str) -> str:
    return SENDER_PREFIX + session_id


def _origin(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_policy(allowed: str | None) -> Callable[[str | None, Mapping[str, Any] | None], bool]:
    """python-engineio's `cors_allowed_origins` callable: the server's own origin is always allowed;
    then the origins listed in `allowed` (comma-separated), or, when nothing is listed, localhost
    on any port (development)."""
    listed = {o for o in (_origin(item) for item in (allowed or "").split(",") if item.strip()) if o}
    for item in (allowed or "").split(","):
        if item.strip() and _origin(item) is None:
            logger.warning("WEB_ALLOWED_ORIGINS: %r is not an origin like https://www.example.gob.pe; ignored", item)

    def own_origins(environ: Mapping[str, Any]) -> set[str]:
        host = environ.get("HTTP_HOST", "")
        scheme = environ.get("wsgi.url_scheme", "http")
        origins = {f"{scheme}://{host}".lower()} if host else set()
        forwarded_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
        forwarded_proto = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
        if forwarded_host:
            origins.add(f"{forwarded_proto}://{forwarded_host}".lower())
        return origins

    def is_allowed(origin: str | None, environ: Mapping[str, Any] | None = None) -> bool:
        if not origin:
            return False
        origin = origin.strip().lower()
        if environ is not None and origin in own_origins(environ):
            return True
        if listed:
            return origin in listed
        return (urlsplit(origin).hostname or "") in {h.strip("[]") for h in LOCAL_HOSTS}

    return is_allowed


def _button_title(metadata: Any) -> str | None:
    if isinstance(metadata, dict) and isinstance(metadata.get("button_title"), str):
        return metadata["button_title"]
    return None


def is_advisor(metadata: Mapping[str, Any]) -> bool:
    return bool(metadata.get("advisor_id") or metadata.get("advisor"))


def advisor_name(metadata: Mapping[str, Any]) -> str | None:
    name = metadata.get("advisor_name")
    return name[:60] if isinstance(name, str) and name.strip() else None


def history_messages(events: Iterable[Mapping[str, Any]], limit: int = HISTORY_LIMIT) -> list[dict]:
    """The widget's messages from tracker events (`Event.as_dict()`): the person's messages (a
    button click shows the button's title), the assistant's and the advisors'. Only the bot
    messages after the person's last message keep their buttons (as {"title", "payload"}; the
    channel swaps payloads for references before sending)."""
    messages: list[dict] = []
    for event in events:
        kind, text = event.get("event"), event.get("text")
        if kind == "user":
            shown = _button_title(event.get("metadata")) or text
            if isinstance(shown, str) and shown.strip():
                messages.append({"from": "user", "text": shown})
        elif kind == "bot":
            data = event.get("data") or {}
            metadata = event.get("metadata") or {}
            if not isinstance(text, str) or not text.strip():
                continue
            message: dict = {"from": "advisor" if is_advisor(metadata) else "bot", "text": text}
            if message["from"] == "advisor" and advisor_name(metadata):
                message["name"] = advisor_name(metadata)
            buttons = data.get("buttons") or data.get("quick_replies") or []
            buttons = [{"title": str(b["title"]), "payload": str(b["payload"])} for b in buttons
                       if isinstance(b, dict) and b.get("title") and b.get("payload")]
            if buttons:
                message["buttons"] = buttons
            messages.append(message)
    last_user = max((i for i, m in enumerate(messages) if m["from"] == "user"), default=-1)
    for message in messages[:last_user + 1]:
        message.pop("buttons", None)
    return messages[-limit:]

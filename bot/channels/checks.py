"""What every channel checks in a message before it reaches Rasa. No Rasa imports here."""

from __future__ import annotations

import re

# Longest message we pass on; WhatsApp allows 1,600 characters and Telegram 4,096.
MAX_MESSAGE_CHARS = 4096

# Sender ids of each channel live in their own namespace ("whatsapp:+51…", "telegram:123",
# "web:…"): a sender typed by an API client may not contain ":" so it can never reach another
# channel's conversation.
SENDER_PATTERN = re.compile(r"^[A-Za-z0-9_.@+\-]{1,128}$")

UNREADABLE = (
    "No pude leer tu mensaje. Escríbeme tu pregunta con palabras, por ejemplo: "
    "«¿qué necesito para trabajar en España?», o escribe «menú»."
)


def is_readable(text: str) -> bool:
    """True when the text has at least one letter or digit (not only spaces, emoji or symbols)."""
    return any(ch.isalnum() for ch in text)


def neutralize(text: str) -> str:
    """Typed text that starts with "/" would be read by Rasa as an intent with entities
    (`/pedir_asesor{...}`); only buttons issued by the assistant may carry payloads, so the
    leading slashes of what a person types are dropped and the rest goes through the NLU."""
    stripped = text.lstrip()
    return stripped.lstrip("/").lstrip() if stripped.startswith("/") else text

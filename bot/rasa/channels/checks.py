"""What every channel checks in a message before it reaches Rasa. No Rasa imports here."""

from __future__ import annotations

import re
import unicodedata

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

# How Rasa 3.6 reads a message as an intent without running the NLU (RegexMessageHandler, which
# calls rasa/shared/core/training_data/story_reader/yaml_story_reader.py `unpack_regex_message`):
# the text, after `str.strip()`, starts with INTENT_MESSAGE_PREFIX "/"; the intent is everything up
# to "{" or "@", itself stripped (so "/ restart" is `restart`), then "@confidence" and "{entities}".
INTENT_MESSAGE_PREFIX = "/"
_RASA_INTENT_MESSAGE = re.compile(r"^/(?P<intent>[^{@]+)(?P<confidence>@[0-9.]+)?(?P<entities>\{.+\})?(?P<rest>.*)")

# Rasa's own intents (rasa/shared/core/constants.py DEFAULT_INTENTS, plus the fallback's intent).
# `restart` is the one Rasa handles while a conversation is paused for an advisor. No button of
# ours carries them, so they never come from a person, by typing or by a button.
RASA_DEFAULT_INTENTS = frozenset({"restart", "back", "out_of_scope", "session_start", "nlu_fallback"})

# "/" and what looks like it: its NFKC form (U+FF0F FULLWIDTH SOLIDUS), the non-letters that
# Unicode's confusables.txt maps to "/" (U+1735, U+2041, U+2044, U+2215, U+2571, U+27CB, U+29F8,
# U+2F03, U+31D3, U+1D23A) and every other non-letter named a solidus or slash. (The
# letters confusable with "/", such as katakana ノ or U+3033, start real words and are kept.)
# tests/unit/test_typed_intents.py recomputes the NFKC and name rules over all of Unicode.
SLASHES = frozenset(
    "/\uff0f"
    "\u1735\u2041\u2044\u2215\u2571\u27cb\u29f8\u2f03\u31d3\U0001d23a"
    "\u2298\u233f\u2341\u27c9\u29c4\u29c5\u29f6\u2a0f\u2afb\u2afd\u2e4a"
    "\U0001d194\U0001d195\U0001d199\U0001d1a9\U0001f10d\U0001f67c"
)


def is_readable(text: str) -> bool:
    """True when the text has at least one letter or digit (not only spaces, emoji or symbols)."""
    return any(ch.isalnum() for ch in text)


def _blank(ch: str) -> bool:
    """Whitespace, control and invisible format characters, separators and combining marks."""
    return ch.isspace() or unicodedata.category(ch)[0] in "CZM"


def _droppable(ch: str) -> bool:
    """A character a message may not start with: a slash or a look-alike, or something blank
    (or that becomes only blank under NFKC, such as U+FE49 → space + combining overline)."""
    return ch in SLASHES or _blank(ch) or all(_blank(c) for c in unicodedata.normalize("NFKC", ch))


def neutralize(text: str) -> str:
    """Typed text as it may reach Rasa: never an intent. Rasa reads text that starts with "/" as
    an intent with entities (`/pedir_asesor{...}`, and `/restart` even while an advisor has the
    conversation); only buttons the assistant issued may carry such payloads. So everything a
    person types loses its whole leading run of whitespace, invisible characters, combining marks
    and slashes of any kind ("/ /x", "/\\n/x{…}", "／restart", "∕restart" included), and the rest
    goes through the NLU. Only characters that are neither letters nor digits are dropped."""
    start = 0
    while start < len(text) and _droppable(text[start]):
        start += 1
    return text[start:]


def forced_intent(text: str) -> str | None:
    """The intent Rasa would take from this text without running the NLU, or None (the same test
    as Rasa's `unpack_regex_message`, before it checks the name against the domain)."""
    stripped = text.strip()
    if not stripped.startswith(INTENT_MESSAGE_PREFIX):
        return None
    match = _RASA_INTENT_MESSAGE.match(stripped)
    return match.group("intent").strip() if match else None


def without_default_intents(payload: str) -> str:
    """A payload for the REST API or from a button: one for a Rasa default intent (`/restart`,
    `/ back`, `/session_start{…}`…) is taken as typed text; any other is kept."""
    return neutralize(payload) if forced_intent(payload) in RASA_DEFAULT_INTENTS else payload

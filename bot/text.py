"""Text normalisation shared by search, country understanding and input checks."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9ñ]+")


def fold(text: str) -> str:
    """Lower-case and strip accents (keeping ñ), so "Perú", "PERU" and "peru" compare equal."""
    text = text.lower().replace("ñ", "\0")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("\0", "ñ")


def words(text: str) -> list[str]:
    """The folded words of a text (letters and digits only)."""
    return _WORD.findall(fold(text))


def whole_number(raw: str | None, max_digits: int = 18) -> int | None:
    """The non-negative whole number written in ASCII digits, else None. `str.isdigit` is not enough: it
    accepts "²" and other digits `int()` refuses (a 500 from an address like /cola/²)."""
    raw = (raw or "").strip()
    return int(raw) if raw and len(raw) <= max_digits and raw.isascii() and raw.isdigit() else None


def has_letters(text: str) -> bool:
    """True when the text has at least one letter or digit (not only emoji, symbols or spaces)."""
    return any(ch.isalnum() for ch in text)

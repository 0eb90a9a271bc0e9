"""How a message is written down before the signal lexicons look at it.

People write on WhatsApp without accents, with "q", "xq", "pa", "k" and repeated letters, and
voice-to-text leaves no punctuation. The lexicons are written against one plain form of the text
(lower case, no accents, abbreviations spelled out, one space between words), so that one pattern
covers every way of writing it.
"""

from __future__ import annotations

import re

from bot.text import fold

# Whole-word abbreviations of chat Spanish, spelled out.
ABBREVIATIONS: dict[str, str] = {
    "q": "que", "k": "que", "ke": "que", "qe": "que", "xq": "porque", "pq": "porque", "porq": "porque",
    "x": "por", "pa": "para", "pal": "para el", "d": "de", "m": "me", "tb": "tambien", "tmb": "tambien",
    "xfa": "por favor", "porfa": "por favor", "plis": "por favor", "pls": "por favor", "toy": "estoy",
    "stoy": "estoy", "ta": "esta", "tan": "estan", "nd": "nada", "ns": "no se", "bn": "bien", "msj": "mensaje",
    "dsd": "desde", "hrs": "horas", "hs": "horas", "ud": "usted", "uds": "ustedes", "aca": "aqui", "alla": "alli",
}

_NOT_WORD = re.compile(r"[^a-z0-9]+")
# Three or more of the same letter ("ayudaaaa", "pliiis") become one.
_REPEATS = re.compile(r"([a-z])\1{2,}")


def plain(text: str) -> str:
    """The plain form: "Me quitaron el PASAPORTE!!! xq???" → "me quitaron el pasaporte porque"."""
    # ñ becomes n too: people write "año" and "ano", "dueño" and "dueno"; patterns use the n.
    folded = _REPEATS.sub(r"\1", fold(text or "").replace("ñ", "n"))
    words = _NOT_WORD.sub(" ", folded).split()
    return " ".join(ABBREVIATIONS.get(w, w) for w in words)

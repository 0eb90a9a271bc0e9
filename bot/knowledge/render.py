"""Turn an article into chat messages that fit a phone screen.

Channel-neutral plain text: the title, the body split at blank lines into messages of at most
`MAX_CHARS`, then the official sources and "Actualizado: dd/mm/aaaa" last ("Updated: dd/mm/yyyy"
for an English variant). Internal links become buttons; channels format and split further for
their own limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.knowledge.model import KB_LINK, Article

MAX_CHARS = 900
MENU_BUTTON = {"title": "Volver al menú", "payload": "/menu"}
_EXTERNAL_LINK = re.compile(r"\[([^\]]+)\]\((https://[^)\s]+)\)")
_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+")


@dataclass
class Message:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        data: dict = {"text": self.text}
        if self.buttons:
            data["buttons"] = self.buttons
        return data


def article_button(title: str, article_id: str) -> dict[str, str]:
    return {"title": title, "payload": f'/elegir_articulo{{"article":"{article_id}"}}'}


def plain(body: str) -> str:
    """Body markup to plain text: link texts stay, external URLs follow in brackets, ** goes."""
    text = KB_LINK.sub(r"\1", body)
    text = _EXTERNAL_LINK.sub(r"\1 (\2)", text)
    return text.replace("**", "")


def _pieces(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit`: at blank lines, then lines, sentences, spaces."""
    if len(text) <= limit:
        return [text]
    for separator in ("\n\n", "\n"):
        if separator in text:
            parts = text.split(separator)
            break
    else:
        parts = _SENTENCE_END.split(text)
        if len(parts) == 1:
            cut = text.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            return [text[:cut].strip(), *_pieces(text[cut:].strip(), limit)]
    return [piece for part in parts if part.strip() for piece in _pieces(part.strip(), limit)]


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Messages of at most `limit` characters, cut at the most natural boundary available and
    packed back together paragraph by paragraph."""
    messages: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        for piece in _pieces(paragraph, limit) if paragraph else []:
            if messages and len(messages[-1]) + 2 + len(piece) <= limit:
                messages[-1] += "\n\n" + piece
            else:
                messages.append(piece)
    return messages


# The footer's words by article language: one source, several sources, the review date.
FOOTER_WORDS: dict[str, tuple[str, str, str]] = {
    "es": ("Fuente oficial:", "Fuentes oficiales:", "Actualizado:"),
    "en": ("Official source:", "Official sources:", "Updated:"),
}


def footer(article: Article) -> str:
    one, several, updated = FOOTER_WORDS[article.lang]
    lines = [one if len(article.sources) == 1 else several]
    lines += [f"- {s.title}: {s.url}" for s in article.sources]
    lines.append(f"{updated} {article.last_reviewed:%d/%m/%Y}")
    return "\n".join(lines)


def render(article: Article, intro: str | None = None) -> list[Message]:
    """The messages of an answer: an optional intro line, the article, then its related links."""
    head = f"{intro}\n\n{article.title}" if intro else article.title
    parts = split_text(f"{head}\n\n{plain(article.body)}\n\n{footer(article)}")
    messages = [Message(text) for text in parts]
    buttons, seen = [], set()
    for text, target in article.links:
        if target not in seen and len(buttons) < 3:
            seen.add(target)
            buttons.append(article_button(text, target))
    messages[-1].buttons = buttons + [MENU_BUTTON]
    return messages

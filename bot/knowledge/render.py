"""Turn an article into chat messages that fit a phone screen.

Channel-neutral plain text, in this order:

1. the essentials: the article's written `summary` (at most 300 characters), alone in one message;
2. the details: the title, the cost and duration of a procedure, then the body split at blank lines
   into messages of at most `MAX_CHARS`;
3. one message with the official sources and "Actualizado: dd/mm/aaaa" ("Updated: dd/mm/yyyy" for
   an English variant).

Internal links become buttons on the last message. `page` cuts the answer into at most
`MAX_BUBBLES` messages with a "Ver más" button that asks for the rest (the web widget and Telegram
show one bubble per message; WhatsApp packs a whole answer into 1,600-character messages and gets
it all at once). Channels format and split further for their own limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.knowledge import service_facts
from bot.knowledge.model import KB_LINK, Article

MAX_CHARS = 900
MAX_BUBBLES = 4  # messages of one answer on the web widget and Telegram; "Ver más" for the rest
MENU_BUTTON = {"title": "Volver al menú", "payload": "/menu"}
MORE_TITLES = {"es": "Ver más", "en": "See more"}
# The "Ver más" button reuses the article button's intent: its `article` entity is `<id>#<next>` (or
# `<id>.en#<next>` for an English variant), the id and the index of the first message still to send.
_MORE = re.compile(r"^(?P<id>[a-z0-9/-]+?)(?:\.(?P<lang>[a-z]{2}))?#(?P<start>\d{1,3})$")
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
# How a procedure's cost and duration are introduced, by article language.
PROCEDURE_WORDS: dict[str, tuple[str, str]] = {"es": ("Costo:", "Plazo:"), "en": ("Cost:", "Time:")}


def footer(article: Article) -> str:
    one, several, updated = FOOTER_WORDS[article.lang]
    lines = [one if len(article.sources) == 1 else several]
    lines += [f"- {s.title}: {s.url}" for s in article.sources]
    lines.append(f"{updated} {article.last_reviewed:%d/%m/%Y}")
    return "\n".join(lines)


def procedure(article: Article) -> str:
    """"Costo: …" and "Plazo: …" of a procedure article; empty for other articles."""
    cost, duration = PROCEDURE_WORDS[article.lang]
    lines = [f"{cost} {article.cost}" if article.cost else "", f"{duration} {article.duration}" if article.duration else ""]
    return "\n".join(line for line in lines if line)


def render(article: Article, intro: str | None = None) -> list[Message]:
    """The messages of an answer: the essentials (after an optional intro line), the details, the
    sources and date; the related links and "Volver al menú" on the last one."""
    first = f"{intro}\n\n{article.summary}" if intro else article.summary
    body = service_facts.fill(plain(article.body), lang=article.lang)
    details = "\n\n".join(part for part in (article.title, procedure(article), body) if part)
    messages = [Message(first), *(Message(text) for text in split_text(details)), Message(footer(article))]
    buttons, seen = [], set()
    for text, target in article.links:
        if target not in seen and len(buttons) < 3:
            seen.add(target)
            buttons.append(article_button(text, target))
    messages[-1].buttons = buttons + [MENU_BUTTON]
    return messages


def whole_text(article: Article, limit: int | None = None) -> str:
    """The answer as one text (an advisor's reply, an e-mail): essentials, details, sources and date.
    Within `limit` characters the details end at the last paragraph that fits, marked "(…)"; the
    essentials and the sources with the date are always whole."""
    messages = render(article)
    first, details, footer_text = messages[0].text, [m.text for m in messages[1:-1]], messages[-1].text
    text = "\n\n".join([first, *details, footer_text])
    if limit is None or len(text) <= limit:
        return text
    paragraphs = [p for d in details for p in d.split("\n\n") if p.strip()]
    kept: list[str] = []
    budget = limit - len(first) - len(footer_text) - len("\n\n(…)\n\n") - 2
    for paragraph in paragraphs:
        if len(paragraph) + 2 > budget:
            break
        kept.append(paragraph)
        budget -= len(paragraph) + 2
    return "\n\n".join([first, *kept, "(…)", footer_text])[:limit]


def more_button(article: Article, start: int) -> dict[str, str]:
    ref = f"{article.id}#{start}" if article.lang == "es" else f"{article.id}.{article.lang}#{start}"
    return {"title": MORE_TITLES[article.lang], "payload": f'/elegir_articulo{{"article":"{ref}"}}'}


def parse_more(value: object) -> tuple[str, str, int] | None:
    """A "Ver más" reference as (article id, language, first message to send); None for anything else."""
    found = _MORE.match(str(value or ""))
    if not found or (found["lang"] and found["lang"] not in PROCEDURE_WORDS):
        return None
    return found["id"], found["lang"] or "es", int(found["start"])


def page(messages: list[Message], article: Article, start: int = 0, limit: int = MAX_BUBBLES) -> list[Message]:
    """At most `limit` of the answer's messages from `start`: all the rest when they fit, else the
    first ones with "Ver más" (and "Volver al menú") on the last, pointing at the next message."""
    rest = messages[start:]
    if len(rest) <= limit:
        return rest
    limit = max(limit, 1)
    if limit > 1 and len(rest) == limit + 1:
        limit -= 1  # "Ver más" never leads to the sources alone: the last details go with them
    shown = [Message(m.text) for m in rest[:limit]]
    shown[-1].buttons = [more_button(article, start + limit), MENU_BUTTON]
    return shown


def has_more(messages: list[Message]) -> bool:
    """The page ends with a "Ver más" button (the answer goes on)."""
    return bool(messages) and any(parse_more(_entity(b)) for b in messages[-1].buttons)


def _entity(button: dict[str, str]) -> str:
    found = re.search(r'"article":"([^"]*)"', button.get("payload", ""))
    return found.group(1) if found else ""

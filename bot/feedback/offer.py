"""The "¿Te sirvió?" buttons added to an answer from the knowledge base.

They go on the answer's last message, before "Volver al menú", so that every channel shows them
with the answer (WhatsApp numbers every button of a turn in one list; Telegram and the web put
them under the last part) and the answer still ends with its "Actualizado: …" line. Each button
carries the article it rates, so an older answer's button rates that answer.

Offered at most once per article per conversation (a Rasa session), never during a form or a
handoff (any active loop, or slot `handoff`), and never after a safety answer (an advisor takes
over right after it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from bot.knowledge.model import Article
from bot.knowledge.render import MENU_BUTTON, Message
from bot.text import words

INTENT = "valorar_respuesta"
ENTITY = "util"
YES, NO = "si", "no"
TITLES = {YES: "Sí, me sirvió", NO: "No me sirvió"}
NOT_RATED_LINES = frozenset({"seguridad"})
# A typed rating ("la respuesta no me sirvió") is negative when it has one of these words.
NEGATIVE = frozenset({"no", "nada", "tampoco", "inutil", "mala", "malo", "confusa", "confuso"})


class TrackerLike(Protocol):
    events: list[dict[str, Any]]
    active_loop_name: str | None

    def get_slot(self, key: str) -> Any: ...


def payload(article_id: str, value: str) -> str:
    return f"/{INTENT}" + json.dumps({ENTITY: value, "article": article_id}, ensure_ascii=False, separators=(",", ":"))


def buttons(article_id: str) -> list[dict[str, str]]:
    return [{"title": TITLES[v], "payload": payload(article_id, v)} for v in (YES, NO)]


def rating_value(entity: object, text: str | None) -> str | None:
    """"si" or "no": the button's entity, else read from the typed text (None without words)."""
    if entity in (YES, NO):
        return str(entity)
    found = words(text or "")
    if not found:
        return None
    return NO if NEGATIVE.intersection(found) else YES


def current_session(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events since the last session start (a conversation)."""
    session: list[Mapping[str, Any]] = []
    for event in events:
        if event.get("event") == "session_started":
            session = []
        session.append(event)
    return session


def offered_before(events: Iterable[Mapping[str, Any]], article_id: str) -> bool:
    """The rating of this article was already offered in this conversation."""
    wanted = {payload(article_id, v) for v in (YES, NO)}
    for event in current_session(events):
        if event.get("event") != "bot":
            continue
        for button in (event.get("data") or {}).get("buttons") or []:
            if isinstance(button, Mapping) and button.get("payload") in wanted:
                return True
    return False


def may_ask(tracker: TrackerLike | None, article: Article) -> bool:
    if tracker is None or article.line in NOT_RATED_LINES:
        return False
    if tracker.active_loop_name or tracker.get_slot("handoff"):
        return False
    return not offered_before(tracker.events or [], article.id)


def ask_rating(messages: list[Message], article: Article, tracker: TrackerLike | None) -> list[Message]:
    """The answer's messages, with the rating buttons on the last one when they may be offered."""
    if not messages or not may_ask(tracker, article):
        return messages
    last = messages[-1]
    rest = [b for b in last.buttons if b != MENU_BUTTON]
    menu = [b for b in last.buttons if b == MENU_BUTTON]
    last.buttons = rest + buttons(article.id) + menu
    return messages

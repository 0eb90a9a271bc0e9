"""`action_rate_answer`: the person's "¿Te sirvió?" about an answer from the knowledge base.

The buttons (bot.feedback.offer) send `/valorar_respuesta{"util":"si"|"no","article":"<id>"}`;
a typed "no me sirvió la respuesta" reaches the same intent and rates the last article answered
(slot `article_id`). The rating is stored with the article's `last_reviewed` date, the channel and
the time; a "no" offers the advisor or a rephrase. A store that cannot be reached loses the rating,
never the conversation.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.feedback import offer
from bot.feedback import store as ratings
from bot.knowledge.render import MENU_BUTTON
from bot.logsafe import masked
from bot.store.db import get_engine

from .actions import KB
from .channel import channel_of

logger = logging.getLogger(__name__)

THANKS_YES = "¡Gracias por contarnos! Nos alegra que te haya servido. Si tienes otra consulta, escríbela o vuelve al menú."
THANKS_NO = ("Gracias por decírnoslo: nos ayuda a mejorar esta información. Puedes escribir tu pregunta con otras "
             "palabras, o pedir que te atienda un asesor del servicio.")
NOTHING_TO_RATE = "Gracias. Cuando te dé una respuesta, podrás decirme si te sirvió. ¿En qué te puedo ayudar?"
WHICH = "¿La respuesta te sirvió? Elige una opción."
ADVISOR_BUTTON = {"title": "Hablar con un asesor", "payload": "/pedir_asesor"}


def _value(tracker: Tracker) -> str | None:
    return offer.rating_value(next(tracker.get_latest_entity_values(offer.ENTITY), None), tracker.latest_message.get("text"))



def conversation_of(tracker: Tracker) -> str:
    """The conversation (Rasa session) the rating belongs to: when it started."""
    started = [e.get("timestamp") for e in offer.current_session(tracker.events) if e.get("event") == "session_started"]
    stamp = started[0] if started and isinstance(started[0], (int, float)) else None
    return f"{stamp:.3f}" if stamp is not None else "0"


class ActionRateAnswer(Action):
    def name(self) -> str:
        return "action_rate_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        article_id = next(tracker.get_latest_entity_values("article"), None) or tracker.get_slot("article_id")
        article = KB.get(str(article_id)) if article_id else None
        value = _value(tracker)
        if article is None:
            dispatcher.utter_message(text=NOTHING_TO_RATE, buttons=[MENU_BUTTON])
            return []
        if value is None:
            dispatcher.utter_message(text=WHICH, buttons=offer.buttons(article.id))
            return []
        try:
            await asyncio.to_thread(
                ratings.rate, get_engine(), article_id=article.id, last_reviewed=article.last_reviewed,
                useful=value == offer.YES, channel=channel_of(tracker), sender_id=tracker.sender_id,
                conversation=conversation_of(tracker))
        except Exception:
            logger.exception("feedback: could not store the rating of %s for %s", masked(tracker.sender_id), article.id)
        if value == offer.YES:
            dispatcher.utter_message(text=THANKS_YES, buttons=[MENU_BUTTON])
        else:
            dispatcher.utter_message(text=THANKS_NO, buttons=[ADVISOR_BUTTON, MENU_BUTTON])
        return []

"""The protection answer: a person who signals danger gets what to do now, a person, then the guide.

`action_protect` answers `senal_de_peligro` (set by the NLU's SignalIntentClassifier from the
danger lexicon, or by DIET), and the knowledge search hands it the messages whose text carries a
red flag. In this order:

1. the "qué hacer ahora" message (actions/first_aid.py, bot/protection): the numbers of the country
   where the person is, or every destination's numbers and "¿En qué país estás?" with buttons;
2. the priority handoff (actions/handoff.py), which pauses the conversation for an advisor;
3. the full article: the country's emergency guide, or the trafficking article.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import knowledge, protection

from .first_aid import danger_category, first_aid, where_is
from .handoff import hand_over

logger = logging.getLogger(__name__)

KB = knowledge.load()


async def protect(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The protection answer, whole: numbers, the priority handoff, then the article."""
    category = danger_category(tracker.latest_message)
    country = where_is(tracker)
    lang = tracker.get_slot("lang") or "es"
    first_aid(dispatcher, country, category, lang)
    logger.info("protection: %s signal, country %s", category or "nlu", country or "unknown")
    events: list[EventType] = [SlotSet("danger", category or "nlu")]
    if country:
        events.append(SlotSet("location", country))
    events += await hand_over(dispatcher, tracker, "safety", numbers_given=True)
    article_id = protection.article_for(country, category)
    article = KB.get(article_id, lang) or KB.get(article_id)
    if article is not None:
        # The whole guide, never a first part with "Ver más": the handoff has just paused the
        # conversation, so the assistant could not answer the button.
        for message in knowledge.render(article):
            dispatcher.utter_message(**message.as_dict())
        events += [SlotSet("topic", article.topic), SlotSet("article_id", article.id)]
    return events


class ActionProtect(Action):
    """A danger signal: what to do now, a person with priority, then the guide."""

    def name(self) -> str:
        return "action_protect"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return await protect(dispatcher, tracker)

"""The first message of the protection answer, shared by the answer and by the handoff's inbox.

- `danger_category`: which red flag the message carries (the NLU's `signal`, else the lexicon);
- `where_is`: the country where the person is;
- `first_aid`: send the "qué hacer ahora" message (bot/protection), with country buttons when the
  country is not known;
- `during_handoff`: while an advisor has the conversation, a red flag, or a country answering
  "¿En qué país estás?", gets that country's numbers at once (the advisor may not be there yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import countries, protection, signals

DANGER_INTENT = "senal_de_peligro"
LOCATION_ROLE = "location"


def danger_category(latest_message: Mapping[str, Any]) -> str | None:
    """The red flag's category: from the NLU's `signal`, else the lexicon on the text, else None
    (DIET recognised the danger without a lexicon match)."""
    signal = latest_message.get("signal") or {}
    if signal.get("kind") == "danger":
        return str(signal.get("category"))
    found = signals.danger(str(latest_message.get("text") or ""))
    return found.category if found else None


def where_is(tracker: Tracker) -> str | None:
    """The country where the person is: named as where they are ("estoy en Chile"), else any
    country of the message, else remembered (`location`, then `country`). Peru counts here."""
    entities = [e for e in tracker.latest_message.get("entities", []) if e.get("entity") == "country"]
    located = [e for e in entities if e.get("role") == LOCATION_ROLE]
    for value in [e.get("value") for e in located + entities] + [tracker.get_slot("location"), tracker.get_slot("country")]:
        slug = countries.normalize(value)
        if slug and slug != countries.OTHER:
            return slug
    return None


def first_aid(dispatcher: CollectingDispatcher, country: str | None, category: str | None, lang: str | None = None) -> None:
    """Send the "qué hacer ahora" message (in the conversation's language); with no known country,
    ask where with buttons."""
    text = protection.first_aid(country, category, lang or "es")
    if country in protection.contacts():
        dispatcher.utter_message(text=text)
    else:
        dispatcher.utter_message(text=text, buttons=protection.where_buttons(lang or "es"))


def during_handoff(tracker: Tracker) -> tuple[str | None, list[EventType]]:
    """While an advisor has the conversation: a red flag, or a country answering "¿En qué país
    estás?", gets that country's numbers at once (the advisor may not be there yet). Returns the
    message, which the handoff's inbox queues for delivery (Rasa drops bot messages of slot-mapping
    actions), and the slots to set."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    asked_where = bool(tracker.get_slot("danger")) and intent == "informar_pais"
    if intent != DANGER_INTENT and not asked_where:
        return None, []
    country = where_is(tracker)
    if asked_where and country not in protection.contacts():
        return None, []
    category = danger_category(tracker.latest_message) or tracker.get_slot("danger")
    events: list[EventType] = [SlotSet("danger", category or "nlu")]
    if country:
        events.append(SlotSet("location", country))
    return protection.first_aid(country, category, tracker.get_slot("lang") or "es"), events

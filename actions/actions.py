"""Custom actions: answers from the knowledge base and the search offer (the advisor: actions/handoff.py).

Runs in the action server (`.venv-svc`, rasa-sdk 3.6.2). The knowledge base is loaded and
checked once, when this module is imported: a broken article stops the server at start-up
with the file name, instead of failing in the middle of a conversation.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import countries, cues, knowledge, scope, signals
from bot.feedback.offer import ask_rating
from bot.handoff.escalation import is_extraction_call, previous_turn_unsure
from bot.knowledge.model import Article
from bot.knowledge.render import MAX_BUBBLES, MENU_BUTTON, Message, article_button
from bot.text import words

from .handoff import hand_over
from .protection import protect

KB = knowledge.load()
KB.index  # noqa: B018 — build the search index (and load the sentence encoder) at start, not at the first unsure question

# Per-country topics offered when someone names only a country ("¿y para Chile?").
COUNTRY_TOPICS: tuple[tuple[str, str], ...] = (
    ("emigrar/tramites", "Permisos y visas"),
    ("emigrar/primeros-pasos", "Primeros pasos al llegar"),
    ("exterior/instituciones", "Consulados e instituciones"),
    ("exterior/convenios", "Convenios con el Perú"),
    ("seguridad/emergencia", "Emergencias"),
)


ASK_COUNTRY = "¿Para qué país? Elige uno o escribe su nombre."
PICK_COUNTRY = "¿Quieres el detalle de un país? Elige uno o escribe su nombre."
# An English question outside what the English articles cover (line 4 and the contact).
ENGLISH_ONLY = ("I can answer in English about working in Peru as a foreigner, Andean Community workers (Decision 545), "
                "your rights in Peru and how to contact the service. For other topics our information is in Spanish, "
                "and an advisor can help you.")
ENGLISH_TOPICS = (("peru_extranjeros", "Working in Peru as a foreigner"), ("peru_andinos", "Andean Community workers"),
                  ("peru_otras_informaciones", "Your rights in Peru"), ("info_contacto", "Contact the service"),
                  ("pedir_asesor", "Talk to an advisor"))


def english_only(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(text=ENGLISH_ONLY, buttons=[{"title": t, "payload": f"/{i}"} for i, t in ENGLISH_TOPICS])
NOT_UNDERSTOOD = "Perdona, me perdí un poco. ¿Me lo escribes con otras palabras? También puedes ver el menú."


def country_buttons() -> list[dict[str, str]]:
    """The five destinations of the directive plus "Otro país", answering the pending topic."""
    options = [(countries.name(slug), slug) for slug in countries.DESTINATIONS] + [("Otro país", countries.OTHER)]
    return [{"title": title, "payload": f'/informar_pais{{"country":"{slug}"}}'} for title, slug in options]


def _send(dispatcher: CollectingDispatcher, messages: list[Message]) -> None:
    for message in messages:
        dispatcher.utter_message(**message.as_dict())


# Channels that pack a whole answer into few long messages themselves (bot/rasa/channels/whatsapp.py: up
# to 1,600 characters each) get it whole; the others (the web widget, Telegram, the REST API) get
# at most MAX_BUBBLES messages and a "Ver más" button for the rest.
PACKING_CHANNELS = frozenset({"whatsapp"})


def pages_answers(tracker: Tracker | None) -> bool:
    channel = tracker.get_latest_input_channel() if tracker is not None else None
    return channel not in PACKING_CHANNELS


def send_article(dispatcher: CollectingDispatcher, article: Article, tracker: Tracker | None, intro: str | None = None,
                 start: int = 0, limit: int = MAX_BUBBLES) -> None:
    """The article's answer from message `start`: at most `limit` messages with "Ver más" when more
    follow (except on a packing channel); "¿Te sirvió?" goes on the answer's very last message."""
    messages = knowledge.render(article, intro=intro)
    messages = knowledge.page(messages, article, start, limit) if pages_answers(tracker) else messages[start:]
    if not knowledge.has_more(messages):
        messages = ask_rating(messages, article, tracker)
    _send(dispatcher, messages)


def _country_from(tracker: Tracker) -> str | None:
    """The destination named in the latest message, else the one remembered in the slot.

    A country named as the one asked about comes before one named as where the person is ("estoy
    en Chile y quiero ir a España": España); where they are still answers a question about it
    ("estoy en Chile, ¿quién me ayuda?"). Peru itself is never a destination ("PERÚ INFOMIGRA",
    "vivo en Lima"), so it is skipped.
    """
    entities = [e for e in tracker.latest_message.get("entities", []) if e.get("entity") == "country"]
    latest = [e.get("value") for e in sorted(entities, key=lambda e: e.get("role") == "location")]
    for value in latest + [tracker.get_slot("country")]:
        slug = countries.normalize(value)
        if slug and slug != countries.HOME:
            return slug
    return None


def in_english(tracker: Tracker | None) -> bool:
    return tracker is not None and tracker.get_slot("lang") == "en"


def answer_in_english(dispatcher: CollectingDispatcher, topic: str, country: str | None, tracker: Tracker,
                      text: str = "") -> list[EventType]:
    """The English variant of the article, or what is available in English (ENGLISH_ONLY)."""
    article = KB.for_topic(topic, None if country == countries.OTHER else country, lang="en")
    # "a work visa for Spain" is not for English; but when the question is about working in Peru
    # (bot/cues.py), the country is where the person comes from ("I'm from Spain, how do I get the carnet…").
    from_there = cues.intent_for(text) in (cues.LINE_FOUR_ANDEAN, cues.LINE_FOUR_OTHERS)
    abroad = country in countries.DESTINATIONS and not KB.is_per_country(topic) and not from_there
    if article is None or abroad:
        english_only(dispatcher)
        return []
    send_article(dispatcher, article, tracker)
    return [SlotSet("topic", topic), SlotSet("article_id", article.id)]


def answer(dispatcher: CollectingDispatcher, topic: str, country: str | None, tracker: Tracker | None = None,
           text: str = "") -> list[EventType]:
    """Send the article of `topic` for `country` (or ask for the country) and record it; with the
    tracker, the answer may ask "¿Te sirvió?" (bot.feedback.offer). A per-country topic asked
    without a country gets its overview and the country buttons, unless the question needs one
    country (bot/scope.py): then the assistant asks for it."""
    if in_english(tracker):
        return answer_in_english(dispatcher, topic, country, tracker, text)
    events: list[EventType] = [SlotSet("topic", topic)]
    if KB.is_per_country(topic):
        if not country and scope.needs_country(topic, text):
            dispatcher.utter_message(text=ASK_COUNTRY, buttons=country_buttons())
            return events
        if not country:
            article = KB.get(topic)
            if article is None:
                dispatcher.utter_message(text=ASK_COUNTRY, buttons=country_buttons())
                return events
            # the country question is the answer's last bubble
            send_article(dispatcher, article, tracker, limit=MAX_BUBBLES - 1)
            dispatcher.utter_message(text=PICK_COUNTRY, buttons=country_buttons())
            return events + [SlotSet("article_id", article.id)]
        article = KB.for_topic(topic, None if country == countries.OTHER else country)
        intro = None
        if article and article.country is None and country != countries.OTHER:
            intro = (
                f"Todavía no tengo una guía específica para {countries.name(country)}. "
                "Te dejo la información general; un asesor puede orientarte sobre ese país."
            )
        events.append(SlotSet("country", country))
    else:
        article = KB.get(topic)
        intro = None
    if article is None:
        dispatcher.utter_message(text=NOT_UNDERSTOOD, buttons=[MENU_BUTTON])
        return events
    send_article(dispatcher, article, tracker, intro=intro)
    return events + [SlotSet("article_id", article.id)]


class ActionAnswerTopic(Action):
    """Answer a topic intent, or a country given for the topic asked before."""

    def name(self) -> str:
        return "action_answer_topic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = tracker.latest_message.get("intent", {}).get("name")
        text = str(tracker.latest_message.get("text") or "")
        country = _country_from(tracker)
        if intent == "informar_pais":
            topic = tracker.get_slot("topic")
            if topic and KB.is_per_country(topic):
                return answer(dispatcher, topic, country, tracker, text)
            return self._offer_country_topics(dispatcher, country)
        topic = KB.topic_by_intent.get(intent or "")
        if topic is None:
            dispatcher.utter_message(text=NOT_UNDERSTOOD, buttons=[MENU_BUTTON])
            return []
        return answer(dispatcher, topic, country, tracker, text)

    @staticmethod
    def _offer_country_topics(dispatcher: CollectingDispatcher, country: str | None) -> list[EventType]:
        if not country or country == countries.OTHER:
            dispatcher.utter_message(response="utter_menu")
            return []
        buttons = [
            {"title": title, "payload": f'/{knowledge.intent_for_topic(topic)}{{"country":"{country}"}}'}
            for topic, title in COUNTRY_TOPICS
        ]
        dispatcher.utter_message(
            text=f"¿Qué quieres saber sobre {countries.name(country)}?", buttons=buttons + [MENU_BUTTON]
        )
        return [SlotSet("country", country)]


class ActionShowArticle(Action):
    """Show the article chosen from a list of buttons (by payload, or "la segunda" by position), or
    the rest of an answer after "Ver más" (its `article` entity is `<id>#<next message>`)."""

    ORDINALS = {"1": 0, "uno": 0, "primer": 0, "primera": 0, "primero": 0,
                "2": 1, "dos": 1, "segunda": 1, "segundo": 1,
                "3": 2, "tres": 2, "tercera": 2, "tercero": 2}

    def name(self) -> str:
        return "action_show_article"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        chosen = next(tracker.get_latest_entity_values("article"), None)
        more = knowledge.parse_more(chosen)
        if more is not None:
            article_id, lang, start = more
            article = KB.get(article_id, lang)
            if article is None:
                dispatcher.utter_message(response="utter_ninguna")
                return []
            send_article(dispatcher, article, tracker, start=start)
            if tracker.get_slot("article_id") == article.id:
                return []  # the rest of the answer just given: not another article shown (bot/report)
            return [SlotSet("topic", article.topic), SlotSet("article_id", article.id)]
        if chosen is None:
            offer = tracker.get_slot("kb_offer") or []
            text = words(tracker.latest_message.get("text") or "")
            position = next((self.ORDINALS[w] for w in text if w in self.ORDINALS), None)
            if position is not None and position < len(offer):
                chosen = offer[position]
        article = KB.get(str(chosen)) if chosen else None
        if article is None:
            dispatcher.utter_message(response="utter_ninguna")
            return []
        send_article(dispatcher, article, tracker)
        return [SlotSet("topic", article.topic), SlotSet("article_id", article.id), SlotSet("kb_offer", None)]


class ActionKbSearch(Action):
    """When the NLU is unsure: offer the best matching articles, never guess one."""

    def name(self) -> str:
        return "action_kb_search"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        # Two unsure turns in a row (the offer before did not help): a person takes over. Rasa also
        # runs this action to fill `kb_offer` during slot extraction; only the predicted run escalates.
        extraction = is_extraction_call(tracker.events)
        text = tracker.latest_message.get("text") or ""
        # A red flag or a request for a person the NLU missed: the lexicons have the last word.
        if not extraction and signals.danger(text):
            return await protect(dispatcher, tracker)
        if not extraction and signals.person(text):
            return await hand_over(dispatcher, tracker, "asked")
        if previous_turn_unsure(tracker.events) and not extraction:
            return await hand_over(dispatcher, tracker, "unsure")
        if in_english(tracker):
            english_only(dispatcher)
            return [SlotSet("kb_offer", None)]
        hits = KB.search(text, limit=3)
        if not hits:  # nothing in the knowledge base comes near: the out-of-scope answer (menu, advisor)
            dispatcher.utter_message(response="utter_fuera_de_alcance")
            return [SlotSet("kb_offer", None)]
        buttons = [article_button(hit.title, hit.article_id) for hit in hits]
        buttons.append({"title": "Ninguna de estas", "payload": "/ninguna"})
        dispatcher.utter_message(text="No estoy seguro de haberte entendido. ¿Buscas alguno de estos temas?", buttons=buttons)
        return [SlotSet("kb_offer", [hit.article_id for hit in hits])]

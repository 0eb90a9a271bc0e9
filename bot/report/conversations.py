"""Turn Rasa's events into conversations: what was asked, answered, offered and how each one ended.

A conversation is a Rasa session of one sender (it ends after an hour without messages, see
`session_config` in domain.yml), counted in the month and on the day (Peru time) of the person's
first message. Slots carried over into a new session (`action_session_start`) are not counted
again: only what happened after the person's first message of the session.

How a conversation ended:
- escalated: it was handed over to an advisor (slot `handoff` became true), with the reason:
  asked (the person asked), unsure (a second unsure turn in a row) or safety (a safety topic);
- answered: the assistant gave at least one article (or the suggestion form was completed) and the
  last turn did not end unsure;
- unresolved: something was asked but the conversation ended without an answer, or its last turn
  ended unsure (knowledge search not taken, "ninguna de estas", out of scope, "no me sirvió");
- browsed: only greetings, menus and thanks, nothing asked.

The knowledge-search offers (`action_kb_search`): taken (an offered article was chosen), refused
("Ninguna de estas"), other (the person wrote something else or left), none found (nothing matched)
and escalated (the second unsure turn went to an advisor). Questions whose search was not taken are
the content gaps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.feedback.offer import ENTITY, NO, rating_value
from bot.report.tracker import Event

LINE_INTENTS = {"linea_emigrar": "emigrar", "linea_retorno": "retorno", "linea_exterior": "exterior", "linea_peru": "peru"}
LINE_MENUS = {f"utter_{intent}": line for intent, line in LINE_INTENTS.items()}  # a line's menu was shown
SAFETY_INTENTS = frozenset({"seguridad_trata_y_fraude", "seguridad_emergencia", "senal_de_peligro"})
SMALL_TALK = frozenset({"saludo", "despedida", "agradecer", "afirmar", "negar", "menu", *LINE_INTENTS})
UNSURE_ACTIONS = frozenset({"utter_ninguna", "utter_fuera_de_alcance"})
SEARCH = "action_kb_search"
ANSWERS = frozenset({"action_answer_topic", "action_show_article", "action_protect"})
SUBMIT = "action_submit_suggestion"
RATE_INTENT = "valorar_respuesta"  # bot.feedback.offer.INTENT
OUTCOMES = ("answered", "escalated", "unresolved", "browsed")
OFFER_OUTCOMES = ("taken", "refused", "other", "none_found", "escalated")
REASONS = ("asked", "unsure", "safety")


@dataclass
class Turn:
    intent: str | None
    text: str
    entities: dict[str, Any]
    actions: list[str] = field(default_factory=list)
    offered: bool = False  # the knowledge search offered articles in this turn
    escalated: bool = False


@dataclass
class Conversation:
    sender_id: str
    channel: str
    started: dt.datetime  # the person's first message (UTC)
    person_messages: int = 0
    assistant_messages: int = 0
    advisor_messages: int = 0
    articles: list[str] = field(default_factory=list)
    countries: set[str] = field(default_factory=set)
    line_intents: set[str] = field(default_factory=set)  # lines whose menu was shown
    outcome: str = "browsed"
    reason: str | None = None
    offers: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)


def sessions(events: Iterable[Event]) -> Iterator[list[Event]]:
    """The events of each (sender, session), for events grouped by sender in stored order.

    Only a session that Rasa started (`action_session_start` right before `session_started`) begins a
    new conversation: the sessions the advisor desk starts through the HTTP API (to resume the
    assistant after a handoff, or to keep a long handoff short) continue the same conversation."""
    current: list[Event] = []
    sender: str | None = None
    previous: Event | None = None
    for event in events:
        started = (event.type_name == "session_started" and previous is not None and previous.type_name == "action"
                   and previous.data.get("name") == "action_session_start")
        if event.sender_id != sender or started:
            if current:
                yield current
            current, sender = [], event.sender_id
        current.append(event)
        previous = event
    if current:
        yield current


def _channel(event: Event) -> str:
    channel = event.data.get("input_channel")
    if isinstance(channel, str) and channel:
        return channel
    prefix, sep, _ = event.sender_id.partition(":")
    return prefix if sep else "unknown"


def _intent(data: Mapping[str, Any]) -> str | None:
    intent = (data.get("parse_data") or {}).get("intent") or {}
    name = intent.get("name") if isinstance(intent, Mapping) else None
    return str(name) if name else None


def _entities(data: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for entity in (data.get("parse_data") or {}).get("entities") or []:
        if isinstance(entity, Mapping) and entity.get("entity"):
            found.setdefault(str(entity["entity"]), entity.get("value"))
    return found


def analyse(events: list[Event]) -> Conversation | None:
    """One session's events → a Conversation (None when the person wrote nothing in it)."""
    first_user = next((e for e in events if e.type_name == "user"), None)
    if first_user is None:
        return None
    conversation = Conversation(first_user.sender_id, _channel(first_user),
                                dt.datetime.fromtimestamp(first_user.timestamp, dt.timezone.utc))
    turns: list[Turn] = []
    action: str | None = None
    submitted = False
    for event in events:
        kind, data = event.type_name, event.data
        if kind == "action" and data.get("name") == "action_session_start":
            continue  # the start of the sender's next session, stored before its `session_started`
        if kind == "user":
            conversation.person_messages += 1
            turns.append(Turn(_intent(data), str(data.get("text") or ""), _entities(data)))
            action = None
        elif not turns:
            continue  # before the person's first message: the session start and its carried-over slots
        elif kind == "session_started":
            action = None  # the desk resumed the assistant: the slots carried over were not answers
        elif kind == "action":
            action = str(data.get("name") or "")
            turns[-1].actions.append(action)
            submitted = submitted or action == SUBMIT
            if action in LINE_MENUS:
                conversation.line_intents.add(LINE_MENUS[action])
        elif kind == "bot":
            metadata = data.get("metadata") or {}
            if isinstance(metadata, Mapping) and metadata.get("advisor_id"):
                conversation.advisor_messages += 1
                continue
            conversation.assistant_messages += 1
            if action == SEARCH:
                buttons = (data.get("data") or {}).get("buttons") or []
                if any(isinstance(b, Mapping) and str(b.get("payload", "")).startswith("/elegir_articulo") for b in buttons):
                    turns[-1].offered = True
        elif kind == "slot":
            name, value = data.get("name"), data.get("value")
            if name == "article_id" and value and action in ANSWERS:
                conversation.articles.append(str(value))
            elif name == "country" and isinstance(value, str) and value:
                conversation.countries.add(value)
            elif name == "handoff" and value is True and action != "action_session_start" and conversation.reason is None:
                turns[-1].escalated = True
                intent = turns[-1].intent
                conversation.reason = "unsure" if action == SEARCH else "safety" if intent in SAFETY_INTENTS else "asked"
    _offers(conversation, turns)
    conversation.outcome = _outcome(conversation, turns, submitted)
    return conversation


def _offers(conversation: Conversation, turns: list[Turn]) -> None:
    for index, turn in enumerate(turns):
        if SEARCH not in turn.actions:
            continue
        following = turns[index + 1] if index + 1 < len(turns) else None
        if turn.escalated:
            outcome = "escalated"
        elif not turn.offered:
            outcome = "none_found"
        elif following is not None and (following.intent == "elegir_articulo" or "action_show_article" in following.actions):
            outcome = "taken"
        elif following is not None and following.intent == "ninguna":
            outcome = "refused"
        else:
            outcome = "other"
        conversation.offers.append(outcome)
        if outcome != "taken" and turn.text and not turn.text.startswith("/"):
            conversation.gaps.append(turn.text)


def _ended_unsure(turns: list[Turn]) -> bool:
    last = turns[-1]
    if SEARCH in last.actions or UNSURE_ACTIONS.intersection(last.actions):
        return True
    return last.intent == RATE_INTENT and rating_value(last.entities.get(ENTITY), last.text) == NO


def _outcome(conversation: Conversation, turns: list[Turn], submitted: bool) -> str:
    if conversation.reason:
        return "escalated"
    if (conversation.articles or submitted) and not _ended_unsure(turns):
        return "answered"
    if all(turn.intent in SMALL_TALK for turn in turns):
        return "browsed"
    return "unresolved"


def conversations(events: Iterable[Event], start: dt.datetime, end: dt.datetime) -> Iterator[Conversation]:
    """The conversations whose first message falls in [start, end)."""
    for session in sessions(events):
        conversation = analyse(session)
        if conversation is not None and start <= conversation.started < end:
            yield conversation

"""The conversation side of the handoff, without Rasa imports (the action server calls it).

- `transcript`: the assistant's turns so far (person, assistant, with the article each answer came
  from), from the tracker's events, for the advisor;
- `escalate`: open (or find) the ticket, in the queue of the office of the region the person named
  (bot/offices), and say honestly what happens next (that office's hours);
- `inbound`: what the person wrote, as the advisor should see it (button titles, attachments);
- `wants_assistant`: whether a message written during the handoff asks to go back to the assistant;
- `previous_turn_unsure`: the turn before was already an unsure one (two in a row escalate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.handoff import messages as say
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore, Ticket
from bot.offices.directory import Offices
from bot.store.clock import now

LINES = ("emigrar", "retorno", "exterior", "peru", "info", "seguridad")
SAFETY_INTENTS = frozenset({"seguridad_trata_y_fraude", "seguridad_emergencia", "senal_de_peligro"})
UNSURE_ACTIONS = frozenset({"action_kb_search", "utter_ninguna"})
BACK_INTENTS = frozenset({"volver_al_asistente", "menu"})
HANDOFF_LOOP = "handoff_form"
PRIORITY_PERIOD = dt.timedelta(days=1)  # HANDOFF_PRIORITY_PER_DAY counts over this
# What the channels put in an attachment (bot/rasa/channels/whatsapp.py, telegram.py) and the desk shows.
ATTACHMENT_KEYS = frozenset({"type", "content_type", "url", "file_id", "file_name", "name", "title", "latitude",
                             "longitude", "address", "label", "first_name", "phone_number"})


def _at(event: Mapping[str, Any]) -> dt.datetime | None:
    stamp = event.get("timestamp")
    if isinstance(stamp, (int, float)):
        return dt.datetime.fromtimestamp(stamp, dt.timezone.utc)
    return None


def _shown_text(text: str, metadata: Mapping[str, Any] | None, intent: str | None = None) -> str:
    """What the person saw of their own message: a button's title rather than its payload."""
    metadata = metadata or {}
    title = metadata.get("button_title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    whatsapp = metadata.get("whatsapp")
    if isinstance(whatsapp, Mapping) and isinstance(whatsapp.get("reply"), str) and whatsapp["reply"].strip():
        return whatsapp["reply"].strip()
    if text.startswith("/"):
        name = (intent or text[1:].split("{")[0]).replace("_", " ")
        return f"[eligió una opción: {name}]"
    return text


def attachments_of(metadata: Mapping[str, Any] | None) -> list[dict] | None:
    """Files and locations a channel put in the message's metadata (WhatsApp, Telegram)."""
    metadata = metadata or {}
    items = [item for item in metadata.get("attachments") or [] if isinstance(item, Mapping)]
    location = metadata.get("location")
    if isinstance(location, Mapping):
        items.append({"type": "location", **location})
    found = [{k: str(v)[:500] for k, v in item.items() if k in ATTACHMENT_KEYS} for item in items]
    return found or None


def transcript(events: Iterable[Mapping[str, Any]]) -> list[dict]:
    """The conversation in the tracker's events, oldest first: {"role", "text", "article_id", "at",
    "attachments", "source_key"}. A bot answer gets the article its action recorded in `article_id`."""
    rows: list[dict] = []
    since_action: list[dict] = []
    for event in events:
        kind = event.get("event")
        if kind == "action":
            since_action = []
        elif kind == "user":
            text = event.get("text") or ""
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            metadata = event.get("metadata") or {}
            key = event.get("message_id") or event.get("timestamp")
            rows.append({"role": "person", "text": _shown_text(str(text), metadata, intent), "at": _at(event),
                         "attachments": attachments_of(metadata), "source_key": f"u:{key}" if key else None})
        elif kind == "bot":
            text = event.get("text")
            if not isinstance(text, str) or not text.strip():
                continue
            metadata = event.get("metadata") or {}
            row = {"role": "advisor" if metadata.get("advisor_id") else "bot", "text": text, "at": _at(event),
                   "article_id": None, "source_key": f"b:{event.get('timestamp')}"}
            buttons = [b.get("title") for b in (event.get("data") or {}).get("buttons") or [] if isinstance(b, Mapping)]
            if buttons:
                row["text"] += "\n[Opciones: " + " · ".join(str(b) for b in buttons if b) + "]"
            rows.append(row)
            since_action.append(row)
        elif kind == "slot" and event.get("name") == "article_id" and event.get("value"):
            for row in since_action:
                row["article_id"] = str(event["value"])[:160]
    return rows


def previous_turn_unsure(events: list[Mapping[str, Any]]) -> bool:
    """True when the turn before the current message already ended unsure: the knowledge search
    was offered (or "ninguna de estas" answered) and the person did not pick an article."""
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) < 2:
        return False
    previous, current = users[-2], users[-1]
    actions = {e.get("name") for e in events[previous:current] if e.get("event") == "action"}
    return bool(actions & UNSURE_ACTIONS) and "action_show_article" not in actions


def is_extraction_call(events: list[Mapping[str, Any]]) -> bool:
    """Rasa also runs the action that fills a slot with a custom mapping before predicting (slot
    extraction); then the user's message is still the tracker's last event."""
    return bool(events) and events[-1].get("event") == "user"


def wants_assistant(text: str, intent: str | None, confidence: float) -> bool:
    """A message written during the handoff that asks to go back to the assistant: the button or
    command, or a short message clearly saying so (a longer one is for the advisor)."""
    stripped = (text or "").strip()
    if intent not in BACK_INTENTS:
        return False
    if stripped.startswith("/"):  # a button the assistant issued, or a Telegram command
        return True
    words = len(stripped.split())
    if intent == "volver_al_asistente":
        return confidence >= 0.8 and words <= 6
    return confidence >= 0.9 and words <= 2


def line_of(topic: str | None, article_id: str | None) -> str | None:
    for value in (topic, article_id):
        head = (value or "").split("/")[0]
        if head in LINES:
            return head
    return None


@dataclass(frozen=True)
class Escalation:
    ticket: Ticket
    created: bool
    position: int
    messages: list[dict]


def escalate(store: HandoffStore, settings: HandoffSettings, *, sender_id: str, channel: str, reason: str,
             slots: Mapping[str, Any], events: Iterable[Mapping[str, Any]], at: dt.datetime | None = None,
             numbers_given: bool = False) -> Escalation:
    """Open the conversation's ticket (or find the open one) and compose what the person is told.
    `numbers_given`: the protection answer already gave the emergency numbers (no general reminder)."""
    at = at or now()
    topic, article_id = slots.get("topic"), slots.get("article_id")
    safety = reason == "safety" or str(topic or article_id or "").startswith("seguridad")
    # Priority moves a person ahead of everybody waiting, so it is capped per person and day: a script
    # raising alarms cannot keep the queue for itself. Beyond the cap the ticket still opens (or the open
    # one is kept) and the person still gets the emergency numbers; only the queue position is not raised.
    priority = 1 if safety and (
        store.priority_escalations(sender_id, at - PRIORITY_PERIOD) < settings.priority_per_day) else 0
    country = slots.get("location") or slots.get("country")  # where the person is, else the country asked about
    turns = transcript(events)
    offices = Offices(store.engine)
    office = offices.route("\n".join(t["text"] for t in turns if t["role"] == "person" and t.get("text")))
    ticket, created = store.open_ticket(
        sender_id=sender_id, channel=channel, reason=reason, priority=priority, line=line_of(topic, article_id),
        country=str(country)[:40] if country else None, topic=str(topic)[:120] if topic else None,
        article_id=str(article_id)[:160] if article_id else None, transcript=turns, office_id=office.id if office else None, at=at)
    position = store.position(ticket)
    online = len(store.online(settings.online_window, at))
    hours = offices.hours(ticket.office_id, settings.hours)
    status = say.queue_status(position, online, hours, settings.minutes_per_chat, at)
    first = say.INTRO[reason] + "\n\n" + status
    if (ticket.priority or safety) and not numbers_given:
        first += "\n\n" + say.DANGER
    return Escalation(ticket, created, position, [{"text": first}, {"text": say.WHILE_WAITING, "buttons": [say.BACK_BUTTON]}])


@dataclass(frozen=True)
class Inbound:
    text: str
    source_key: str | None
    attachments: list[dict] | None
    at: dt.datetime | None
    intent: str | None
    confidence: float


def inbound(latest_message: Mapping[str, Any], events: list[Mapping[str, Any]]) -> Inbound:
    """The person's latest message, as recorded for the advisor."""
    text = str(latest_message.get("text") or "")
    intent = (latest_message.get("intent") or {}).get("name")
    confidence = float((latest_message.get("intent") or {}).get("confidence") or 0.0)
    metadata = latest_message.get("metadata") or {}
    last_user = next((e for e in reversed(events) if e.get("event") == "user"), {})
    key = latest_message.get("message_id") or last_user.get("message_id") or last_user.get("timestamp")
    return Inbound(_shown_text(text, metadata, intent), f"u:{key}" if key else None, attachments_of(metadata),
                   _at(last_user), intent, confidence)

"""Custom actions of the handoff to a human advisor (the conversation side).

- `action_handoff`: the person asked for an advisor, or a safety topic came up: a ticket is
  opened (priority for safety), the conversation is paused in Rasa (`ConversationPaused`, and the
  `handoff_form` loop marks it), slot `handoff` becomes true, and the person is told their place in
  the queue and the expected wait, or, outside office hours, when an advisor will answer.
- `action_handoff_inbox`: runs while the conversation is handed over (a custom slot mapping
  conditioned on the `handoff_form` loop, so Rasa calls it during slot extraction even though it
  predicts nothing while paused): it records what the person wrote, attachments included, for the
  advisor, and notes a request to go back to the assistant. The desk resumes the conversation.
- `action_session_start`: a new Rasa session (after an hour without messages) keeps a conversation
  that is still with an advisor paused, and carries the slots over.
- `action_handoff_rating`: the 1–5 rating asked when an advisor closes the chat.
- `action_handoff_leave`: "volver al asistente" when no advisor has the conversation.

Nothing here resumes a conversation: that is done only by the desk, through Rasa's HTTP API with
its token (a person's "volver al asistente" is a request the desk carries out).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, ConversationPaused, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.handoff import escalation
from bot.handoff import messages as say
from bot.handoff.settings import settings
from bot.handoff.store import HandoffStore
from bot.knowledge.render import MENU_BUTTON, article_button
from bot.logsafe import masked
from bot.store.db import get_engine

from .channel import channel_of
from .first_aid import DANGER_INTENT, during_handoff

logger = logging.getLogger(__name__)

NOT_CARRIED = {"requested_slot", "handoff_inbox"}
RATING_IN_TEXT = re.compile(r"\b([1-5])\b")


def store() -> HandoffStore:
    return HandoffStore(get_engine())



async def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str,
                    numbers_given: bool = False) -> list[EventType]:
    """Escalate the conversation: ticket, what happens next, and the pause. If the handoff store
    is unreachable, the person is told how to reach the service instead, and nothing is paused."""
    try:
        result = await asyncio.to_thread(
            escalation.escalate, store(), settings(), sender_id=tracker.sender_id, channel=channel_of(tracker),
            reason=reason, slots=tracker.slots, events=tracker.events, numbers_given=numbers_given)
    except Exception:
        logger.exception("handoff: could not open a ticket for %s", masked(tracker.sender_id))
        dispatcher.utter_message(text=say.UNAVAILABLE.format(how=say.how_to_reach(settings().contact_email)),
                                 buttons=[article_button("Contacto", "info/contacto"), MENU_BUTTON])
        return [SlotSet("handoff", False)]
    if tracker.get_slot("lang") == "en":
        dispatcher.utter_message(text=say.IN_ENGLISH)
    for message in result.messages:
        dispatcher.utter_message(**message)
    logger.info("handoff: %s ticket %s for %s (%s, position %s)", "opened" if result.created else "found",
                result.ticket.id, masked(tracker.sender_id), reason, result.position)
    return [SlotSet("handoff", True), ActiveLoop(escalation.HANDOFF_LOOP), ConversationPaused()]


class ActionHandoff(Action):
    """The person asks for a human, or a safety topic was just answered."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reason = "safety" if intent in escalation.SAFETY_INTENTS else "asked"
        return await hand_over(dispatcher, tracker, reason)


class ActionHandoffInbox(Action):
    """What the person writes while an advisor has (or will have) the conversation."""

    def name(self) -> str:
        return "action_handoff_inbox"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if tracker.active_loop_name != escalation.HANDOFF_LOOP:
            return []
        message = escalation.inbound(tracker.latest_message, tracker.events)
        back = escalation.wants_assistant(str(tracker.latest_message.get("text") or ""), message.intent, message.confidence)
        # A danger signal during the handoff: the numbers now (delivered by the desk, as its other
        # messages to a paused conversation), and the chat moves up the queue.
        numbers, events = during_handoff(tracker)
        try:
            await asyncio.to_thread(record, tracker.sender_id, message, back, numbers)
        except Exception:  # the message stays in Rasa's tracker; the desk can read it from there
            logger.exception("handoff: could not record a message of %s", masked(tracker.sender_id))
        if message.intent == DANGER_INTENT:
            try:
                await asyncio.to_thread(escalation.escalate, store(), settings(), sender_id=tracker.sender_id,
                                        channel=channel_of(tracker), reason="safety", slots=tracker.slots,
                                        events=tracker.events, numbers_given=True)
            except Exception:
                logger.exception("handoff: could not raise the priority of %s", masked(tracker.sender_id))
        return events


def record(sender_id: str, message: escalation.Inbound, back: bool, numbers: str | None = None) -> None:
    handoff = store()
    ticket, recorded = handoff.record_person_message(sender_id, message.text, source_key=message.source_key,
                                                      attachments=message.attachments, at=message.at, wants_assistant=back)
    if ticket is None or not recorded:
        return
    if numbers:
        handoff.add_message(ticket.id, "system", numbers, kind="protection")
    if back:
        return
    # Acknowledgements, sent by the desk (Rasa says nothing while paused): the first message written
    # while waiting, and an e-mail address left for the advisor.
    if ticket.status == "waiting" and not handoff.has_kind(ticket.id, "received"):
        handoff.add_message(ticket.id, "system", say.FIRST_RECEIVED, kind="received")
    if ticket.contact_email and not handoff.has_kind(ticket.id, "email"):
        handoff.add_message(ticket.id, "system", say.EMAIL_NOTED.format(email=ticket.contact_email), kind="email")


class ActionSessionStart(Action):
    """A new session carries the slots over and keeps a handed-over conversation paused."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(name, value) for name, value in tracker.slots.items() if value is not None and name not in NOT_CARRIED]
        if tracker.get_slot("handoff"):
            try:
                ticket = await asyncio.to_thread(store().open_for, tracker.sender_id)
            except Exception:
                logger.exception("handoff: could not look up the ticket of %s; the conversation stays paused",
                                 masked(tracker.sender_id))
                ticket = True
            if ticket:
                events += [ActiveLoop(escalation.HANDOFF_LOOP), ConversationPaused()]
            else:
                events.append(SlotSet("handoff", False))
        events.append(ActionExecuted("action_listen"))
        return events


class ActionHandoffRating(Action):
    """The rating (1–5) of the help received, once per closed chat."""

    def name(self) -> str:
        return "action_handoff_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        value = next(tracker.get_latest_entity_values("rating"), None)
        if value is None:
            match = RATING_IN_TEXT.search(str(tracker.latest_message.get("text") or ""))
            value = match.group(1) if match else None
        try:
            rating = int(str(value))
        except (TypeError, ValueError):
            rating = 0
        rated = None
        if 1 <= rating <= 5:
            try:
                rated = await asyncio.to_thread(store().rate, tracker.sender_id, rating)
            except Exception:
                logger.exception("handoff: could not store the rating of %s", masked(tracker.sender_id))
        dispatcher.utter_message(text=say.RATED if rated else say.NOTHING_TO_RATE, buttons=[say.MENU_BUTTON])
        return []


class ActionHandoffLeave(Action):
    """ "Volver al asistente" outside a handoff: the person is already with the assistant."""

    def name(self) -> str:
        return "action_handoff_leave"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=say.NOT_IN_HANDOFF, buttons=[say.MENU_BUTTON])
        return [SlotSet("handoff", False)] if tracker.get_slot("handoff") else []

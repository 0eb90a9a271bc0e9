"""One message through Rasa, never in silence.

Rasa swallows a failed custom action: `MessageProcessor._run_action` catches the action server's
errors (down: `RasaException` "Failed to execute custom action"; too slow: `asyncio.TimeoutError`,
see bot/rasa/action_timeout.py), logs them, drops the action's events and goes on predicting, so the
turn ends without a word and `on_new_message` returns normally. Every turn of this assistant
answers something, except while an advisor has the conversation (Rasa paused it: the message goes
to the advisor and Rasa answers nothing). So a turn that raised, or that answered nothing in a
conversation that is not paused, failed: the channel sends TECHNICAL_PROBLEM instead of silence.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.logsafe import masked
from bot.rasa.channels.conversation import agent_of, is_paused

logger = logging.getLogger(__name__)

TECHNICAL_PROBLEM = ("Tenemos un problema técnico y no pude responder a tu mensaje. Por favor, inténtalo de nuevo "
                     "en unos minutos{contact}. Disculpa las molestias.")


def technical_problem(env: Mapping[str, str] | None = None) -> str:
    """The apology, with the service's e-mail address (INFOMIGRA_CONTACT_EMAIL) when it is set."""
    email = ((os.environ if env is None else env).get("INFOMIGRA_CONTACT_EMAIL") or "").strip()
    return TECHNICAL_PROBLEM.format(contact=f" o escríbenos a {email}" if email else "")


def listen_after_circuit_break(tracker: Any, output_channel: Any, nlg: Any) -> None:
    """Rasa's `on_circuit_break` callback: end the broken turn with `action_listen`.

    A failing action is predicted again and again until Rasa's circuit breaker stops the turn (ten
    actions since the last `action_listen`), and the turn ends without `action_listen`. Rasa counts
    from the last `action_listen`, so every later message of that conversation tripped the breaker at
    once and ran no action at all, even with the action server back: one outage killed the
    conversation for good. With `action_listen` logged, the next message starts a fresh count."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted

    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))


def _ensure_listen_after_circuit_break(app: Any) -> None:
    processor = getattr(agent_of(app), "processor", None)  # a new one after every model load
    if processor is not None and getattr(processor, "on_circuit_break", None) is None:
        processor.on_circuit_break = listen_after_circuit_break


async def run_turn(app: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage,
                   answered: Callable[[], bool]) -> bool:
    """Hand one message to Rasa. True when the person got an answer (`answered()`, asked after the
    turn) or the conversation is paused; False when the turn failed: the caller apologises."""
    _ensure_listen_after_circuit_break(app)
    try:
        await on_new_message(message)
    except Exception:
        logger.exception("%s: the turn of %s failed", message.input_channel, masked(message.sender_id))
        return False
    if answered() or await is_paused(app, message.sender_id):
        return True
    logger.error("%s: the turn of %s gave no answer (is the action server down or too slow? see Rasa's error "
                 "above); the person is told of a technical problem", message.input_channel, masked(message.sender_id))
    return False

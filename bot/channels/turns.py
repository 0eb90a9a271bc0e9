"""One message through Rasa, never in silence.

Rasa swallows a failed custom action: `MessageProcessor._run_action` catches the action server's
errors (down: `RasaException` "Failed to execute custom action"; too slow: `asyncio.TimeoutError`,
see bot/action_timeout.py), logs them, drops the action's events and goes on predicting, so the
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

from bot.channels.conversation import is_paused
from bot.logsafe import masked

logger = logging.getLogger(__name__)

TECHNICAL_PROBLEM = ("Tenemos un problema técnico y no pude responder a tu mensaje. Por favor, inténtalo de nuevo "
                     "en unos minutos{contact}. Disculpa las molestias.")


def technical_problem(env: Mapping[str, str] | None = None) -> str:
    """The apology, with the service's e-mail address (INFOMIGRA_CONTACT_EMAIL) when it is set."""
    email = ((os.environ if env is None else env).get("INFOMIGRA_CONTACT_EMAIL") or "").strip()
    return TECHNICAL_PROBLEM.format(contact=f" o escríbenos a {email}" if email else "")


async def run_turn(app: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage,
                   answered: Callable[[], bool]) -> bool:
    """Hand one message to Rasa. True when the person got an answer (`answered()`, asked after the
    turn) or the conversation is paused; False when the turn failed: the caller apologises."""
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

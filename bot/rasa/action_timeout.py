"""How long the Rasa server waits for the action server: seconds, not Rasa's five minutes.

Rasa 3.6 passes `DEFAULT_REQUEST_TIMEOUT` (300 s, `rasa.core.constants`) to every call of a custom
action (`RemoteAction.run`), and endpoints.yml cannot change it: `EndpointConfig` keeps unknown
keys such as `timeout` in `kwargs` and never uses them. A person whose message reached a hung
action server would wait five minutes for nothing (and the conversation's lock expires after 60 s).
So the value `RemoteAction.run` reads is set when our channels load, to ACTION_TIMEOUT_SECONDS
(default 10; our actions answer in milliseconds); a call that takes longer raises
`asyncio.TimeoutError`, which Rasa logs and swallows, and the channel apologises
(bot/rasa/channels/turns.py). Other endpoints keep Rasa's value.
"""

from __future__ import annotations

import logging
import os

DEFAULT_SECONDS = 10.0

logger = logging.getLogger(__name__)


def seconds(env: dict[str, str] | None = None) -> float:
    raw = ((os.environ if env is None else env).get("ACTION_TIMEOUT_SECONDS") or "").strip()
    try:
        value = float(raw) if raw else DEFAULT_SECONDS
    except ValueError:
        logger.warning("ACTION_TIMEOUT_SECONDS=%r is not a number; using %s s", raw, DEFAULT_SECONDS)
        return DEFAULT_SECONDS
    return value if value > 0 else DEFAULT_SECONDS


def apply() -> float | None:
    """Set the action server's timeout in the Rasa server; returns it (None outside the Rasa venv)."""
    try:
        from rasa.core.actions import action
    except ImportError:  # our services' environment imports bot.rasa.channels too (tests): no Rasa to set
        return None
    action.DEFAULT_REQUEST_TIMEOUT = seconds()
    return action.DEFAULT_REQUEST_TIMEOUT

"""What a connector may ask Rasa about a conversation, from inside the Rasa server."""

from __future__ import annotations

import logging
from typing import Any

from bot.logsafe import masked

logger = logging.getLogger(__name__)


def agent_of(app: Any) -> Any:
    """Rasa's agent on the Sanic app (None before the model is loaded)."""
    return getattr(getattr(app, "ctx", None), "agent", None)


async def is_paused(app: Any, sender_id: str) -> bool:
    """True while an advisor has the conversation (the desk paused it in Rasa)."""
    store = getattr(agent_of(app), "tracker_store", None)
    if store is None:
        return False
    try:
        tracker = await store.retrieve(sender_id)
    except Exception:
        logger.exception("could not read the conversation of %s", masked(sender_id))
        return False
    return bool(tracker is not None and tracker.is_paused())

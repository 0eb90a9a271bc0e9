"""Which events of a conversation the action server receives with each action call.

Rasa sends the tracker with every event of the session to the action server at every action call,
so in a long session each call carried more (about 5 MB at the 1,000th message of one session) and
the action server spent its time receiving and parsing it (issue 15). What our actions read of the
events is recent or is the session's start:

- the advisor's transcript at a handoff: the last `TRANSCRIPT_LIMIT` (80) messages of the person and
  the assistant (`bot/handoff/store.py`); `ACTION_WINDOW_MESSAGES` person messages bring at least
  that many when the assistant answered each of them;
- whether this article's rating was already offered (`bot/feedback/offer.py`): in the window, so a
  question asked again after `ACTION_WINDOW_MESSAGES` messages may be offered the rating again;
- the session's start (its `session_started` event: the rating's conversation key);
- the turn before the current message and the current one (the unsure answer, slot extraction,
  rasa_sdk's form validation, which reads back to the latest action).

So the action server receives the session's `session_started` event and the events from the
`ACTION_WINDOW_MESSAGES`-th latest person message on; the slots, the latest message, the active loop
and the latest action are in the tracker state as before. Nothing the policies predict changes:
Rasa keeps and predicts on the whole tracker.
"""

from __future__ import annotations

from collections.abc import Reversible
from typing import Any

ACTION_WINDOW_MESSAGES = 40


def events_for_actions(events: Reversible[Any], messages: int = ACTION_WINDOW_MESSAGES) -> list[Any]:
    """The session's start and the events from the `messages`-th latest person message on, oldest
    first. Rasa events (`type_name`) or their dictionaries (`"event"`)."""
    kept: list[Any] = []
    users = 0
    for event in reversed(events):
        kind = _kind(event)
        if kind == "session_started":
            kept.append(event)
            break  # nothing before the session's start is sent
        if users < messages:
            kept.append(event)
            users += kind == "user"
    kept.reverse()
    return kept


def _kind(event: Any) -> str | None:
    if isinstance(event, dict):
        return event.get("event")
    return getattr(event, "type_name", None)

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


_SCAN = object()


def events_for_actions(events: Reversible[Any], messages: int = ACTION_WINDOW_MESSAGES,
                       session_start: Any = _SCAN) -> list[Any]:
    """The session's start and the events from the `messages`-th latest person message on, oldest
    first. Rasa events (`type_name`) or their dictionaries (`"event"`). `session_start`, when the caller
    knows it (the latest `session_started` event, or None if there is none), saves looking for it
    before the window (bot/rasa/states.py keeps it)."""
    kept: list[Any] = []
    users = 0
    older = reversed(events)
    for event in older:
        kind = _kind(event)
        if kind == "session_started":
            kept.append(event)  # nothing before the session's start is sent
            break
        if users == messages:  # the window is full and the session started before it
            if session_start is _SCAN:
                session_start = next((e for e in older if _kind(e) == "session_started"), None)
            if session_start is not None:
                kept.append(session_start)
            break
        kept.append(event)
        users += kind == "user"
    kept.reverse()
    return kept


def _kind(event: Any) -> str | None:
    if isinstance(event, dict):
        return event.get("event")
    return getattr(event, "type_name", None)

"""The channel a conversation came through, as our tables record it."""

from __future__ import annotations

from rasa_sdk import Tracker


def channel_of(tracker: Tracker) -> str:
    """The channel of the latest message ("whatsapp", "telegram", "web", "rest"…), else the sender id's
    prefix ("whatsapp:+51…"), else "unknown" (the monthly report shows it as "Sin canal")."""
    channel = tracker.get_latest_input_channel()
    if channel:
        return str(channel)
    prefix, sep, _ = tracker.sender_id.partition(":")
    return prefix if sep else "unknown"

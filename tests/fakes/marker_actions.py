"""One custom action that leaves a trace: it appends the caller's sender id to the file named by
MARKER_ACTIONS_FILE. Loaded by the action server in tests/unit/test_action_server.py to prove that a
refused call ran nothing."""

from __future__ import annotations

import os

from rasa_sdk import Action


class ActionLeaveMark(Action):
    def name(self) -> str:
        return "action_leave_mark"

    async def run(self, dispatcher, tracker, domain):
        with open(os.environ["MARKER_ACTIONS_FILE"], "a", encoding="utf-8") as marks:
            marks.write(tracker.sender_id + "\n")
        dispatcher.utter_message(text="marca dejada")
        return []

"""The REST channel (`/webhooks/rest/webhook`), with its input checked.

Rasa's own RestInput answers 500 to a JSON list, files every message without a sender under
the shared id "default", and lets the client choose `input_channel`. This one answers 400 with a
reason in Spanish to a malformed request, keeps every sender in its own conversation, and answers
a message without letters politely without running the assistant.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.checks import MAX_MESSAGE_CHARS, SENDER_PATTERN, UNREADABLE, is_readable
from bot.channels.serial import SenderLocks
from bot.logsafe import masked

logger = logging.getLogger(__name__)


def _bad_request(reason: str, status: int = 400) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


class CheckedRestInput(RestInput):
    def __init__(self) -> None:
        super().__init__()
        self.locks = SenderLocks()

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("infomigra_rest", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except InvalidUsage:
                return _bad_request("El cuerpo de la solicitud no es JSON válido.")
            if not isinstance(body, dict):
                return _bad_request("Se espera un objeto JSON con 'sender' y 'message'.")
            sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
            if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
                return _bad_request("'sender' es obligatorio: 1 a 128 letras, números o . _ - + @")
            if not isinstance(text, str):
                return _bad_request("'message' es obligatorio y debe ser texto.")
            if len(text) > MAX_MESSAGE_CHARS:
                return _bad_request(f"El mensaje es demasiado largo (máximo {MAX_MESSAGE_CHARS} caracteres).", 413)
            if metadata is not None and not isinstance(metadata, dict):
                return _bad_request("'metadata' debe ser un objeto JSON.")
            if not is_readable(text):
                return response.json([{"recipient_id": sender, "text": UNREADABLE}])

            collector = CollectingOutputChannel()
            try:
                async with self.locks.hold(sender):  # a burst is answered in order, without lock polling
                    await on_new_message(
                        UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
                    )
            except Exception:  # the person still gets what was collected, the server stays up
                logger.exception("REST message from %s failed", masked(sender))
            return response.json(collector.messages)

        return webhook

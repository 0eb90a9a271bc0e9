"""The REST channel (`/webhooks/rest/webhook`), with its input checked.

Rasa's own RestInput answers 500 to a JSON list, files every message without a sender under
the shared id "default", and lets the client choose `input_channel`. This one answers 400 with a
reason in Spanish to a malformed request, keeps every sender in its own conversation, and answers
a message without letters politely without running the assistant. A turn that failed or answered
nothing (the action server down or too slow) answers the technical-problem message, as the other
channels do (bot/rasa/channels/turns.py), never an empty list.

It is not public: every POST must carry `Authorization: Bearer <REST_CHANNEL_TOKEN>` (compared in
constant time), else 401; with REST_CHANNEL_TOKEN unset the webhook answers 503 to everyone rather
than being open. A client's `metadata` is never passed on: message metadata is what the channels
(and the handoff) trust, and no caller of this channel gets to choose it.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa import startup
from bot.rasa.channels.checks import MAX_MESSAGE_CHARS, SENDER_PATTERN, UNREADABLE, is_readable, without_default_intents
from bot.rasa.channels.limits import TOO_MANY, FloodGuard
from bot.rasa.channels.serial import SenderLocks
from bot.rasa.channels.turns import run_turn, technical_problem

logger = logging.getLogger(__name__)

TOKEN_ENV = "REST_CHANNEL_TOKEN"


def _bad_request(reason: str, status: int = 400) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether an Authorization header is `Bearer <token>`; constant time in the token."""
    scheme, _, supplied = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        supplied = ""
    return hmac.compare_digest(supplied.strip().encode("utf-8", "replace"), token.encode("utf-8"))


class CheckedRestInput(RestInput):
    def __init__(self, token: str | None = None, guard: FloodGuard | None = None) -> None:
        super().__init__()
        self.locks = SenderLocks()
        self.guard = guard or FloodGuard.from_env()
        self.token = (os.environ.get(TOKEN_ENV, "") if token is None else token).strip()
        if not self.token:
            logger.warning("%s is not set: the REST channel answers 503 to every message", TOKEN_ENV)

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> CheckedRestInput:
        startup.apply()  # Rasa builds the channel at server start: our changes to Rasa, if not applied yet
        return cls()  # the token comes from the environment, never from credentials.yml

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
            if not self.token:
                return _bad_request(f"El canal REST no está habilitado en este servidor (falta {TOKEN_ENV}).", 503)
            if not bearer_matches(request.headers.get("authorization"), self.token):
                return response.json({"error": "Se requiere 'Authorization: Bearer <token>' válido."}, status=401,
                                     headers={"WWW-Authenticate": "Bearer"})
            try:
                body = request.json
            except InvalidUsage:
                return _bad_request("El cuerpo de la solicitud no es JSON válido.")
            if not isinstance(body, dict):
                return _bad_request("Se espera un objeto JSON con 'sender' y 'message'.")
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
                return _bad_request("'sender' es obligatorio: 1 a 128 letras, números o . _ - + @")
            if not isinstance(text, str):
                return _bad_request("'message' es obligatorio y debe ser texto.")
            if len(text) > MAX_MESSAGE_CHARS:
                return _bad_request(f"El mensaje es demasiado largo (máximo {MAX_MESSAGE_CHARS} caracteres).", 413)
            if not is_readable(text):
                return response.json([{"recipient_id": sender, "text": UNREADABLE}])
            # A client sends a button's payload as the message (Rasa's REST contract), but never one
            # of Rasa's own intents: `/restart` would take a paused conversation from its advisor.
            text = without_default_intents(text)
            # Flood limits per sender and per client address, before the message costs Rasa anything.
            verdict = self.guard.check(sender, self.guard.address(request.ip, request.headers.get("x-forwarded-for")))
            if not verdict.allowed:
                return response.json({"error": TOO_MANY, "retry_after": verdict.retry_after_header}, status=429,
                                     headers={"Retry-After": verdict.retry_after_header})

            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender, input_channel=self.name())  # client metadata: ignored
            async with self.locks.hold(sender):  # a burst is answered in order, without lock polling
                answered = await run_turn(request.app, on_new_message, message, lambda: bool(collector.messages))
            if not answered:  # what was collected still goes out, then the apology, never silence
                collector.messages.append({"recipient_id": sender, "text": technical_problem()})
            return response.json(collector.messages)

        return webhook

"""The web widget's channel: socket.io at /socket.io, the widget and its demo page under /webhooks/web/.

Routes (blueprint prefix /webhooks/web):
  GET /webhooks/web/            health
  GET /webhooks/web/widget.js   the widget (one <script> tag; see README, "Web widget")
  GET /webhooks/web/widget.css  its styles (loaded by widget.js into its shadow root)
  GET /webhooks/web/demo        a page of the portal with the widget

Socket.IO events (namespace "/"):
  client → server  session_request {"token"?}   user_uttered {"message"} or {"ref", "title"}
  server → client  session_confirm {"session_id", "token"}   history {"messages"}   bot_uttered
                   {"text", "buttons"?: [{"title", "ref"}], "from"?}   user_echo   turn_end   notice {"text"}

Unlike Rasa's SocketIOInput, the conversation never comes from what the client says: the server
binds each socket to the session of a verified token (bot/rasa/channels/web_session.py) and takes the
sender from that binding ("web:<uuid>"). Buttons carry short references resolved in
ChannelState; typed text is neutralised. Rasa's connector also calls the coroutine
`enter_room` without awaiting it (python-socketio 5.18), so its rooms stay empty and API pushes
reach nobody; here every socket of a session joins the session's room, which is where
`get_output_channel()` sends.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer
from socketio.exceptions import ConnectionRefusedError as SocketRefused

from bot.logsafe import masked
from bot.rasa import startup
from bot.rasa.channels.checks import MAX_MESSAGE_CHARS, UNREADABLE, is_readable, neutralize
from bot.rasa.channels.conversation import agent_of
from bot.rasa.channels.limits import TOO_MANY, TOO_MANY_CONNECTIONS, FloodGuard
from bot.rasa.channels.serial import SenderLocks
from bot.rasa.channels.state import ChannelState
from bot.rasa.channels.turns import run_turn, technical_problem
from bot.rasa.channels.web_session import (
    SessionTokens,
    advisor_name,
    history_messages,
    is_advisor,
    origin_policy,
    sender_for,
    session_secret,
)

logger = logging.getLogger(__name__)
REDIS_URL_ENV = "WEB_SOCKETIO_REDIS_URL"
REDIS_CHANNEL = "infomigra-web"
# Sent by action_erase_my_data (actions/voz_del_migrante.py) after an erasure on this channel.
FORGET_SESSION = {"infomigra": "forget_session"}

WEBCHAT = Path(__file__).resolve().parent / "webchat"
# An Engine.IO packet larger than this closes that socket (python-engineio checks it).
MAX_PACKET_BYTES = 64 * 1024
MAX_TITLE_CHARS = 120
MAX_REF_CHARS = 64

TOO_LONG = f"Tu mensaje es demasiado largo. Escríbelo en menos de {MAX_MESSAGE_CHARS} caracteres, por favor."
NO_SESSION = "Tu sesión no está lista. Espera un momento o recarga la página."
STALE_BUTTON = "Ese botón ya no está disponible. Escribe tu pregunta o escribe «menú»."
NO_COMMANDS = ("En este chat no se usan comandos con «/». Escríbeme tu pregunta con palabras, por ejemplo: "
               "«¿qué necesito para trabajar en Chile?» o «quiero hablar con un asesor».")
# What Rasa would read as an intent with entities ("/pedir_asesor", '/informar_pais{"country": "x"}'). Such
# a message is answered without running the assistant: neutralised, "pedir_asesor" would still be
# read by the NLU as a request for an advisor. Other text starting with "/" is neutralised.
INTENT_SHAPED = re.compile(r"^\s*/+\s*[A-Za-z_][\w\-]*\s*(\{.*\})?\s*$", re.S)
FAILED = "No pude procesar tu mensaje por un problema técnico. Inténtalo de nuevo en unos minutos."


class WebOutput(OutputChannel):
    """Sends to every open widget of a conversation (the room named after the sender id)."""

    @classmethod
    def name(cls) -> str:
        return "web"

    def __init__(self, sio: AsyncServer, state: ChannelState, event: str = "bot_uttered") -> None:
        self.sio = sio
        self.state = state
        self.event = event

    @staticmethod
    def _message(text: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"text": text or ""}
        if is_advisor(kwargs):
            message["from"] = "advisor"
            if advisor_name(kwargs):
                message["name"] = advisor_name(kwargs)
        return message

    async def _emit(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.sio.emit(self.event, message, room=recipient_id)

    async def offer(self, recipient_id: str, buttons: Any) -> list[dict[str, str]]:
        """Remember the buttons and give the widget one reference per button, never a payload."""
        valid = [b for b in buttons or [] if isinstance(b, dict) and b.get("title") and b.get("payload")]
        refs = await self.state.offer(recipient_id, valid)
        return [{"title": str(b["title"]), "ref": ref} for b, ref in zip(valid, refs, strict=True)]

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._emit(recipient_id, self._message(text, kwargs))

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        message = self._message(text, kwargs)
        message["buttons"] = await self.offer(recipient_id, buttons)
        await self._emit(recipient_id, message)

    async def send_quick_replies(self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]],
                                 **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        if isinstance(image, str) and image.startswith("https://"):
            await self._emit(recipient_id, {"text": f"Imagen: {image}"})

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:  # type: ignore[override]
        url = attachment if isinstance(attachment, str) else (attachment or {}).get("payload", {}).get("src") \
            if isinstance(attachment, dict) and isinstance(attachment.get("payload"), dict) else None
        if isinstance(url, str) and url.startswith("https://"):
            await self._emit(recipient_id, {"text": f"Archivo: {url}"})

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        if json_message == FORGET_SESSION:  # "borrar mis datos": the browser drops the conversation's token
            await self.sio.emit("session_forget", {}, room=recipient_id)
            return
        logger.debug("web: custom JSON for %s not shown by the widget", masked(recipient_id))

    async def send_elements(self, recipient_id: str, elements: Any, **kwargs: Any) -> None:
        logger.debug("web: elements for %s not shown by the widget", masked(recipient_id))


def client_manager(env: dict[str, str] | None = None) -> AsyncRedisManager | None:
    """With several Rasa replicas, a message for a web session (an advisor's reply through Rasa's HTTP API,
    the echo to the person's other tabs) may be emitted by a replica that does not hold the person's socket:
    with WEB_SOCKETIO_REDIS_URL set, every replica publishes its emits on Redis and each delivers them to
    its own sockets (python-socketio's Redis manager). Unset (one process): emits stay in this process."""
    url = (os.environ if env is None else env).get(REDIS_URL_ENV, "").strip()
    if not url:
        return None
    return AsyncRedisManager(url, channel=REDIS_CHANNEL)


class _Server(AsyncServer):
    """python-socketio logs a traceback for every undecodable packet ("42garbage", "42[]"); this drops
    such a packet with one line instead (the handlers themselves run as tasks and log their own errors)."""

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, TypeError, IndexError, KeyError, AttributeError) as error:
            logger.info("web: malformed socket.io packet dropped: %s", type(error).__name__)


def _read(name: str) -> bytes:
    return (WEBCHAT / name).read_bytes()


def _csp_for(page: bytes) -> str:
    """A strict Content-Security-Policy for the demo page: its inline script and style by hash."""
    def hashes(tag: bytes) -> str:
        blocks = re.findall(rb"<" + tag + rb">(.*?)</" + tag + rb">", page, flags=re.S)
        return " ".join("'sha256-" + base64.b64encode(hashlib.sha256(b).digest()).decode() + "'" for b in blocks)

    return (f"default-src 'none'; script-src 'self' {hashes(b'script')}; style-src 'self' {hashes(b'style')}; "
            "img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class _CountingWebOutput(WebOutput):
    """The output of one turn, counting what reached the widget."""

    sent = 0

    async def _emit(self, recipient_id: str, message: dict[str, Any]) -> None:
        await super()._emit(recipient_id, message)
        self.sent += 1


class WebInput(SocketIOInput):
    """The web widget's input channel (registered in credentials.yml as bot.rasa.channels.web.WebInput)."""

    @classmethod
    def name(cls) -> str:
        return "web"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebInput:
        startup.apply()  # Rasa builds the channel at server start: our changes to Rasa, if not applied yet
        credentials = credentials or {}
        return cls(secret=os.environ.get("WEB_SESSION_SECRET"), allowed_origins=os.environ.get("WEB_ALLOWED_ORIGINS"),
                   socketio_path=credentials.get("socketio_path", "/socket.io"))

    def __init__(self, secret: str | None = None, allowed_origins: str | None = None,
                 socketio_path: str = "/socket.io", state: ChannelState | None = None,
                 guard: FloodGuard | None = None) -> None:
        super().__init__(user_message_evt="user_uttered", bot_message_evt="bot_uttered", namespace=None,
                         session_persistence=True, socketio_path=socketio_path)
        self.tokens = SessionTokens(session_secret(secret))
        self.allowed_origins = origin_policy(allowed_origins)
        self.state = state or ChannelState()
        self.locks = SenderLocks()
        self._senders: dict[str, str] = {}  # socket id → "web:<uuid>", set only from a verified token
        # Flood limits (bot/rasa/channels/limits.py): messages per session and per client address, and
        # simultaneous connections per address; a socket's address is taken once, when it connects.
        self.guard = guard or FloodGuard.from_env()
        self._addresses: dict[str, str] = {}  # socket id → client address
        self._app: Sanic | None = None

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            logger.warning("web: the socket.io server is not running in this process; the message is not delivered")
            return None
        return WebOutput(self.sio, self.state, self.bot_message_evt)

    async def _history(self, output: WebOutput, sender: str) -> list[dict]:
        store = getattr(agent_of(self._app), "tracker_store", None)
        if store is None:
            return []
        try:
            tracker = await store.retrieve_full_tracker(sender)
            messages = history_messages(event.as_dict() for event in tracker.events) if tracker else []
            for message in messages:
                if message.get("buttons"):
                    message["buttons"] = await output.offer(sender, message["buttons"])
            return messages
        except Exception:  # the conversation goes on without its history
            logger.exception("web: history of %s could not be read", masked(sender))
            return []

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = _Server(async_mode="sanic", cors_allowed_origins=self.allowed_origins, client_manager=client_manager(),
                      max_http_buffer_size=MAX_PACKET_BYTES, logger=False, engineio_logger=False)
        self.sio = sio
        output = WebOutput(sio, self.state, self.bot_message_evt)
        bp = SocketBlueprint(sio, self.socketio_path, "infomigra_web", __name__)
        files = {name: _read(name) for name in ("widget.js", "widget.css", "demo.html")}
        demo_csp = _csp_for(files["demo.html"])

        @bp.listener("before_server_start")
        async def keep_app(app: Sanic, _loop: Any) -> None:
            self._app = app

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        def asset(name: str, content_type: str, **headers: str) -> HTTPResponse:
            return response.raw(files[name], content_type=content_type,
                                headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff",
                                         **headers})

        @bp.route("/widget.js", methods=["GET"])
        async def widget_js(_: Request) -> HTTPResponse:
            return asset("widget.js", "application/javascript; charset=utf-8")

        @bp.route("/widget.css", methods=["GET"])
        async def widget_css(_: Request) -> HTTPResponse:
            return asset("widget.css", "text/css; charset=utf-8")

        @bp.route("/demo", methods=["GET"])
        async def demo(_: Request) -> HTTPResponse:
            return asset("demo.html", "text/html; charset=utf-8", **{
                "Cache-Control": "no-cache", "Content-Security-Policy": demo_csp, "Referrer-Policy": "no-referrer"})

        async def notice(sid: str, text: str) -> None:
            await sio.emit("notice", {"text": text}, to=sid)

        @sio.on("connect")
        async def connect(sid: str, environ: dict, _auth: Any = None) -> bool:
            # python-engineio's Sanic driver writes REMOTE_ADDR as 127.0.0.1: the peer is on the request.
            request = environ.get("sanic.request")
            address = self.guard.address(getattr(request, "ip", None) or environ.get("REMOTE_ADDR"),
                                         environ.get("HTTP_X_FORWARDED_FOR"))
            if not self.guard.connect(address):
                logger.info("web: connection refused, %d widget connections already open from one address",
                            self.guard.open_connections(address))
                raise SocketRefused(TOO_MANY_CONNECTIONS)
            self._addresses[sid] = address
            return True

        @sio.on("disconnect")
        async def disconnect(sid: str, *_: Any) -> None:
            self._senders.pop(sid, None)
            address = self._addresses.pop(sid, None)
            if address is not None:
                self.guard.disconnect(address)

        @sio.on("session_request")
        async def session_request(sid: str, data: Any = None, *_: Any) -> None:
            token = data.get("token") if isinstance(data, dict) else None
            session_id = self.tokens.verify(token)
            if session_id is None:
                session_id, token = self.tokens.issue()
            sender = sender_for(session_id)
            previous = self._senders.get(sid)
            if previous and previous != sender:
                await sio.leave_room(sid, previous)
            self._senders[sid] = sender
            await sio.enter_room(sid, sender)
            await sio.emit("session_confirm", {"session_id": session_id, "token": token}, to=sid)
            await sio.emit("history", {"messages": await self._history(output, sender)}, to=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any = None, *_: Any) -> None:
            sender = self._senders.get(sid)  # never a session id from the client
            if sender is None:
                await notice(sid, NO_SESSION)
                await sio.emit("turn_end", {"error": "no_session"}, to=sid)
                return
            try:
                await self._handle(sid, sender, data, output, on_new_message)
            except Exception:
                logger.exception("web: message of %s failed", masked(sender))
                await notice(sid, FAILED)
            finally:
                await sio.emit("turn_end", {}, room=sender)

        return bp

    async def _handle(self, sid: str, sender: str, data: Any, output: WebOutput,
                      on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        sio = output.sio
        verdict = self.guard.check(sender, self._addresses.get(sid, "unknown"))
        if not verdict.allowed:  # dropped before Rasa; said once per spell of refused messages
            if verdict.notify:
                await sio.emit("notice", {"text": TOO_MANY}, to=sid)
            return
        if not isinstance(data, dict):
            await sio.emit("notice", {"text": UNREADABLE}, to=sid)
            return
        metadata: dict[str, Any] = {}
        ref = data.get("ref")
        if ref is not None:
            payload = await self.state.payload_for_ref(sender, ref) \
                if isinstance(ref, str) and 0 < len(ref) <= MAX_REF_CHARS else None
            if payload is None:
                await output.send_text_message(sender, STALE_BUTTON)
                return
            title = data.get("title")
            text = payload
            metadata["button_title"] = title.strip()[:MAX_TITLE_CHARS] if isinstance(title, str) and title.strip() \
                else "(botón)"
            shown = metadata["button_title"]
        else:
            message = data.get("message")
            if not isinstance(message, str):
                await sio.emit("notice", {"text": UNREADABLE}, to=sid)
                return
            if len(message) > MAX_MESSAGE_CHARS:
                await sio.emit("notice", {"text": TOO_LONG}, to=sid)
                return
            if not is_readable(message):
                await output.send_text_message(sender, UNREADABLE)
                return
            if INTENT_SHAPED.match(message):
                await output.send_text_message(sender, NO_COMMANDS)
                return
            text = neutralize(message)
            shown = message.strip()
        await sio.emit("user_echo", {"text": shown}, room=sender, skip_sid=sid)  # the person's other tabs
        await self.state.touch(sender, self.name())
        turn_output = _CountingWebOutput(output.sio, output.state, output.event)
        async with self.locks.hold(sender):
            message = UserMessage(text, turn_output, sender, input_channel=self.name(), metadata=metadata)
            if not await run_turn(self._app, on_new_message, message, lambda: turn_output.sent > 0):
                await output.send_text_message(sender, technical_problem())  # never silence (bot/rasa/channels/turns.py)

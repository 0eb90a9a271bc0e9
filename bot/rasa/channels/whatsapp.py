"""WhatsApp through Twilio (`/webhooks/whatsapp/webhook`).

Inbound: Twilio's form-encoded message webhook. Every request must carry a valid
`X-Twilio-Signature` for the exact public URL configured in Twilio (`TWILIO_WEBHOOK_URL`),
otherwise 403 and nothing is processed. Twilio gets an empty TwiML answer at once; the message is
handled in the background, one message per person at a time (bursts are answered in order), and
a MessageSid that Twilio delivers again is handled once.

Outbound: the official twilio client with its asynchronous HTTP client (`create_async`; nothing
blocks Rasa's event loop), against `TWILIO_API_BASE` (Twilio's API by default). The messages of
one turn are packed into WhatsApp messages of at most 1,600 characters, cut at paragraphs, then
sentences; buttons become a numbered list on the last one, and "2" or a button's title comes
back as that button's payload. A quick-reply button of a WhatsApp template (sent with `custom`
`{"content_sid": …}`) comes back as `ButtonPayload`, which must be a reference that
`ChannelState.offer` issued to that person. Typed text never carries a payload (`neutralize`).

Not text: voice notes, images, documents, stickers and locations get a helpful answer; they are
logged in the conversation with their media URLs and types in the message metadata
(`attachments`, `location`), so an advisor sees them after a handoff (and during one, when the
assistant stays silent). Metadata of every message: `{"whatsapp": {"message_sid", "profile_name",
"reply" (what the person typed when it answered a button)}, "attachments": [{"type", "content_type",
"url"}], "location": {"latitude", "longitude", "address", "label"}}`.

Opt-out: "BAJA", "STOP" and Twilio's other opt-out keywords stop every message to that number,
advisor pushes included, until the person writes again. The time of the person's last message is
recorded for WhatsApp's 24-hour rule (`ChannelState.touch`).

Environment: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER (`whatsapp:+E164`),
TWILIO_WEBHOOK_URL (the exact URL configured in Twilio), TWILIO_API_BASE (optional). Without
them the server starts, logs a warning, and the webhook answers 503.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.logsafe import masked, scrubbed
from bot.rasa import startup
from bot.rasa.channels.checks import MAX_MESSAGE_CHARS, UNREADABLE, is_readable, neutralize
from bot.rasa.channels.conversation import agent_of, is_paused
from bot.rasa.channels.limits import TOO_MANY, FloodGuard
from bot.rasa.channels.serial import SenderLocks
from bot.rasa.channels.turns import run_turn, technical_problem

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
DEFAULT_API_BASE = "https://api.twilio.com"
MAX_WHATSAPP_CHARS = 1600  # Twilio's limit for one message body
MAX_REQUEST_BYTES = 64 * 1024  # Twilio's requests are a few KB, even with ten media
MAX_FORM_FIELDS = 200
MAX_BUTTONS = 10
MAX_BUTTON_TITLE = 100
SEND_TIMEOUT = 15.0
WINDOW = dt.timedelta(hours=24)

FORM_TYPE = "application/x-www-form-urlencoded"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SENDER = re.compile(r"^whatsapp:\+[1-9]\d{5,14}$")
MESSAGE_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")

# Twilio's standard opt-out keywords plus the Spanish ones; only a message made of one of them
# counts ("STOP" does, "no me llegó, stop" does not), as in Twilio's own handling.
OPT_OUT_WORDS = frozenset({
    "baja", "darme de baja", "dar de baja", "darse de baja", "quiero darme de baja",
    "stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "optout", "opt out", "revoke",
})

REPLY_HINT = "Responde con el número de tu opción."
OPTED_OUT = ("Listo, no te enviaremos más mensajes por WhatsApp. Si más adelante necesitas información, "
             "escríbenos y te responderemos otra vez.")
ASK_IN_WORDS = "Escríbeme tu pregunta con palabras, por ejemplo: «¿qué necesito para trabajar en España?», o escribe «menú»."
HINTS = {
    "audio": ("Gracias por tu nota de voz. Por ahora solo puedo leer mensajes escritos. " + ASK_IN_WORDS
              + " Si prefieres que una persona escuche tu audio, escribe «asesor»."),
    "image": ("Recibí tu imagen, pero solo puedo leer mensajes escritos. " + ASK_IN_WORDS
              + " Si necesitas que una persona la revise, escribe «asesor»."),
    "video": ("Recibí tu video, pero solo puedo leer mensajes escritos. " + ASK_IN_WORDS
              + " Si necesitas que una persona lo vea, escribe «asesor»."),
    "document": ("Recibí tu documento, pero solo puedo leer mensajes escritos. Si necesitas que una persona lo revise, "
                 "escribe «asesor»: un asesor de INFOMIGRA podrá verlo cuando atienda tu consulta. Por tu seguridad, "
                 "no envíes fotos de tu pasaporte ni de otros documentos si nadie te lo ha pedido."),
    "sticker": "¡Gracias por el sticker! Solo puedo leer mensajes escritos. " + ASK_IN_WORDS,
    "contact": "Recibí un contacto, pero solo puedo leer mensajes escritos. " + ASK_IN_WORDS,
    "location": ("Gracias por compartir tu ubicación. Para responderte necesito que me lo digas con palabras: "
                 "en qué país estás o a cuál quieres ir, por ejemplo «estoy en Chile» o «quiero trabajar en Italia»."),
    "file": "Recibí tu archivo, pero solo puedo leer mensajes escritos. " + ASK_IN_WORDS,
}
# A file with a caption: the assistant answers the caption and says it did not see the file.
NAMES = {"audio": "nota de voz", "image": "imagen", "video": "video", "document": "documento", "sticker": "sticker",
         "contact": "contacto", "location": "ubicación", "file": "archivo"}
CAPTION_NOTE = ("Recibí tu {name}, pero solo puedo leer texto: te respondo a lo que escribiste. "
                "Si necesitas que una persona lo revise, escribe «asesor».")
# What the conversation shows (to an advisor) for a message without text.
PLACEHOLDERS = {
    "audio": "[Nota de voz]", "image": "[Imagen]", "video": "[Video]", "document": "[Documento]",
    "sticker": "[Sticker]", "contact": "[Contacto]", "location": "[Ubicación compartida]", "file": "[Archivo]",
}


# --- formatting (pure) ---------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_CLAUSE_END = re.compile(r"(?<=[:;,])\s+")


def _pieces(text: str, limit: int) -> list[str]:
    """Cut one paragraph into pieces of at most `limit`: at lines, sentences, clauses, spaces, then anywhere."""
    if len(text) <= limit:
        return [text]
    for splitter, joiner in ((lambda t: t.split("\n"), "\n"), (_SENTENCE_END.split, " "), (_CLAUSE_END.split, " ")):
        parts = [p.strip() for p in splitter(text) if p.strip()]
        if len(parts) > 1:
            return _pack([piece for part in parts for piece in _pieces(part, limit)], limit, joiner)
    cut = text.rfind(" ", 0, limit + 1)
    cut = cut if cut > 0 else limit
    return [text[:cut].rstrip(), *_pieces(text[cut:].lstrip(), limit)]


def _pack(pieces: list[str], limit: int, joiner: str) -> list[str]:
    packed: list[str] = []
    for piece in pieces:
        if packed and len(packed[-1]) + len(joiner) + len(piece) <= limit:
            packed[-1] += joiner + piece
        else:
            packed.append(piece)
    return packed


def split_text(text: str, limit: int = MAX_WHATSAPP_CHARS) -> list[str]:
    """Messages of at most `limit` characters, cut at blank lines when possible, then at lines,
    sentences and spaces, and packed back together paragraph by paragraph."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return _pack([piece for p in paragraphs for piece in _pieces(p, limit)], limit, "\n\n")


def _one_line(text: Any, limit: int) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def button_list(buttons: list[dict]) -> str:
    """Buttons as a short numbered list (WhatsApp free-form messages have no buttons)."""
    lines = [f"{i}. {_one_line(b.get('title'), MAX_BUTTON_TITLE)}" for i, b in enumerate(buttons, 1)]
    return "\n".join([*lines, REPLY_HINT])


@dataclass
class Outbound:
    """One WhatsApp message to create through Twilio's Messages API."""

    body: str = ""
    media_url: list[str] = field(default_factory=list)
    content_sid: str | None = None
    content_variables: str | None = None
    buttons: list[dict] = field(default_factory=list)  # offered with this message (numbered in its body)


def render(messages: Iterable[dict], limit: int = MAX_WHATSAPP_CHARS) -> list[Outbound]:
    """The bot messages of one turn as WhatsApp messages: texts packed and split at `limit`,
    images and templates in place, and every button of the turn as one numbered list on the
    last text (so "2" always means the same thing)."""
    out: list[Outbound] = []
    texts: list[str] = []
    buttons: list[dict] = []

    def flush() -> None:
        if texts:
            out.extend(Outbound(body=part) for part in split_text("\n\n".join(texts), limit))
            texts.clear()

    for message in messages:
        text = str(message.get("text") or "").strip()
        if text:
            texts.append(text)
        for key in ("buttons", "quick_replies"):
            buttons.extend(b for b in message.get(key) or [] if isinstance(b, dict) and b.get("payload"))
        for element in message.get("elements") or []:
            if isinstance(element, dict):
                texts.append("\n".join(str(element.get(k)) for k in ("title", "subtitle") if element.get(k)))
                buttons.extend(b for b in element.get("buttons") or [] if isinstance(b, dict) and b.get("payload"))
        if message.get("attachment"):
            texts.append(str(message["attachment"]))
        custom = message.get("custom")
        if isinstance(custom, dict) and (custom.get("content_sid") or custom.get("media_url") or custom.get("body")):
            flush()
            out.append(_custom(custom))
        if message.get("image"):
            flush()
            out.append(Outbound(media_url=[str(message["image"])]))

    unique: dict[str, dict] = {}
    for b in buttons:
        unique.setdefault(str(b["payload"]), b)
    offered = list(unique.values())[:MAX_BUTTONS]
    if offered:
        block = button_list(offered)
        if texts:
            last = split_text("\n\n".join(texts), limit)
            texts.clear()
            out.extend(Outbound(body=part) for part in last[:-1])
            if len(last[-1]) + 2 + len(block) <= limit:
                out.append(Outbound(body=last[-1] + "\n\n" + block, buttons=offered))
            else:
                out.extend([Outbound(body=last[-1]), Outbound(body=block, buttons=offered)])
        else:
            out.append(Outbound(body=block, buttons=offered))
    flush()
    return out


def _custom(custom: dict) -> Outbound:
    """A custom bot message: `{"content_sid": "HX…", "content_variables": {...}}` (a WhatsApp
    template, for answers outside the 24-hour window), or `{"body": …, "media_url": [...]}`."""
    variables = custom.get("content_variables")
    if isinstance(variables, dict):
        variables = json.dumps(variables, ensure_ascii=False)
    media = custom.get("media_url") or []
    return Outbound(body=str(custom.get("body") or "")[:MAX_WHATSAPP_CHARS],
                    media_url=[str(m) for m in (media if isinstance(media, list) else [media])][:10],
                    content_sid=str(custom["content_sid"]) if custom.get("content_sid") else None,
                    content_variables=str(variables) if variables else None)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def is_opt_out(text: str) -> bool:
    return _fold(text) in OPT_OUT_WORDS


def media_kind(content_type: str) -> str:
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type.startswith("audio/"):
        return "audio"
    if content_type == "image/webp":  # WhatsApp stickers
        return "sticker"
    if content_type.startswith("image/"):
        return "image"
    if content_type.startswith("video/"):
        return "video"
    if content_type in ("text/vcard", "text/x-vcard"):
        return "contact"
    if content_type.startswith(("application/", "text/")):
        return "document"
    return "file"


# --- inbound -------------------------------------------------------------------------------------

class _Form(dict):
    """Parsed form fields (name -> list of values) in the shape RequestValidator reads."""

    def getlist(self, name: str) -> list[str]:
        return self[name]

    def first(self, name: str, default: str = "") -> str:
        values = self.get(name)
        return values[0] if values else default


def parse_form(body: bytes) -> _Form:
    """Twilio's body, keeping empty values: they are part of the signature (sanic's own
    `request.form` drops them, so an image without caption would fail validation)."""
    text = body.decode("utf-8")
    return _Form(parse_qs(text, keep_blank_values=True, strict_parsing=False, encoding="utf-8", errors="strict",
                          max_num_fields=MAX_FORM_FIELDS))


@dataclass
class Inbound:
    sender: str
    sid: str
    body: str
    profile_name: str
    attachments: list[dict]
    location: dict | None
    button_payload: str
    button_text: str

    @classmethod
    def from_form(cls, form: _Form) -> Inbound:
        sender = form.first("From")
        if not SENDER.match(sender):
            raise ValueError("'From' debe ser un número de WhatsApp (whatsapp:+E164).")
        sid = form.first("MessageSid") or form.first("SmsMessageSid")
        if not MESSAGE_SID.match(sid):
            raise ValueError("'MessageSid' falta o no es válido.")
        try:
            num_media = int(form.first("NumMedia", "0") or "0")
        except ValueError:
            raise ValueError("'NumMedia' debe ser un número.") from None
        if not 0 <= num_media <= 10:
            raise ValueError("'NumMedia' fuera de rango.")
        attachments = []
        for i in range(num_media):
            content_type = form.first(f"MediaContentType{i}")
            attachments.append({"type": media_kind(content_type), "content_type": content_type,
                                "url": form.first(f"MediaUrl{i}")})
        location = None
        if form.first("Latitude") and form.first("Longitude"):
            try:
                lat, lon = float(form.first("Latitude")), float(form.first("Longitude"))
            except ValueError:
                raise ValueError("'Latitude' y 'Longitude' deben ser números.") from None
            location = {"latitude": lat, "longitude": lon}
            location.update({k.lower(): form.first(k) for k in ("Address", "Label") if form.first(k)})
        return cls(sender=sender, sid=sid, body=form.first("Body"),
                   profile_name=form.first("ProfileName")[:200], attachments=attachments, location=location,
                   button_payload=form.first("ButtonPayload")[:256], button_text=form.first("ButtonText")[:256])

    def kind(self) -> str | None:
        """What a message without usable text is: the first attachment's kind, or a location."""
        if self.attachments:
            return self.attachments[0]["type"]
        return "location" if self.location else None

    def metadata(self) -> dict:
        data: dict[str, Any] = {"whatsapp": {"message_sid": self.sid}}
        if self.profile_name:
            data["whatsapp"]["profile_name"] = self.profile_name
        if self.attachments:
            data["attachments"] = self.attachments
        if self.location:
            data["location"] = self.location
        return data


class _Collector(OutputChannel):
    """Keeps the bot messages of one turn, to be sent together once the turn is over."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.messages.append(dict(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.messages.append({"text": text})


def _error(reason: str, status: int) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


class WhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppInput:
        startup.apply()  # Rasa builds the channel at server start: our changes to Rasa, if not applied yet
        env = os.environ
        return cls(
            account_sid=env.get("TWILIO_ACCOUNT_SID", "").strip(),
            auth_token=env.get("TWILIO_AUTH_TOKEN", "").strip(),
            number=env.get("TWILIO_WHATSAPP_NUMBER", "").strip(),
            webhook_url=env.get("TWILIO_WEBHOOK_URL", "").strip(),
            api_base=env.get("TWILIO_API_BASE", "").strip() or DEFAULT_API_BASE,
        )

    def __init__(self, account_sid: str, auth_token: str, number: str, webhook_url: str,
                 api_base: str = DEFAULT_API_BASE) -> None:
        self.account_sid, self.auth_token, self.number = account_sid, auth_token, number
        self.webhook_url, self.api_base = webhook_url, api_base.rstrip("/")
        missing = [name for name, value in (("TWILIO_ACCOUNT_SID", account_sid), ("TWILIO_AUTH_TOKEN", auth_token),
                                            ("TWILIO_WHATSAPP_NUMBER", number), ("TWILIO_WEBHOOK_URL", webhook_url))
                   if not value]
        if number and not SENDER.match(number):
            missing.append("TWILIO_WHATSAPP_NUMBER (whatsapp:+E164)")
        self.missing = missing
        if missing:
            logger.warning("WhatsApp channel disabled (missing or invalid: %s); its webhook answers 503.", ", ".join(missing))
        self.locks = SenderLocks()
        # Flood limits per number (bot/rasa/channels/limits.py); every request comes from Twilio, so no address.
        self.guard = FloodGuard.from_env()
        self._state: Any = None
        self._twilio: Any = None
        self._http: Any = None
        self._validator: Any = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def configured(self) -> bool:
        return not self.missing

    @property
    def state(self) -> Any:
        if self._state is None:
            from bot.rasa.channels.state import ChannelState

            self._state = ChannelState()
        return self._state

    def _valid_signature(self, form: _Form, signature: str) -> bool:
        if self._validator is None:
            from twilio.request_validator import RequestValidator

            self._validator = RequestValidator(self.auth_token)
        return bool(signature) and self._validator.validate(self.webhook_url, form, signature)

    def _client(self) -> Any:
        """The official twilio client on its asyncio HTTP client, created inside the running loop."""
        if self._twilio is None:
            from twilio.http.async_http_client import AsyncTwilioHttpClient
            from twilio.rest import Client

            http_logger = logging.getLogger(f"{__name__}.twilio_http")  # requests carry phone numbers and texts
            http_logger.setLevel(logging.WARNING)
            self._http = AsyncTwilioHttpClient(timeout=SEND_TIMEOUT, logger=http_logger)
            client = Client(self.account_sid, self.auth_token, http_client=self._http)
            client.api.base_url = self.api_base
            self._twilio = client
        return self._twilio

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        if self._http is not None:
            await self._http.close()
            self._http = self._twilio = None

    # --- the webhook ---------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("infomigra_whatsapp", __name__)

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.close()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if not self.configured:
                return _error(f"El canal de WhatsApp no está configurado: falta {', '.join(self.missing)}.", 503)
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.configured:
                return _error(f"El canal de WhatsApp no está configurado: falta {', '.join(self.missing)}.", 503)
            content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            if content_type != FORM_TYPE:
                return _error(f"Se espera un formulario ({FORM_TYPE}).", 415)
            body = request.body or b""
            if len(body) > MAX_REQUEST_BYTES:
                return _error("La solicitud es demasiado grande.", 413)
            try:
                form = parse_form(body)
            except (UnicodeDecodeError, ValueError):
                return _error("El formulario no es válido.", 400)
            if not self._valid_signature(form, request.headers.get("X-Twilio-Signature", "")):
                logger.warning("WhatsApp webhook: missing or invalid X-Twilio-Signature from %s", request.remote_addr or request.ip)
                return _error("Firma de Twilio ausente o inválida.", 403)
            if form.first("AccountSid") and form.first("AccountSid") != self.account_sid:
                return _error("La solicitud es de otra cuenta de Twilio.", 403)
            if form.first("MessageStatus") or form.first("From") == self.number:
                # A status callback (or our own message) sent to this URL by mistake: not a message.
                logger.info("WhatsApp webhook: status callback or own message ignored (%s)", form.first("MessageStatus"))
                return response.text(EMPTY_TWIML, content_type="text/xml")
            try:
                inbound = Inbound.from_form(form)
            except ValueError as e:
                return _error(str(e), 400)
            # Over the flood limit the message never reaches Rasa (an opt-out always does); the person is
            # told once per spell of refused messages.
            opting_out = is_opt_out(inbound.body.strip()) and inbound.kind() is None
            verdict = self.guard.check(inbound.sender) if not opting_out else None
            if verdict is not None and not verdict.allowed:
                if verdict.notify:
                    self._in_background(self._say_too_many(inbound.sender))
                return response.text(EMPTY_TWIML, content_type="text/xml")
            # Answer Twilio now; the message is handled in the background. Creating the task before
            # any await keeps the arrival order: each task queues on its sender's lock first.
            self._in_background(self._process(inbound, on_new_message, request.app))
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return webhook

    def _in_background(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _say_too_many(self, sender: str) -> None:
        try:
            if not await WhatsAppOutput(self).deliver(sender, [{"text": TOO_MANY}], reply=True):
                logger.warning("WhatsApp %s: the flood notice was not accepted by Twilio", masked(sender))
        except Exception:
            logger.exception("WhatsApp %s: the flood notice could not be sent", masked(sender))

    async def _process(self, inbound: Inbound, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                       app: Any) -> None:
        """Twilio already has its 200 (it retries only when it cannot connect, and sends other failures to
        the fallback URL), so a message that fails here is answered with an apology, never dropped; it is
        recorded as seen only once handled, so a redelivery of a failed one is handled again."""
        key = f"twilio:{inbound.sid}"
        async with self.locks.hold(inbound.sender):  # a redelivery of a message being handled waits here
            try:
                if await self.state.seen(key):
                    logger.info("WhatsApp message %s already processed; Twilio retry ignored", inbound.sid)
                    return
            except Exception:  # the database is down: answering twice is better than never
                logger.exception("Could not check WhatsApp message %s", inbound.sid)
            try:
                await self._handle(inbound, on_new_message, app)
            except Exception:
                logger.exception("WhatsApp message %s from %s failed", inbound.sid, masked(inbound.sender))
                await self._apologize(inbound.sender)
                return
            try:
                await self.state.mark_seen(key)
            except Exception:
                logger.exception("WhatsApp message %s handled but not recorded", inbound.sid)

    async def _apologize(self, sender: str) -> None:
        try:
            if not await WhatsAppOutput(self).deliver(sender, [{"text": technical_problem()}], reply=True):
                logger.error("WhatsApp %s could not be told of the failure either", masked(sender))
        except Exception:
            logger.exception("WhatsApp %s could not be told of the failure either", masked(sender))

    async def _handle(self, inbound: Inbound, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                      app: Any) -> None:
        sender, text = inbound.sender, inbound.body.strip()[:MAX_MESSAGE_CHARS]
        output = WhatsAppOutput(self)
        if is_opt_out(text) and inbound.kind() is None:
            await self.state.touch(sender, CHANNEL, opted_out=True)
            logger.info("WhatsApp %s opted out", masked(sender))
            await output.deliver(sender, [{"text": OPTED_OUT}], reply=True)
            return
        metadata = inbound.metadata()
        collector = _Collector()

        def user_message(message_text: str) -> UserMessage:
            return UserMessage(message_text, collector, sender, input_channel=CHANNEL, message_id=inbound.sid,
                               metadata=metadata)

        # Writing again re-subscribes; the time of this message starts a new 24-hour window.
        _, payload = await asyncio.gather(self.state.touch(sender, CHANNEL, opted_out=False), self._payload(inbound, text))
        async def turn(message_text: str) -> None:
            """Rasa's turn; an apology instead of silence when it failed (bot/rasa/channels/turns.py)."""
            if not await run_turn(app, on_new_message, user_message(message_text), lambda: bool(collector.messages)):
                collector.messages.append({"text": technical_problem()})

        if payload:
            metadata["whatsapp"]["reply"] = inbound.button_text or text  # what the person chose, as they saw it
            await turn(payload)
            await output.deliver(sender, collector.messages, reply=True)
            return
        if text and is_readable(text):
            await turn(neutralize(text))
            messages = collector.messages
            kind = inbound.kind()
            if messages and kind:  # the assistant answered the caption: say it did not see the file
                messages = [{"text": CAPTION_NOTE.format(name=NAMES[kind])}, *messages]
            await output.deliver(sender, messages, reply=True)
            return
        # No words: media, a location, or only emoji. Log it in the conversation (the advisor sees it)
        # and, unless an advisor has the conversation, answer with a hint.
        kind = inbound.kind()
        logged = neutralize(text) or PLACEHOLDERS.get(kind or "", "[Mensaje sin texto]")
        paused = await self._log(app, user_message(logged), on_new_message)
        hint = HINTS[kind] if kind else UNREADABLE
        await output.deliver(sender, collector.messages + ([] if paused else [{"text": hint}]), reply=True)

    async def _payload(self, inbound: Inbound, text: str) -> str | None:
        """The payload of a button the assistant offered to this person: a quick-reply template
        button (ButtonPayload = the reference it was given), a number of the latest list, or a title."""
        if inbound.button_payload:
            payload = await self.state.payload_for_ref(inbound.sender, inbound.button_payload)
            if payload:
                return payload
        reply = inbound.button_text or text
        if reply and len(reply) <= 2 * MAX_BUTTON_TITLE:
            return await self.state.payload_for_reply(inbound.sender, reply)
        return None

    async def _log(self, app: Any, message: UserMessage,
                   on_new_message: Callable[[UserMessage], Awaitable[Any]] | None = None) -> bool:
        """Append the message to the conversation without a bot turn; True if it is paused
        (an advisor has it). While paused it goes through Rasa's message handling instead, whose
        slot extraction hands it to the advisor (actions/handoff.py); Rasa answers nothing then."""
        agent = agent_of(app)
        if agent is None or getattr(agent, "processor", None) is None:
            return False
        try:
            if on_new_message is not None and await is_paused(app, message.sender_id):
                await on_new_message(message)
                return True
            async with agent.lock_store.lock(message.sender_id):
                tracker = await agent.log_message(message)
            return bool(tracker.is_paused())
        except Exception:
            logger.exception("Could not log a WhatsApp message without text for %s", masked(message.sender_id))
            return False

    def get_output_channel(self) -> OutputChannel:
        """For pushes through Rasa's HTTP API (the advisor desk): a message Twilio did not accept raises,
        so Rasa answers an error and the desk records it as not delivered."""
        return WhatsAppOutput(self, raise_errors=True)


class WhatsAppOutput(OutputChannel):
    """Sends to a WhatsApp number through Twilio; used for replies and for pushes through Rasa's
    HTTP API (`output_channel=latest`, the advisor desk)."""

    def __init__(self, channel: WhatsAppInput, raise_errors: bool = False) -> None:
        self.channel = channel
        self.raise_errors = raise_errors

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.deliver(recipient_id, [dict(message)])

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.deliver(recipient_id, [{"text": text}])

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        await self.deliver(recipient_id, [{"text": text, "buttons": buttons}])

    async def send_quick_replies(self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]],
                                 **kwargs: Any) -> None:
        await self.deliver(recipient_id, [{"text": text, "buttons": quick_replies}])

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.deliver(recipient_id, [{"image": image}])

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self.deliver(recipient_id, [{"attachment": attachment}])

    async def send_elements(self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any) -> None:
        await self.deliver(recipient_id, [{"elements": list(elements)}])

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        await self.deliver(recipient_id, [{"custom": json_message}])

    async def deliver(self, recipient_id: str, messages: list[dict], reply: bool = False) -> list[str]:
        """Send the bot messages of one turn; returns the Twilio sids of what was accepted.
        `reply`: an answer to the message the person just sent (so they are within the 24-hour
        window and not opted out, or this is the confirmation of their opt-out); anything else
        (advisor pushes, reminders) is checked against the person's opt-out and last message."""
        channel = self.channel
        parts = render(messages)
        if not parts:
            return []
        if not channel.configured:
            return self._not_sent(f"channel not configured: {len(parts)} message(s) to {masked(recipient_id)} dropped")
        if not SENDER.match(recipient_id):
            return self._not_sent(f"not a WhatsApp sender id, nothing sent: {masked(recipient_id)}")
        if not reply:
            contact = await channel.state.contact(recipient_id)
            if contact and contact["opted_out"]:
                return self._not_sent(f"{masked(recipient_id)} opted out: {len(parts)} message(s) not sent", logging.INFO)
            last = contact and contact.get("last_inbound_at")
            outside = not last or dt.datetime.now(dt.timezone.utc) - last > WINDOW
            if outside and any(p.content_sid is None for p in parts):
                logger.warning("WhatsApp %s wrote more than 24 hours ago (or never): free-form text will be refused "
                               "by WhatsApp (Twilio error 63016); use a template (content_sid)", masked(recipient_id))
        sids = []
        for part in parts:
            if part.buttons:  # remembered before sending, so an immediate "2" already maps back
                await channel.state.offer(recipient_id, part.buttons)
            sid = await self._create(recipient_id, part)
            if sid:
                sids.append(sid)
        if self.raise_errors and len(sids) < len(parts):
            raise RuntimeError(f"WhatsApp: {len(parts) - len(sids)} of {len(parts)} message(s) to "
                               f"{masked(recipient_id)} not accepted by Twilio")
        return sids

    def _not_sent(self, reason: str, level: int = logging.WARNING) -> list[str]:
        if self.raise_errors:
            raise RuntimeError(f"WhatsApp: {reason}")
        logger.log(level, "WhatsApp: %s", reason)
        return []

    async def _create(self, recipient_id: str, part: Outbound) -> str | None:
        from twilio.base.exceptions import TwilioRestException

        channel = self.channel
        params: dict[str, Any] = {"to": recipient_id, "from_": channel.number}
        if part.content_sid:
            params["content_sid"] = part.content_sid
            if part.content_variables:
                params["content_variables"] = part.content_variables
        if part.body:
            params["body"] = part.body
        if part.media_url:
            params["media_url"] = part.media_url
        for attempt in (1, 2):
            try:
                client = channel._client()
                message = await asyncio.wait_for(client.messages.create_async(**params), SEND_TIMEOUT)
                return message.sid
            except TwilioRestException as e:
                if e.status in (429, 503) and attempt == 1:  # not accepted: safe to try once more
                    await asyncio.sleep(1.0)
                    continue
                logger.error("Twilio refused a WhatsApp message to %s: HTTP %s, code %s: %s",
                             masked(recipient_id), e.status, e.code, scrubbed(e.msg, recipient_id))
                return None
            except (asyncio.TimeoutError, OSError) as e:
                logger.error("Twilio unreachable sending to %s: %r", masked(recipient_id), e)
                return None
            except Exception:  # aiohttp errors and anything unexpected: never break the turn
                logger.exception("Sending a WhatsApp message to %s failed", masked(recipient_id))
                return None
        return None

"""Telegram channel (`/webhooks/telegram/webhook`) through python-telegram-bot's `Bot`.

Rasa's own Telegram connector (aiogram 2.15) cannot set a webhook secret, treats edited messages
as new ones, lets button payloads and typed `/intent{...}` text through, and crashes with
`asyncio.run` when the HTTP API pushes a message (an advisor's reply). This one:

- accepts an update only with the secret token Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`
  (compared in constant time; 403 otherwise) and parses it with `Update.de_json`;
- processes each `update_id` once, one update per chat at a time;
- answers private chats only: groups, supergroups and channels get one polite message and the bot
  leaves them;
- maps our commands (/start, /menu, /ayuda, /asesor, /sugerencia, /privacidad) to intents; any
  other command ("/pedir_asesor{...}") gets the list of commands and never reaches the NLU, and
  other text starting with "/" is neutralised; only inline buttons it issued carry payloads,
  and their `callback_data` is a short reference resolved through ChannelState;
- answers voice notes, photos, stickers, documents, locations and edited messages with a hint;
- sends with parse mode HTML (text escaped), split at Telegram's 4,096 characters, buttons as an
  inline keyboard on the last part, without link previews;
- implements `get_output_channel()` without any network set-up, so pushes through the HTTP API
  reach the person (a failed push raises, so the caller learns it was not delivered).

Environment: TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET (required), TELEGRAM_API_BASE (default
https://api.telegram.org/bot), TELEGRAM_WEBHOOK_URL (used by `python -m bot.rasa.channels.telegram_webhook`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, Chat, ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import RetryAfter, TelegramError

from bot.logsafe import masked
from bot.rasa import startup
from bot.rasa.channels.checks import MAX_MESSAGE_CHARS, UNREADABLE, is_readable, neutralize
from bot.rasa.channels.conversation import is_paused
from bot.rasa.channels.limits import TOO_MANY, FloodGuard
from bot.rasa.channels.serial import SenderLocks
from bot.rasa.channels.state import ChannelState
from bot.rasa.channels.telegram_webhook import (
    CALLBACK_DATA_LIMIT,
    TelegramConfig,
    command_payload,
    escape,
    looks_like_command,
    make_bot,
    split_message,
    unknown_command_answer,
)
from bot.rasa.channels.turns import run_turn, technical_problem

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 256 * 1024  # a real update is a few kilobytes
MAX_RETRY_WAIT = 5.0  # seconds we wait once when Telegram asks us to slow down

EDITED = ("Vi que editaste un mensaje, pero no puedo leer las ediciones. Escríbeme tu pregunta de nuevo "
          "en un mensaje nuevo, por favor.")
NON_TEXT = ("Recibí {what}, pero por ahora solo puedo leer mensajes de texto. Escríbeme tu pregunta con "
            "palabras, por ejemplo: «¿qué necesito para trabajar en España?», o usa /menu para ver los temas.")
STALE_BUTTON = "Esa opción ya no está disponible. Escribe tu pregunta o usa /menu."
GROUP_REFUSAL = ("¡Hola! Para cuidar la privacidad de cada persona, solo atiendo consultas en chats privados. "
                 "Escríbeme directamente{where} y con gusto te ayudo. Ahora salgo de este chat.")
EMPTY_WITH_BUTTONS = "Elige una opción:"

# What a message without text carries, in the order to check it (a venue also has a location,
# an animation also has a document).
_ATTACHMENTS = [
    ("voice", "tu nota de voz"), ("video_note", "tu videomensaje"), ("audio", "tu audio"), ("photo", "tu foto"),
    ("video", "tu video"), ("sticker", "tu sticker"), ("animation", "tu GIF"), ("document", "tu documento"),
    ("venue", "el lugar que compartiste"), ("location", "tu ubicación"), ("contact", "el contacto que compartiste"),
    ("poll", "tu encuesta"), ("dice", "tu dado"),
]


def sender_id(chat_id: int) -> str:
    return f"{CHANNEL}:{chat_id}"


def chat_id_of(recipient_id: str) -> int | None:
    prefix, _, number = recipient_id.partition(":")
    if prefix != CHANNEL:
        return None
    try:
        return int(number)
    except ValueError:
        return None


def attachment_of(message: Message) -> tuple[str, list[dict]]:
    """A message without text as the advisor sees it during a handoff: a placeholder (with the
    caption) and the file's Bot API id, or the location or contact shared."""
    attribute, label = next(((a, lbl) for a, lbl in _ATTACHMENTS if getattr(message, a, None)), ("file", "tu mensaje"))
    item = getattr(message, attribute, None)
    if attribute == "photo" and item:
        item = item[-1]  # the largest size
    found: dict[str, Any] = {"type": attribute}
    for key in ("file_id", "mime_type", "file_name", "latitude", "longitude", "title", "address", "first_name", "phone_number"):
        value = getattr(item, key, None) if item is not None else None
        if value is not None:
            found[key if key != "mime_type" else "content_type"] = value
    location = getattr(item, "location", None)
    if location is not None:
        found.update(latitude=location.latitude, longitude=location.longitude)
    name = label[3:] if label.startswith("tu ") else label
    text = f"[{name[:1].upper()}{name[1:]}]"
    if message.caption:
        text += " " + message.caption
    return text[:MAX_MESSAGE_CHARS], [found]


def non_text_answer(message: Message) -> str:
    what = next((label for attribute, label in _ATTACHMENTS if getattr(message, attribute, None)), "tu mensaje")
    return NON_TEXT.format(what=what)


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class TelegramOutput(OutputChannel):
    """Sends to `telegram:<chat_id>` recipients. With `raise_errors`, a message Telegram refuses
    raises (used for pushes through the HTTP API, whose caller must know); otherwise it is logged."""

    def __init__(self, channel: TelegramInput, raise_errors: bool = False):
        self.channel = channel
        self.raise_errors = raise_errors
        self.sent = 0  # messages Telegram accepted (every part of them)

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, text or "", None)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any) -> None:
        keyboard = await self._keyboard(recipient_id, buttons)
        await self._send(recipient_id, text or (EMPTY_WITH_BUTTONS if keyboard else ""), keyboard)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, image, None)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        await self._send(recipient_id, str(attachment), None)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        text = json_message.get("text") if isinstance(json_message, dict) else None
        if isinstance(text, str):
            await self._send(recipient_id, text, None)
        else:
            logger.info("Telegram: custom message for %s not sent (no 'text')", masked(recipient_id))

    async def _keyboard(self, recipient_id: str, buttons: list[dict[str, Any]]) -> InlineKeyboardMarkup | None:
        with_payload = [b for b in buttons if b.get("payload") and not b.get("url")]
        refs = iter(await self.channel.state.offer(recipient_id, with_payload))
        rows = []
        for button in buttons:
            title = str(button.get("title") or button.get("payload") or "")[:64] or "…"
            if button.get("url"):
                rows.append([InlineKeyboardButton(title, url=str(button["url"]))])
            elif button.get("payload"):
                ref = next(refs)
                if len(ref.encode()) <= CALLBACK_DATA_LIMIT:
                    rows.append([InlineKeyboardButton(title, callback_data=ref)])
        return InlineKeyboardMarkup(rows) if rows else None

    async def _send(self, recipient_id: str, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
        chat_id = chat_id_of(recipient_id)
        if chat_id is None:
            self._fail(f"not a Telegram recipient: {masked(recipient_id)}")
            return
        pieces = split_message(text)
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            try:
                await self.channel.call(self.channel.bot.send_message, chat_id=chat_id, text=escape(piece),
                                        parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True),
                                        reply_markup=keyboard if last else None)
            except TelegramError as exc:
                self._fail(f"message to {masked(recipient_id)} not delivered: {exc}")
                return
        self.sent += 1

    def _fail(self, reason: str) -> None:
        if self.raise_errors:
            raise RuntimeError(f"Telegram: {reason}")
        logger.warning("Telegram: %s", reason)


class TelegramInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        startup.apply()  # Rasa builds the channel at server start: our changes to Rasa, if not applied yet
        config = TelegramConfig.from_env()
        if config.missing():
            logger.warning("Telegram channel not configured (%s not set or not valid): /webhooks/telegram/webhook "
                           "answers 503.", ", ".join(config.missing()))
        return cls(config)

    def __init__(self, config: TelegramConfig, state: ChannelState | None = None, guard: FloodGuard | None = None):
        self.config = config
        # Flood limits per chat (bot/rasa/channels/limits.py); updates come from Telegram's servers, so no address.
        self.guard = guard or FloodGuard.from_env()
        self.configured = not config.missing()
        self.bot: Bot | None = make_bot(config) if self.configured else None
        self._state = state
        self.locks = SenderLocks()
        self._ready = False
        self._background: set[asyncio.Task] = set()
        self._app: Any = None

    @property
    def state(self) -> ChannelState:
        if self._state is None:
            self._state = ChannelState()
        return self._state

    def get_output_channel(self) -> OutputChannel | None:
        return TelegramOutput(self, raise_errors=True) if self.configured else None

    # Bot API calls --------------------------------------------------------------------------------
    async def ensure_ready(self) -> None:
        """Initialize the Bot once (getMe), lazily; a failure is retried at the next call."""
        if self._ready or self.bot is None:
            return
        try:
            await self.bot.initialize()
            self._ready = True
        except TelegramError as exc:
            logger.warning("Telegram: getMe failed (%s); will retry", exc)

    async def call(self, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        """A Bot API call; when Telegram asks to slow down briefly, wait once and retry."""
        await self.ensure_ready()
        try:
            return await method(**kwargs)
        except RetryAfter as exc:
            if _seconds(exc) > MAX_RETRY_WAIT:
                raise
            await asyncio.sleep(_seconds(exc))
            return await method(**kwargs)

    async def quietly(self, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        try:
            return await self.call(method, **kwargs)
        except TelegramError as exc:
            logger.warning("Telegram: %s failed: %s", getattr(method, "__name__", method), exc)
            return None

    def in_background(self, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> None:
        task = asyncio.create_task(self.quietly(method, **kwargs))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def say(self, chat_id: int, text: str) -> None:
        await TelegramOutput(self).send_text_message(sender_id(chat_id), text)

    # the webhook ------------------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("infomigra_telegram", __name__)

        @webhook.listener("before_server_start")
        async def keep_app(app: Any, _loop: Any) -> None:
            self._app = app

        @webhook.listener("after_server_stop")
        async def close_bot(*_: Any) -> None:
            if self.bot is not None and self._ready:
                await self.bot.shutdown()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": self.configured})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.configured:
                return response.json({"error": "El canal de Telegram no está configurado: faltan "
                                      + " y ".join(self.config.missing()) + "."}, status=503)
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.config.secret.encode()):
                return response.json({"error": "Token secreto ausente o incorrecto."}, status=403)
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.json({"error": "El cuerpo de la solicitud es demasiado grande."}, status=413)
            if (request.content_type or "").split(";")[0].strip().lower() != "application/json":
                return response.json({"error": "Se espera un Update de Telegram en JSON (application/json)."}, status=415)
            try:
                body = json.loads(request.body)
                if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
                    raise ValueError("not an Update")
                update = Update.de_json(body, self.bot)
            except Exception:  # any malformed JSON or Update: the client's fault, never a 500
                return response.json({"error": "El cuerpo no es un Update de Telegram válido."}, status=400)
            if not await self._within_limits(update):
                return response.json({"ok": True, "limited": True})  # dropped before Rasa; a 2xx: not redelivered
            key = f"{CHANNEL}:{update.update_id}"
            async with self._in_order(update):  # a redelivery of an update being handled waits here
                try:
                    if await self.state.seen(key):
                        return response.json({"ok": True, "duplicate": True})
                except Exception:  # the database is down: answering twice is better than never
                    logger.exception("Telegram: could not check whether update %s was handled", update.update_id)
                try:
                    await self.handle(update, on_new_message)
                except Exception:
                    logger.exception("Telegram update %s failed", update.update_id)
                    if not await self._apologize(update):
                        # Not handled and the person not told: unseen, and a non-2xx makes Telegram deliver it again.
                        return response.json({"error": "No se pudo procesar el Update; reintentar."}, status=500)
                    return response.json({"ok": True, "failed": True})
                try:
                    await self.state.mark_seen(key)  # only once handled: a failed update is handled again
                except Exception:
                    logger.exception("Telegram: update %s handled but not recorded", update.update_id)
            return response.json({"ok": True})

        return webhook

    # updates ------------------------------------------------------------------------------------------
    async def _within_limits(self, update: Update) -> bool:
        """A person's message or button press within the flood limit of their chat. Over it, the update
        never reaches Rasa and the person is told once per spell (TOO_MANY); other updates always pass."""
        chat = update.effective_chat
        if chat is None or chat.type != Chat.PRIVATE or not (update.message or update.edited_message or update.callback_query):
            return True
        verdict = self.guard.check(sender_id(chat.id))
        if verdict.allowed:
            return True
        if verdict.notify:
            await self.quietly(self.bot.send_message, chat_id=chat.id, text=escape(TOO_MANY), parse_mode=ParseMode.HTML,
                               link_preview_options=LinkPreviewOptions(is_disabled=True))
        if update.callback_query is not None:  # the button's spinner stops either way
            await self.quietly(self.bot.answer_callback_query, callback_query_id=update.callback_query.id)
        return False

    @asynccontextmanager
    async def _in_order(self, update: Update) -> AsyncIterator[None]:
        """Updates of one private chat one at a time, in the order they arrived (the lock is taken
        before any await, so a burst keeps its order)."""
        chat = update.effective_chat
        if chat is None or chat.type != Chat.PRIVATE:
            yield
            return
        async with self.locks.hold(sender_id(chat.id), order=update.update_id):
            yield

    async def handle(self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        if update.callback_query is not None:
            await self._button(update, on_new_message)
            return
        if update.my_chat_member is not None:
            await self._membership(update)
            return
        message = update.message or update.edited_message or update.channel_post or update.edited_channel_post
        if message is None:
            return  # other kinds of updates are not asked for (allowed_updates)
        if message.chat.type != Chat.PRIVATE:
            await self._refuse(message.chat)
            return
        await self.state.touch(sender_id(message.chat.id), CHANNEL)
        if update.edited_message is not None:
            await self.say(message.chat.id, EDITED)
            return
        if message.text is None:
            if await self._handed_over(sender_id(message.chat.id)):  # an advisor has the conversation: it gets the file
                text, files = attachment_of(message)
                await self._to_rasa(on_new_message, text, message.chat.id,
                                    {"update_id": update.update_id, "message_id": message.message_id}, files)
                return
            await self.say(message.chat.id, non_text_answer(message))
            return
        text = command_payload(message.text)
        if text is None and looks_like_command(message.text):
            await self.say(message.chat.id, unknown_command_answer())
            return
        if text is None:
            text = neutralize(message.text)[:MAX_MESSAGE_CHARS]
            if not is_readable(text):
                await self.say(message.chat.id, UNREADABLE)
                return
        await self._to_rasa(on_new_message, text, message.chat.id,
                            {"update_id": update.update_id, "message_id": message.message_id})

    async def _button(self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        query = update.callback_query
        message = query.message
        if message is None or message.chat.type != Chat.PRIVATE:
            await self.quietly(self.bot.answer_callback_query, callback_query_id=query.id, text=STALE_BUTTON)
            return
        sender = sender_id(message.chat.id)
        data = query.data or ""
        payload = await self.state.payload_for_ref(sender, data) if 0 < len(data.encode()) <= CALLBACK_DATA_LIMIT else None
        if payload is None:
            await self.quietly(self.bot.answer_callback_query, callback_query_id=query.id, text=STALE_BUTTON)
            return
        await self.quietly(self.bot.answer_callback_query, callback_query_id=query.id)
        await self.state.touch(sender, CHANNEL)
        await self._to_rasa(on_new_message, payload, message.chat.id,
                            {"update_id": update.update_id, "message_id": message.message_id, "button": True})

    async def _to_rasa(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], text: str, chat_id: int,
                       metadata: dict[str, Any], attachments: list[dict] | None = None) -> None:
        if attachments is None:
            self.in_background(self.bot.send_chat_action, chat_id=chat_id, action=ChatAction.TYPING)
        extra = {"attachments": attachments} if attachments else {}
        output = TelegramOutput(self)
        message = UserMessage(text, output, sender_id(chat_id), input_channel=CHANNEL,
                              metadata={"telegram": metadata, **extra})
        if not await run_turn(self._app, on_new_message, message, lambda: output.sent > 0):
            # Rasa failed (action server down or too slow) or answered nothing; raises if this cannot be sent,
            # so the update stays unseen and Telegram delivers it again.
            await TelegramOutput(self, raise_errors=True).send_text_message(sender_id(chat_id), technical_problem())

    async def _apologize(self, update: Update) -> bool:
        """Tell the person of a private chat that their message could not be handled; False when
        Telegram did not take it either."""
        chat = update.effective_chat
        if chat is None or chat.type != Chat.PRIVATE:
            return True  # groups and channels get nothing but the refusal
        try:
            await TelegramOutput(self, raise_errors=True).send_text_message(sender_id(chat.id), technical_problem())
            return True
        except Exception as exc:
            logger.warning("Telegram: %s could not be told of the failure either: %s", masked(sender_id(chat.id)), exc)
            return False

    async def _handed_over(self, sender: str) -> bool:
        """True while an advisor has the conversation (Rasa paused it), so files reach the advisor."""
        return await is_paused(self._app, sender)

    async def _membership(self, update: Update) -> None:
        change = update.my_chat_member
        if change.new_chat_member is None or change.chat is None:  # not one Telegram sends (found by the fuzz): ignored
            return
        status = change.new_chat_member.status
        if change.chat.type == Chat.PRIVATE:  # the person blocked or unblocked the bot
            if status == ChatMember.BANNED:
                await self.state.touch(sender_id(change.chat.id), CHANNEL, opted_out=True)
            elif status == ChatMember.MEMBER:
                await self.state.touch(sender_id(change.chat.id), CHANNEL, opted_out=False)
        elif status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR):
            await self._refuse(change.chat)

    async def _refuse(self, chat: Chat) -> None:
        """One polite message to a group or channel, then the bot leaves it; nothing is processed."""
        await self.ensure_ready()
        username = self.bot.username if self._ready else None
        where = f" en https://t.me/{username}" if username else " en un chat privado conmigo"
        await self.quietly(self.bot.send_message, chat_id=chat.id, text=escape(GROUP_REFUSAL.format(where=where)),
                           parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
        await self.quietly(self.bot.leave_chat, chat_id=chat.id)

"""A local stand-in for the Telegram Bot API, for tests.

It speaks the documented wire format (https://core.telegram.org/bots/api#making-requests):
`GET`/`POST https://host/bot<TOKEN>/<method>` with parameters in the query string, an
`application/json` body, an `application/x-www-form-urlencoded` body or `multipart/form-data`
(objects and arrays JSON-serialized inside forms); method names are case-insensitive; every
answer is `{"ok": true, "result": …}` or `{"ok": false, "error_code": …, "description": …}`
(with `parameters.retry_after` on 429). Results are real Bot API objects (User, Message,
WebhookInfo, True).

It checks what Telegram checks for the methods the assistant uses: the token, required
parameters, message length (1-4,096 characters after entity parsing, UTF-16), parse_mode HTML
(only Telegram's tags; every other <, > and & must be an entity, or the request is refused with
"can't parse entities"), inline keyboards (callback_data 1-64 bytes), the webhook URL (https) and
its secret_token (1-256 characters A-Z a-z 0-9 _ -). Every call is recorded; tests can make a chat
"blocked" (403) or flood-limited (429 once).

    with FakeTelegram(token) as api:
        api.base_url  # "http://127.0.0.1:<port>/bot" — python-telegram-bot's base_url
"""

from __future__ import annotations

import html
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

JSON_FIELDS = {"reply_markup", "link_preview_options", "allowed_updates", "commands", "entities", "scope",
               "reply_parameters"}
INT_FIELDS = {"message_id", "max_connections", "cache_time", "message_thread_id"}
BOOL_FIELDS = {"drop_pending_updates", "show_alert", "disable_notification", "protect_content"}
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "tg-emoji",
             "code", "pre", "blockquote"}
CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}
SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class Call:
    method: str  # as documented, e.g. "sendMessage"
    params: dict[str, Any]
    content_type: str
    visible_text: str | None = None  # sendMessage: the text as the person sees it
    result: Any = None  # what the fake answered (a Message for sendMessage)
    at: float = field(default_factory=time.monotonic)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """The visible text of an HTML-formatted message, refusing what Telegram refuses."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            end = text.find(">", i)
            if end == -1:
                raise ApiError(400, f"Bad Request: can't parse entities: Unclosed start tag at byte offset {i}")
            tag = text[i + 1:end].strip()
            if tag.startswith("/"):
                name = tag[1:].strip().lower()
                if not stack or stack[-1] != name:
                    expected = stack[-1] if stack else ""
                    raise ApiError(400, f"Bad Request: can't parse entities: Unmatched end tag at byte offset {i}, "
                                        f'expected "</{expected}>", found "</{name}>"')
                stack.pop()
            else:
                match = re.match(r"[A-Za-z][A-Za-z0-9-]*", tag)
                name = match.group(0).lower() if match else ""
                if name not in HTML_TAGS:
                    raise ApiError(400, f'Bad Request: can\'t parse entities: Unsupported start tag "{name}" at byte offset {i}')
                stack.append(name)
            i = end + 1
        elif char == "&":
            match = _ENTITY.match(text, i)
            if not match:
                raise ApiError(400, f"Bad Request: can't parse entities: Unsupported HTML entity at byte offset {i}")
            out.append(html.unescape(match.group(0)))
            i = match.end()
        elif char == ">":
            raise ApiError(400, f"Bad Request: can't parse entities: Unexpected end of tag at byte offset {i}")
        else:
            out.append(char)
            i += 1
    if stack:
        raise ApiError(400, f'Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _coerce(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from exc
    if key in INT_FIELDS or (key == "chat_id" and re.fullmatch(r"-?\d+", value)):
        return int(value)
    if key in BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


class FakeTelegram:
    def __init__(self, token: str, bot_id: int | None = None, username: str = "InfomigraPruebaBot"):
        self.token = token
        self.bot_id = bot_id or int(token.split(":")[0])
        self.username = username
        self.calls: list[Call] = []
        self.blocked_chats: set[int] = set()
        self.flood_once: dict[int, int] = {}  # chat id -> retry_after for its next sendMessage
        self.webhook: dict[str, Any] = {"url": ""}
        self.commands: list[dict] = []
        self._message_ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # life cycle -----------------------------------------------------------------------------------
    def __enter__(self) -> FakeTelegram:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                fake._serve(self)

            def do_POST(self) -> None:  # noqa: N802
                fake._serve(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    # what tests look at -----------------------------------------------------------------------------
    def calls_of(self, method: str, chat_id: int | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)]

    def messages_to(self, chat_id: int) -> list[Call]:
        return self.calls_of("sendMessage", chat_id)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "the expected call") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; calls: {[(c.method, c.params) for c in self.calls][-12:]}")

    def user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "PERÚ INFOMIGRA", "username": self.username,
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}

    # HTTP -----------------------------------------------------------------------------------------
    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        try:
            match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", urlsplit(request.path).path)
            if not match:
                raise ApiError(404, "Not Found")
            if match.group(1) != self.token:
                raise ApiError(401, "Unauthorized")
            params, content_type = self._params(request)
            method = next((m for m in METHODS if m.lower() == match.group(2).lower()), None)
            if method is None:
                raise ApiError(404, "Not Found")
            call = Call(method, params, content_type)
            result = call.result = getattr(self, f"_{method}")(params, call)
            with self._lock:
                self.calls.append(call)
            body: dict[str, Any] = {"ok": True, "result": result}
            if method == "setWebhook":
                body["description"] = "Webhook was set" if params.get("url") else "Webhook was deleted"
            status = 200
        except ApiError as exc:
            status = exc.code
            body = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _params(self, request: BaseHTTPRequestHandler) -> tuple[dict[str, Any], str]:
        params: dict[str, Any] = dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True))
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if raw and content_type == "application/json":
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise ApiError(400, "Bad Request: can't parse JSON object") from exc
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: JSON object expected")
            params.update(body)
        elif raw and content_type == "application/x-www-form-urlencoded":
            params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        elif raw and content_type == "multipart/form-data":
            head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
            message = BytesParser(policy=HTTP).parsebytes(head + raw)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name and not part.get_filename():
                    params[name] = part.get_content() if part.get_content_maintype() == "text" else part.get_payload(decode=True).decode()
        return {key: _coerce(key, value) for key, value in params.items()}, content_type

    # methods --------------------------------------------------------------------------------------
    @staticmethod
    def _required(params: dict[str, Any], *names: str) -> None:
        for name in names:
            if name not in params or params[name] in ("", None):
                raise ApiError(400, f"Bad Request: parameter \"{name}\" is required")

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        if isinstance(chat_id, int):
            kind = "private" if chat_id > 0 else "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind}
        raise ApiError(400, "Bad Request: chat not found")

    def _getMe(self, params: dict, call: Call) -> dict:  # noqa: N802
        return self.user()

    def _sendMessage(self, params: dict, call: Call) -> dict:  # noqa: N802
        self._required(params, "chat_id", "text")
        chat = self._chat(params["chat_id"])
        if chat["id"] in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat["id"] in self.flood_once:
            raise ApiError(429, f"Too Many Requests: retry after {self.flood_once[chat['id']]}",
                           retry_after=self.flood_once.pop(chat["id"]))
        mode = params.get("parse_mode")
        if mode not in (None, "", "HTML", "MarkdownV2", "Markdown"):
            raise ApiError(400, f"Bad Request: unsupported parse_mode \"{mode}\"")
        visible = parse_html(params["text"]) if mode == "HTML" else params["text"]
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        if markup is not None:
            self._check_keyboard(markup)
        call.visible_text = visible
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                   "from": self.user(), "text": visible}
        if markup:
            message["reply_markup"] = markup
        return message

    @staticmethod
    def _check_keyboard(markup: Any) -> None:
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for button in (b for row in rows for b in row):
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            kinds = [k for k in ("callback_data", "url") if k in button]
            if len(kinds) != 1:
                raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
            if "callback_data" in button and not 1 <= len(str(button["callback_data"]).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if "url" in button and not str(button["url"]).startswith(("https://", "http://", "tg://")):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")

    def _answerCallbackQuery(self, params: dict, call: Call) -> bool:  # noqa: N802
        self._required(params, "callback_query_id")
        if len(params.get("text") or "") > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _sendChatAction(self, params: dict, call: Call) -> bool:  # noqa: N802
        self._required(params, "chat_id", "action")
        self._chat(params["chat_id"])
        if params["action"] not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _leaveChat(self, params: dict, call: Call) -> bool:  # noqa: N802
        self._required(params, "chat_id")
        self._chat(params["chat_id"])
        return True

    def _setWebhook(self, params: dict, call: Call) -> bool:  # noqa: N802
        if "url" not in params:
            raise ApiError(400, "Bad Request: parameter \"url\" is required")
        url = params["url"]
        if url and not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not SECRET.match(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, **{k: v for k, v in params.items() if k != "url"}}
        return True

    def _deleteWebhook(self, params: dict, call: Call) -> bool:  # noqa: N802
        self.webhook = {"url": ""}
        return True

    def _getWebhookInfo(self, params: dict, call: Call) -> dict:  # noqa: N802
        info = {"url": self.webhook["url"], "has_custom_certificate": False, "pending_update_count": 0}
        if self.webhook.get("allowed_updates"):
            info["allowed_updates"] = self.webhook["allowed_updates"]
        if self.webhook.get("max_connections"):
            info["max_connections"] = self.webhook["max_connections"]
        return info

    def _setMyCommands(self, params: dict, call: Call) -> bool:  # noqa: N802
        self._required(params, "commands")
        commands = params["commands"]
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be an array")
        for command in commands:
            if not COMMAND.match(str(command.get("command", ""))) or not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands = commands
        return True


METHODS = ["getMe", "sendMessage", "answerCallbackQuery", "sendChatAction", "leaveChat", "setWebhook", "deleteWebhook",
           "getWebhookInfo", "setMyCommands"]

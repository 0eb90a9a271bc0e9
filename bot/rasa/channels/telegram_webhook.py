"""The Telegram side of the channel that needs no Rasa, and the command that registers the webhook.

    .venv/bin/python -m bot.rasa.channels.telegram_webhook            # setWebhook (+ the command menu)
    .venv/bin/python -m bot.rasa.channels.telegram_webhook --info     # getWebhookInfo
    .venv/bin/python -m bot.rasa.channels.telegram_webhook --delete   # deleteWebhook

Environment:
- TELEGRAM_BOT_TOKEN       the bot's token from @BotFather
- TELEGRAM_WEBHOOK_SECRET  1-256 characters A-Z a-z 0-9 _ -; Telegram sends it back in the
                           X-Telegram-Bot-Api-Secret-Token header of every update
- TELEGRAM_WEBHOOK_URL     the public HTTPS URL of the webhook, ending in /webhooks/telegram/webhook
- TELEGRAM_API_BASE        Bot API base URL, the token is appended (default https://api.telegram.org/bot);
                           "{token}" inside it is replaced instead

The formatting helpers (HTML escaping, splitting at Telegram's 4,096 characters, commands) live
here too, so that they can be tested without Rasa (`bot/rasa/channels/telegram.py` imports them).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import sys
from dataclasses import dataclass

DEFAULT_API_BASE = "https://api.telegram.org/bot"

# Telegram's limit for a message text, counted after entity parsing (we count UTF-16 code units
# of the escaped text, which is never less than what Telegram counts).
TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64  # bytes
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

# The commands of the bot's menu and the intent each one stands for.
COMMANDS: dict[str, tuple[str, str]] = {
    "start": ("/saludo", "Empezar"),
    "menu": ("/menu", "Ver los temas"),
    "ayuda": ("/menu", "Cómo te puedo ayudar"),
    "asesor": ("/pedir_asesor", "Hablar con un asesor"),
    "sugerencia": ("/dejar_sugerencia", "Dejar una sugerencia o reclamo"),
    "privacidad": ("/info_privacidad", "Cómo cuidamos tus datos"),
}
ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "edited_channel_post", "callback_query", "my_chat_member"]

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{3,64})?(?=\s|$)")
_COMMAND_LIKE = re.compile(r"^/[A-Za-z0-9_]")
_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+")


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    secret: str
    api_base: str = DEFAULT_API_BASE
    webhook_url: str = ""

    @classmethod
    def from_env(cls) -> TelegramConfig:
        return cls(
            token=os.environ.get("TELEGRAM_BOT_TOKEN", "").strip(),
            secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
            api_base=os.environ.get("TELEGRAM_API_BASE", "").strip() or DEFAULT_API_BASE,
            webhook_url=os.environ.get("TELEGRAM_WEBHOOK_URL", "").strip(),
        )

    def missing(self) -> list[str]:
        """Names of the variables the webhook needs and that are not set (or not valid)."""
        missing = []
        if not self.token:
            missing.append("TELEGRAM_BOT_TOKEN")
        if not SECRET_PATTERN.match(self.secret):
            missing.append("TELEGRAM_WEBHOOK_SECRET")
        return missing


def make_bot(config: TelegramConfig):
    """python-telegram-bot's Bot against the configured Bot API base URL (not yet initialized)."""
    from telegram import Bot
    from telegram.request import HTTPXRequest

    request = HTTPXRequest(connection_pool_size=64, connect_timeout=5.0, read_timeout=15.0, write_timeout=15.0,
                           pool_timeout=5.0)
    return Bot(config.token, base_url=config.api_base, request=request)


# formatting ---------------------------------------------------------------------------------------
def command_payload(text: str) -> str | None:
    """The intent payload of one of our commands ("/start", "/Menu@InfomigraBot", "/start abc"),
    None for anything else."""
    match = _COMMAND.match(text.strip())
    if not match:
        return None
    entry = COMMANDS.get(match.group(1).lower())
    return entry[0] if entry else None


def looks_like_command(text: str) -> bool:
    """Text Telegram shows as a command ("/pedir_asesor{...}", "/hola"): only ours are understood,
    any other gets the list of commands (it never reaches the NLU, so it cannot force an intent)."""
    return bool(_COMMAND_LIKE.match(text.strip()))


def unknown_command_answer() -> str:
    lines = [f"/{name} – {description[0].lower()}{description[1:]}" for name, (_, description) in COMMANDS.items()
             if name != "start"]
    return "No conozco ese comando. Estos son los que entiendo:\n\n" + "\n".join(lines) + \
        "\n\nO escríbeme tu pregunta con tus palabras."


def escape(text: str) -> str:
    """Plain text for parse_mode HTML: only <, > and & need entities."""
    return html.escape(text, quote=False)


def tg_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _fits(text: str, limit: int) -> bool:
    return tg_length(escape(text)) <= limit


def _hard_cut(text: str, limit: int) -> list[str]:
    pieces = []
    while text and not _fits(text, limit):
        low, high = 1, len(text)
        while low < high:  # the longest prefix that fits
            mid = (low + high + 1) // 2
            if _fits(text[:mid], limit):
                low = mid
            else:
                high = mid - 1
        pieces.append(text[:low])
        text = text[low:]
    return [*pieces, text] if text else pieces


def _split(text: str, limit: int, level: int) -> list[str]:
    if _fits(text, limit):
        return [text]
    separators = ["\n\n", "\n", _SENTENCE_END, " "]
    if level >= len(separators):
        return _hard_cut(text, limit)
    separator = separators[level]
    if isinstance(separator, str):
        parts, glue = text.split(separator), [separator] * text.count(separator)
    else:
        parts, glue = separator.split(text), [" "] * (len(separator.split(text)) - 1)
    if len(parts) == 1:
        return _split(text, limit, level + 1)
    chunks: list[str] = []
    current = ""
    for i, part in enumerate(parts):
        joined = current + glue[i - 1] + part if i and current else part
        if _fits(joined, limit):
            current = joined
            continue
        if current:
            chunks.append(current)
        if _fits(part, limit):
            current = part
        else:
            *done, current = _split(part, limit, level + 1)
            chunks.extend(done)
    chunks.append(current)
    return chunks


def split_message(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Plain text cut into pieces whose HTML-escaped form fits one Telegram message: at blank
    lines, then lines, sentences, spaces (characters only as a last resort)."""
    return [chunk.strip() for chunk in _split(text.strip(), limit, 0) if chunk.strip()]


# the registration command ---------------------------------------------------------------------------
async def _register(config: TelegramConfig, action: str, drop_pending: bool) -> int:
    from telegram import BotCommand

    async with make_bot(config) as bot:
        if action == "info":
            info = await bot.get_webhook_info()
            print(f"url: {info.url or '(none)'}\npending updates: {info.pending_update_count}\n"
                  f"allowed updates: {', '.join(info.allowed_updates or []) or '(all)'}\n"
                  f"last error: {info.last_error_message or '(none)'}")
            return 0
        if action == "delete":
            await bot.delete_webhook(drop_pending_updates=drop_pending)
            print("Webhook deleted.")
            return 0
        await bot.set_webhook(url=config.webhook_url, secret_token=config.secret, allowed_updates=ALLOWED_UPDATES,
                              drop_pending_updates=drop_pending, max_connections=40)
        await bot.set_my_commands([BotCommand(name, description) for name, (_, description) in COMMANDS.items()])
        print(f"Webhook of @{bot.username} set to {config.webhook_url} (with its secret token); command menu updated.")
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.rasa.channels.telegram_webhook",
                                     description="Register the Telegram webhook of the assistant (setWebhook with the secret).")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--info", action="store_true", help="show the webhook Telegram has now")
    group.add_argument("--delete", action="store_true", help="remove the webhook")
    parser.add_argument("--drop-pending-updates", action="store_true", help="discard updates waiting at Telegram")
    args = parser.parse_args(argv)

    config = TelegramConfig.from_env()
    action = "info" if args.info else "delete" if args.delete else "set"
    problems = [] if config.token else ["TELEGRAM_BOT_TOKEN is not set"]
    if action == "set":
        if not SECRET_PATTERN.match(config.secret):
            problems.append("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters A-Z a-z 0-9 _ -")
        if not config.webhook_url.startswith("https://"):
            problems.append("TELEGRAM_WEBHOOK_URL must be the public https:// URL of /webhooks/telegram/webhook")
    if problems:
        print("Cannot register the webhook: " + "; ".join(problems) + ".", file=sys.stderr)
        return 2
    from telegram.error import TelegramError

    try:
        return asyncio.run(_register(config, action, args.drop_pending_updates))
    except TelegramError as exc:
        print(f"Telegram refused the request: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

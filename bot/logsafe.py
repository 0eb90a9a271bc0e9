"""What our log lines may say about a person: never a whole phone number or chat id.

`masked("whatsapp:+51987654321")` is "whatsapp:···4321", `masked("telegram:123456789")` is
"telegram:···6789": the channel and the last four characters, enough to tell two conversations
apart in a log, not enough to reach anyone. Every log line of our code that names a sender or a
recipient goes through it (tests/unit/test_logsafe.py checks the modules)."""

from __future__ import annotations

import logging
import re

KEEP = 4


def masked(sender_id: object) -> str:
    """A sender id (or phone number, chat id) as a log line may show it."""
    text = str(sender_id or "")
    channel, colon, rest = text.rpartition(":") if ":" in text else ("", "", text)
    tail = rest[-KEEP:] if len(rest) > KEEP else ""
    return f"{channel}{colon}···{tail}"


def scrubbed(text: object, *sender_ids: str) -> str:
    """Text from elsewhere (a provider's error message) with these senders' ids, or their bare numbers
    ("+51987654321"), masked: Twilio's errors name the number they refused."""
    result = str(text)
    for sender_id in sender_ids:
        for form in sorted({sender_id, sender_id.rpartition(":")[2]}, key=len, reverse=True):
            if len(form) > KEEP:
                result = result.replace(form, masked(sender_id))
    return result


# Sender ids as they appear in other code's log lines: Rasa's own name the conversation ("Circuit breaker
# tripped. Stopped predicting more actions for sender 'whatsapp:+51…'").
_SENDER_IN_TEXT = re.compile(r"\b(whatsapp|telegram):(\+?\d{5,})")


def mask_senders(text: str) -> str:
    """Every WhatsApp or Telegram sender id in a text, masked."""
    return _SENDER_IN_TEXT.sub(lambda m: masked(m.group(0)), text)


class MaskSenders(logging.Filter):
    """On a handler: what it writes names no WhatsApp or Telegram sender in full, whoever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _SENDER_IN_TEXT.search(message):
            record.msg, record.args = mask_senders(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_senders(logging.Formatter().formatException(record.exc_info))
        return True


def mask_senders_in_handlers(logger: logging.Logger | None = None) -> None:
    """Add MaskSenders to every handler of the root logger (Rasa's console and file handlers), once."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, MaskSenders) for f in handler.filters):
            handler.addFilter(MaskSenders())


# Libraries that log whole request URLs at INFO: python-telegram-bot's httpx requests carry the bot
# token in the path (https://api.telegram.org/bot<token>/sendMessage), Twilio's the phone numbers.
NOISY_URL_LOGGERS = ("httpx", "httpcore", "twilio.http_client", "twilio.async_http_client")


def quiet_url_loggers() -> None:
    """Only warnings and errors from the HTTP clients whose INFO lines show tokens or numbers."""
    for name in NOISY_URL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)

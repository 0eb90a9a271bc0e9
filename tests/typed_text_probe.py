"""What Rasa makes of typed text that arrives through each of our channels (run with `.venv/bin/python`).

Usage: `.venv/bin/python tests/typed_text_probe.py OUT.json < request.json`. Reads
{"texts": [...], "raw": [...]} on stdin. Each text goes, as a person's typed message, through the real
input code of the web widget (`WebInput._handle`), Telegram (`TelegramInput.handle`, a private-chat
text update), WhatsApp (`WhatsAppInput._handle`, a Twilio message) and REST (the `/webhook` route
of `CheckedRestInput`), with in-memory fakes for the socket, the Bot API, Twilio and the database.
Whatever a channel hands to Rasa (`UserMessage.text`) is then read by Rasa's own parser, the code
RegexMessageHandler runs (`YAMLStoryReader.unpack_regex_message`), with no domain (any name
counts as an intent) and with our domain.yml; the texts of "raw" go to the parser directly.
Writes {"results": [{"channel", "text", "sent", "intent", "domain_intent", "entities"}...],
"raw": [{"text", "intent", "domain_intent", "entities"}...], "domain_intents": [...]} to OUT.json
(not stdout, where Rasa's structlog writes its warnings).

Used by tests/unit/test_typed_intents.py; needs Rasa, so it never runs under `.venv-svc`.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import logging
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
logging.disable(logging.CRITICAL)
warnings.filterwarnings("ignore")


class FakeSio:
    async def emit(self, *args: Any, **kwargs: Any) -> None:
        return None


class FakeRequest:
    def __init__(self, body: dict, token: str) -> None:
        self.json = body
        self.headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        self.remote_addr = self.ip = "127.0.0.1"
        self.app = None  # no Rasa agent behind it: the channel's turn sees no tracker store (never paused)


def scratch_state(folder: str) -> Any:
    """Our channel tables in a throwaway SQLite file (the channels use it from worker threads)."""
    from sqlalchemy import create_engine, event

    from bot.rasa.channels.state import ChannelState
    from bot.store.schema import metadata

    engine = create_engine(f"sqlite:///{folder}/channels.db")

    @event.listens_for(engine, "connect")
    def no_fsync(connection: Any, _: Any) -> None:  # a scratch file: speed over durability
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA journal_mode=MEMORY")

    metadata.create_all(engine)
    return ChannelState(engine)


class Channels:
    """Each channel's entry point for typed text; `send` returns the texts it handed to Rasa."""

    def __init__(self, folder: str) -> None:
        from bot.rasa.channels import whatsapp
        from bot.rasa.channels.rest import CheckedRestInput
        from bot.rasa.channels.telegram import TelegramInput
        from bot.rasa.channels.telegram_webhook import TelegramConfig
        from bot.rasa.channels.web import WebInput, WebOutput

        state = scratch_state(folder)
        self.web = WebInput(secret="s" * 32, state=state)
        self.web_output = WebOutput(FakeSio(), state)
        self.telegram = TelegramInput(TelegramConfig(token="123456:probe", secret="probe-secret"), state=state)

        async def say(chat_id: int, text: str) -> None:
            return None

        async def call(method: Any, **kwargs: Any) -> None:  # the Bot API accepts everything
            return None

        self.telegram.say = say
        self.telegram.call = call
        self.telegram.in_background = lambda *args, **kwargs: None
        self.whatsapp = whatsapp.WhatsAppInput("AC" + "0" * 32, "token", "whatsapp:+15550000000",
                                               "https://example.org/webhooks/whatsapp/webhook")
        self.whatsapp._state = state

        async def deliver(self: Any, recipient_id: str, messages: list[dict], reply: bool = False) -> list[str]:
            return []

        whatsapp.WhatsAppOutput.deliver = deliver
        self.inbound = whatsapp.Inbound
        kwargs = {"token": "probe-token"} if "token" in inspect.signature(CheckedRestInput).parameters else {}
        self.rest = CheckedRestInput(**kwargs)
        self.received: list[str] = []
        self.rest_route = next(r.handler for r in self.rest.blueprint(self._on_new_message)._future_routes
                               if r.uri.endswith("/webhook") and "POST" in r.methods)
        self._ids = itertools.count(1)

    async def _on_new_message(self, message: Any) -> None:
        """Rasa: note what arrived and answer something (a channel apologises for silence)."""
        self.received.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "ok")

    async def send(self, channel: str, text: str) -> list[str]:
        self.received = []
        n = next(self._ids)
        if channel == "web":
            await self.web._handle(f"sid{n}", f"web:probe{n}", {"message": text}, self.web_output, self._on_new_message)
        elif channel == "telegram":
            from telegram import Update

            update = Update.de_json({"update_id": n, "message": {
                "message_id": n, "date": 1_700_000_000, "text": text,
                "chat": {"id": 1000 + n, "type": "private", "first_name": "Ana"},
                "from": {"id": 1000 + n, "is_bot": False, "first_name": "Ana"}}}, self.telegram.bot)
            await self.telegram.handle(update, self._on_new_message)
        elif channel == "whatsapp":
            inbound = self.inbound(sender=f"whatsapp:+5199{n:07d}", sid=f"SM{n:032d}", body=text, profile_name="Ana",
                                   attachments=[], location=None, button_payload="", button_text="")
            await self.whatsapp._handle(inbound, self._on_new_message, None)
        elif channel == "rest":
            await self.rest_route(FakeRequest({"sender": f"probe{n}", "message": text}, "probe-token"))
        else:
            raise ValueError(channel)
        return self.received


def parse(text: str, domain: Any) -> tuple[str | None, str | None, list]:
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message

    user_text = UserMessage(text).text  # what Rasa keeps of a channel's text (it strips it)
    loose = YAMLStoryReader.unpack_regex_message(Message(data={"text": user_text}), None)
    strict = YAMLStoryReader.unpack_regex_message(Message(data={"text": user_text}), domain)
    intent = (loose.get("intent") or {}).get("name")
    return intent, (strict.get("intent") or {}).get("name"), loose.get("entities") or []


async def main() -> None:
    from rasa.shared.core.domain import Domain

    request = json.load(sys.stdin)
    domain = Domain.load(str(ROOT / "domain.yml"))
    folder = tempfile.TemporaryDirectory()
    channels = Channels(folder.name)
    results = []
    for text in request["texts"]:
        for channel in request.get("channels", ["web", "telegram", "whatsapp", "rest"]):
            sent = await channels.send(channel, text)
            for one in sent or [None]:
                intent, domain_intent, entities = parse(one, domain) if one is not None else (None, None, [])
                results.append({"channel": channel, "text": text, "sent": one, "intent": intent,
                                "domain_intent": domain_intent, "entities": entities})
    raw = []
    for text in request.get("raw", []):  # straight to Rasa's parser, as an API client's text
        intent, domain_intent, entities = parse(text, domain)
        raw.append({"text": text, "intent": intent, "domain_intent": domain_intent, "entities": entities})
    Path(sys.argv[1]).write_text(json.dumps({"results": results, "raw": raw, "domain_intents": list(domain.intents)}))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    asyncio.run(main())

"""Failures on WhatsApp and Telegram, end to end: never silence, never a message lost, never a secret
in the log. The real Rasa and action servers, the official clients (python-telegram-bot, twilio)
against the local stand-ins of the Bot API and of Twilio's Messages API (tests/fakes).

- the action server down: Rasa swallows the error and answers nothing; the person gets the
  technical-problem message with the service's e-mail (WhatsApp, Telegram, the web widget and the REST
  channel), except
  in a conversation an advisor has, and the conversation works again once the server is back;
- a Telegram update whose handling failed (the answer could not be sent) is not recorded as seen
  and gets a non-2xx, so Telegram delivers it again, and the redelivery is handled;
- an advisor's WhatsApp message that Twilio refuses is an error for the desk, not "Entregado";
- the Rasa server's log of all this shows neither the bot token nor a phone number or chat id.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import secrets
import time
from typing import Any

import httpx
import pytest
import websockets
from twilio.request_validator import RequestValidator

from bot.logsafe import masked
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio
from tests.stack import running_stack

pytestmark = pytest.mark.e2e

TOKEN = "7012345678:AAH-fallos_infomigra_" + secrets.token_hex(8)
SECRET = secrets.token_urlsafe(32)
ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
NUMBER = "whatsapp:+14155238886"
PUBLIC_URL = "https://infomigra.example.gob.pe/webhooks/whatsapp/webhook"
EMAIL = "consultas.infomigra@example.gob.pe"
QUESTION = "q papeles necesito pa trabajar en españa"  # answered by a custom action (action_answer_topic)
# The REST client sends a button's payload (Rasa's REST contract): the same custom action, whatever the training
SPAIN_PAYLOAD = '/emigrar_tramites{"country":"espana"}'

_chats = itertools.count(random.randint(10**8, 9 * 10**8))
_updates = itertools.count(random.randint(10**6, 10**8))
PEOPLE: list[str] = []  # every chat id and phone number these tests used: none may reach the log


@pytest.fixture(scope="module")
def telegram_api():
    with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def twilio_api():
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def stack(tmp_path_factory, telegram_api, twilio_api):
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_API_BASE": telegram_api.base_url,
           "TELEGRAM_WEBHOOK_URL": "https://infomigra.example.gob.pe/webhooks/telegram/webhook",
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_NUMBER": NUMBER,
           "TWILIO_WEBHOOK_URL": PUBLIC_URL, "TWILIO_API_BASE": twilio_api.url, "INFOMIGRA_CONTACT_EMAIL": EMAIL,
           "ACTION_TIMEOUT_SECONDS": "3"}
    with running_stack(tmp_path_factory.mktemp("failures"), extra_env=env) as running:
        yield running


# --- the two channels as their providers speak ---------------------------------------------------------
def new_chat() -> int:
    chat = next(_chats)
    PEOPLE.append(str(chat))
    return chat


def new_phone() -> str:
    number = "+519" + "".join(secrets.choice("0123456789") for _ in range(8))
    PEOPLE.append(number)
    return number


def telegram_update(chat: int, text: str) -> dict[str, Any]:
    return {"update_id": next(_updates),
            "message": {"message_id": random.randint(1, 10**6), "date": int(time.time()), "text": text,
                        "chat": {"id": chat, "type": "private", "first_name": "Rosa"},
                        "from": {"id": chat, "is_bot": False, "first_name": "Rosa", "language_code": "es"}}}


def post_update(stack, body: dict) -> httpx.Response:
    return httpx.post(f"{stack.rasa_url}/webhooks/telegram/webhook", json=body, timeout=60,
                      headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})


def telegram_texts(api: FakeTelegram, chat: int) -> list[str]:
    return [call.visible_text for call in api.messages_to(chat) if call.visible_text]


def send_whatsapp(stack, phone: str, body: str) -> None:
    sid = "SM" + secrets.token_hex(16)
    form = {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Rosa", "MessageType": "text", "SmsSid": sid,
            "WaId": phone.lstrip("+"), "SmsStatus": "received", "Body": body, "To": NUMBER, "NumSegments": "1",
            "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": f"whatsapp:{phone}", "ApiVersion": "2010-04-01"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL, form)
    response = httpx.post(f"{stack.rasa_url}/webhooks/whatsapp/webhook", data=form, timeout=30,
                          headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.text


def api_call(stack, sender: str, events: Any) -> httpx.Response:
    """What the advisor desk does through Rasa's HTTP API (with whichever credential this stack uses)."""
    headers = stack.api_headers() if hasattr(stack, "api_headers") else {}
    params = {"execute_side_effects": "true", "output_channel": "latest"}
    if not headers:
        params["token"] = stack.token
    return httpx.post(f"{stack.rasa_url}/conversations/{sender}/tracker/events", params=params, headers=headers,
                      json=events, timeout=60)


async def web_turn(stack, text: str) -> list[str]:
    """One message from the web widget (Socket.IO v5 on a plain WebSocket); the texts of its turn."""
    url = stack.rasa_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(url, origin=stack.rasa_url) as ws:
        await ws.recv()
        await ws.send("40")
        await ws.recv()

        async def until(name: str) -> list[tuple[str, object]]:
            seen = []
            while True:
                frame = await asyncio.wait_for(ws.recv(), 60)
                if frame == "2":
                    await ws.send("3")
                elif isinstance(frame, str) and frame.startswith("42"):
                    got, *data = json.loads(frame[2:])
                    if got == name:
                        return seen
                    seen.append((got, data[0] if data else None))

        await ws.send("42" + json.dumps(["session_request", {}]))
        await until("history")
        await ws.send("42" + json.dumps(["user_uttered", {"message": text}]))
        return [data["text"] for got, data in await until("turn_end") if got == "bot_uttered"]


def is_apology(text: str) -> bool:
    return text.startswith("Tenemos un problema técnico") and EMAIL in text


# --- the tests ----------------------------------------------------------------------------------------------
def test_with_the_action_server_down_people_are_told_except_when_an_advisor_has_them(stack, telegram_api, twilio_api):
    chat, phone, paused_chat = new_chat(), new_phone(), new_chat()
    assert post_update(stack, telegram_update(paused_chat, "hola")).status_code == 200
    assert api_call(stack, f"telegram:{paused_chat}", {"event": "pause"}).status_code == 200
    before_paused = len(telegram_texts(telegram_api, paused_chat))
    stack.kill_actions()
    try:
        assert post_update(stack, telegram_update(chat, QUESTION)).status_code == 200
        send_whatsapp(stack, phone, QUESTION)
        [reply] = twilio_api.wait_for(f"whatsapp:{phone}", 1)
        assert post_update(stack, telegram_update(paused_chat, "sigo esperando")).status_code == 200
        web = asyncio.run(web_turn(stack, QUESTION))
        rest_sender = "rest-" + secrets.token_hex(6)
        rest = [m.get("text", "") for m in stack.say(rest_sender, SPAIN_PAYLOAD)]
    finally:
        stack.restart_actions()
    assert [is_apology(t) for t in telegram_texts(telegram_api, chat)] == [True]
    assert is_apology(reply.body), reply.body
    assert [is_apology(t) for t in web] == [True], web
    assert [is_apology(t) for t in rest] == [True], rest
    assert len(telegram_texts(telegram_api, paused_chat)) == before_paused  # an advisor has it: no apology
    # and with the action server back, the same conversations are answered again (Rasa's circuit breaker,
    # tripped by the failing action, no longer trips at once at every later message)
    assert post_update(stack, telegram_update(chat, QUESTION)).status_code == 200
    assert not is_apology(telegram_texts(telegram_api, chat)[-1])
    assert "España" in "\n".join(telegram_texts(telegram_api, chat)[1:])
    send_whatsapp(stack, phone, QUESTION)
    assert not is_apology(twilio_api.wait_for(f"whatsapp:{phone}", 2)[-1].body)
    again = [m.get("text", "") for m in stack.say(rest_sender, SPAIN_PAYLOAD)]
    assert again and not any(is_apology(t) for t in again) and "España" in "\n".join(again)


def test_a_telegram_update_that_failed_is_delivered_again_and_then_handled(stack, telegram_api):
    chat = new_chat()
    body = telegram_update(chat, "hola")
    telegram_api.blocked_chats.add(chat)  # neither the answer nor the apology gets through
    try:
        first = post_update(stack, body)
    finally:
        telegram_api.blocked_chats.discard(chat)
    assert first.status_code >= 500  # Telegram delivers a non-2xx update again
    again = post_update(stack, body)  # that redelivery
    assert again.status_code == 200 and not again.json().get("duplicate")
    assert "PERÚ INFOMIGRA" in "\n".join(telegram_texts(telegram_api, chat))
    third = post_update(stack, body)  # handled now: recorded as seen
    assert third.status_code == 200 and third.json().get("duplicate") is True


def test_an_advisor_message_twilio_refuses_is_an_error_not_delivered(stack, twilio_api):
    phone = new_phone()
    send_whatsapp(stack, phone, "hola")
    twilio_api.wait_for(f"whatsapp:{phone}", 1)
    twilio_api.refused.add(f"whatsapp:{phone}")
    try:
        response = api_call(stack, f"whatsapp:{phone}", {"event": "bot", "text": "Respuesta de la asesora"})
    finally:
        twilio_api.refused.discard(f"whatsapp:{phone}")
    assert response.status_code >= 400, response.text  # the desk records it as failed (RasaRefused)
    assert phone not in response.text
    # the same message to a number Twilio accepts is delivered
    assert api_call(stack, f"whatsapp:{phone}", {"event": "bot", "text": "Respuesta de la asesora"}).status_code == 200
    assert twilio_api.to(f"whatsapp:{phone}")[-1].body == "Respuesta de la asesora"


def test_the_servers_logs_show_no_bot_token_and_no_phone_or_chat_id(stack, telegram_api, twilio_api):
    """After whole exchanges on both channels (and the failures above, whose errors are logged)."""
    chat, phone = new_chat(), new_phone()
    for text in ("hola", QUESTION, "quiero hablar con un asesor"):
        assert post_update(stack, telegram_update(chat, text)).status_code == 200
        send_whatsapp(stack, phone, text)
    twilio_api.wait_for(f"whatsapp:{phone}", 3)
    twilio_api.refused.add(f"whatsapp:{phone}")  # an error that names the number
    try:
        api_call(stack, f"whatsapp:{phone}", {"event": "bot", "text": "¿Sigues ahí?"})
    finally:
        twilio_api.refused.discard(f"whatsapp:{phone}")
    time.sleep(0.5)
    rasa_log = (stack.log_dir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    actions_log = (stack.log_dir / "actions.log").read_text(encoding="utf-8", errors="replace")
    assert telegram_api.calls_of("sendMessage") and rasa_log
    assert TOKEN not in rasa_log and TOKEN.split(":")[1] not in rasa_log
    for log in (rasa_log, actions_log):
        leaked = [person for person in PEOPLE if person in log or person.lstrip("+") in log]
        assert leaked == [], f"in the log: {leaked}"
    assert masked(f"whatsapp:{phone}") in rasa_log  # the refusal was logged, masked

"""Flood limits through the real stack: a flood from one sender or one address is refused before Rasa,
politely, while another person is answered normally.

The stack trusts X-Forwarded-For from 127.0.0.1 (FLOOD_TRUSTED_PROXIES), as behind a reverse proxy, so
the tests can speak from several client addresses; the limits are small to keep the test short. Every
assertion is on outcomes and counts (answers, 429s, Rasa's recorded messages), never on timing.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import websockets

from bot.rasa.channels.limits import TOO_MANY, TOO_MANY_CONNECTIONS
from tests.stack import running_stack

pytestmark = pytest.mark.e2e

PER_SENDER, PER_ADDRESS, CONNECTIONS = 5, 12, 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    env = {"FLOOD_SENDER_PER_MINUTE": str(PER_SENDER), "FLOOD_ADDRESS_PER_MINUTE": str(PER_ADDRESS),
           "FLOOD_WEB_CONNECTIONS_PER_ADDRESS": str(CONNECTIONS), "FLOOD_TRUSTED_PROXIES": "127.0.0.1"}
    with running_stack(tmp_path_factory.mktemp("flood"), env) as running:
        yield running


def post(stack, sender: str, text: str, address: str) -> httpx.Response:
    return httpx.post(stack.webhook(), json={"sender": sender, "message": text},
                      headers={**stack.rest_headers(), "X-Forwarded-For": address}, timeout=120)


def user_messages(stack, sender: str) -> int:
    return sum(e["event"] == "user" for e in stack.tracker(sender)["events"])


def test_a_flooding_sender_is_refused_while_another_sender_is_answered(stack):
    flood = 3 * PER_SENDER
    with ThreadPoolExecutor(flood + 1) as pool:  # all at once: the refusals never wait for a refill
        flooding = [pool.submit(post, stack, "flooder", f"hola {i}", "203.0.113.10") for i in range(flood)]
        other = pool.submit(post, stack, "bystander", "q papeles necesito pa trabajar en españa", "203.0.113.10")
        statuses = [f.result().status_code for f in flooding]
        answer = other.result()
    assert statuses.count(200) == PER_SENDER and statuses.count(429) == flood - PER_SENDER
    refused = next(f.result() for f in flooding if f.result().status_code == 429)
    assert refused.json()["error"] == TOO_MANY and int(refused.headers["Retry-After"]) >= 1
    # the bystander, from the same address, in the middle of the flood: answered normally
    assert answer.status_code == 200 and answer.json() and all(m.get("text") for m in answer.json())
    assert user_messages(stack, "flooder") == PER_SENDER  # the refused ones never reached Rasa
    assert user_messages(stack, "bystander") == 1


def test_a_flooding_address_is_refused_while_another_address_is_answered(stack):
    with ThreadPoolExecutor(PER_ADDRESS + 6) as pool:  # a new sender each time, one address
        results = list(pool.map(lambda i: post(stack, f"rotating-{i}", "hola", "198.51.100.20").status_code,
                                range(PER_ADDRESS + 6)))
    assert results.count(200) == PER_ADDRESS and results.count(429) == 6
    answer = post(stack, "elsewhere", "hola", "198.51.100.21")
    assert answer.status_code == 200 and answer.json()


async def _connect(stack, address: str):
    url = stack.rasa_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = await websockets.connect(url, origin=stack.rasa_url, extra_headers={"X-Forwarded-For": address})
    assert (await ws.recv()).startswith("0{")
    await ws.send("40")
    return ws, await ws.recv()


async def _events(ws, seconds: float) -> list[tuple[str, dict]]:
    events = []
    try:
        while True:
            frame = await asyncio.wait_for(ws.recv(), seconds)
            if frame == "2":
                await ws.send("3")
            elif frame.startswith("42"):
                name, *data = json.loads(frame[2:])
                events.append((name, data[0] if data else {}))
    except (asyncio.TimeoutError, websockets.ConnectionClosed):
        return events


async def _events_until(ws, name: str) -> list[tuple[str, dict]]:
    events = []
    while not events or events[-1][0] != name:
        frame = await asyncio.wait_for(ws.recv(), 30)
        if frame.startswith("42"):
            got, *data = json.loads(frame[2:])
            events.append((got, data[0] if data else {}))
    return events


def test_widget_connections_per_address_are_capped(stack):
    async def scenario():
        opened = [await _connect(stack, "192.0.2.30") for _ in range(CONNECTIONS)]
        assert all(reply.startswith("40") for _, reply in opened)
        ws, refused = await _connect(stack, "192.0.2.30")
        assert refused.startswith("44") and json.loads(refused[2:])["message"] == TOO_MANY_CONNECTIONS
        await ws.close()
        other, reply = await _connect(stack, "192.0.2.31")  # another address is not affected
        assert reply.startswith("40")
        await opened[0][0].close()
        await asyncio.sleep(0.5)  # the server sees the close (not a timing assertion: the next line waits for it)
        for _ in range(20):
            again, reply = await _connect(stack, "192.0.2.30")
            if reply.startswith("40"):
                break
            await again.close()
            await asyncio.sleep(0.25)
        assert reply.startswith("40")
        for ws, _ in [*opened[1:], (other, None), (again, None)]:
            await ws.close()

    asyncio.run(scenario())


def test_a_flooding_widget_session_is_told_once_and_only_its_limit_reaches_rasa(stack):
    async def scenario():
        ws, _ = await _connect(stack, "192.0.2.40")
        await ws.send("42" + json.dumps(["session_request", {}]))
        first = await _events_until(ws, "session_confirm")
        for _ in range(3 * PER_SENDER):
            await ws.send("42" + json.dumps(["user_uttered", {"message": "hola"}]))
        events = await _events(ws, 4)
        await ws.close()
        return first + events

    events = asyncio.run(scenario())
    session = next(data["session_id"] for name, data in events if name == "session_confirm")
    notices = [data["text"] for name, data in events if name == "notice"]
    assert notices.count(TOO_MANY) == 1
    assert any(name == "bot_uttered" for name, _ in events)
    assert user_messages(stack, f"web:{session}") == PER_SENDER


# --- Telegram: per chat (updates come from Telegram's servers, so no address) ---------------------------
TELEGRAM_TOKEN = "7012345678:AAH-prueba_infomigra_0123456789abcdef"
TELEGRAM_SECRET = "flood-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def telegram(tmp_path_factory):
    from tests.fakes.telegram import FakeTelegram

    with FakeTelegram(TELEGRAM_TOKEN) as api:
        env = {"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
               "TELEGRAM_API_BASE": api.base_url, "TELEGRAM_WEBHOOK_URL": "https://infomigra.example.gob.pe/webhooks/telegram/webhook",
               "FLOOD_SENDER_PER_MINUTE": str(PER_SENDER)}
        with running_stack(tmp_path_factory.mktemp("flood-telegram"), env) as running:
            yield running, api


def telegram_update(stack, update_id: int, chat_id: int, text: str) -> httpx.Response:
    chat = {"id": chat_id, "type": "private", "first_name": "Rosa"}
    body = {"update_id": update_id, "message": {"message_id": update_id, "date": 1764770000, "chat": chat,
                                                "from": {"id": chat_id, "is_bot": False, "first_name": "Rosa"},
                                                "text": text}}
    return httpx.post(f"{stack.rasa_url}/webhooks/telegram/webhook", json=body,
                      headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}, timeout=120)


def test_a_flooding_telegram_chat_is_told_once_while_another_chat_is_answered(telegram):
    stack, api = telegram
    flood = 3 * PER_SENDER
    with ThreadPoolExecutor(flood + 1) as pool:
        flooding = [pool.submit(telegram_update, stack, 5_000_000 + i, 900_001, f"hola {i}") for i in range(flood)]
        other = pool.submit(telegram_update, stack, 6_000_000, 900_002, "q papeles necesito pa trabajar en españa")
        assert all(f.result().status_code == 200 for f in flooding) and other.result().status_code == 200
    told = [call for call in api.messages_to(900_001) if TOO_MANY in (call.visible_text or "")]
    assert len(told) == 1  # once for the whole spell, not once per refused update
    assert user_messages(stack, "telegram:900001") == PER_SENDER
    assert api.messages_to(900_002) and not any(TOO_MANY in (c.visible_text or "") for c in api.messages_to(900_002))
    assert user_messages(stack, "telegram:900002") == 1


# --- WhatsApp: per number (every request comes from Twilio, so no address) --------------------------------
TWILIO_SID, TWILIO_TOKEN = "AC" + "0" * 32, "f" * 32
TWILIO_NUMBER, TWILIO_URL = "whatsapp:+14155238886", "https://infomigra.example.gob.pe/webhooks/whatsapp/webhook"


@pytest.fixture(scope="module")
def whatsapp(tmp_path_factory):
    import yaml

    from tests.fakes.twilio import FakeTwilio
    from tests.stack import ROOT

    work = tmp_path_factory.mktemp("flood-whatsapp")
    registered = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    credentials = work / "credentials.yml"
    credentials.write_text(yaml.safe_dump({name: registered.get(name) for name in
                                           ("bot.rasa.channels.rest.CheckedRestInput", "bot.rasa.channels.whatsapp.WhatsAppInput")}))
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as api:
        env = {"TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "TWILIO_WHATSAPP_NUMBER": TWILIO_NUMBER,
               "TWILIO_WEBHOOK_URL": TWILIO_URL, "TWILIO_API_BASE": api.url, "FLOOD_SENDER_PER_MINUTE": str(PER_SENDER)}
        with running_stack(work, extra_env=env, credentials=credentials) as running:
            yield running, api


def whatsapp_message(stack, number: str, body: str, sid: str) -> httpx.Response:
    from twilio.request_validator import RequestValidator

    form = {"MessageSid": sid, "SmsMessageSid": sid, "AccountSid": TWILIO_SID, "From": f"whatsapp:{number}",
            "To": TWILIO_NUMBER, "Body": body, "NumMedia": "0", "ProfileName": "Rosa"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, form)
    return httpx.post(f"{stack.rasa_url}/webhooks/whatsapp/webhook", data=form,
                      headers={"X-Twilio-Signature": signature}, timeout=60)


def test_a_flooding_whatsapp_number_is_told_once_and_can_still_opt_out(whatsapp):
    stack, api = whatsapp
    flooder, other = "+51911100001", "+51911100002"
    flood = 3 * PER_SENDER
    with ThreadPoolExecutor(flood + 1) as pool:
        posted = [pool.submit(whatsapp_message, stack, flooder, f"hola {i}", f"SM{i:032x}") for i in range(flood)]
        bystander = pool.submit(whatsapp_message, stack, other, "q papeles necesito pa trabajar en españa", "SM" + "e" * 32)
        assert all(p.result().status_code == 200 for p in posted) and bystander.result().status_code == 200
    # Messages are handled after Twilio's 200: wait for the outcomes (the allowed ones answered), then count.
    api.wait_until(f"whatsapp:{flooder}", lambda ms: sum(TOO_MANY not in m.body for m in ms) >= PER_SENDER, timeout=120)
    assert user_messages(stack, f"whatsapp:{flooder}") == PER_SENDER
    assert [m.body for m in api.to(f"whatsapp:{flooder}")].count(TOO_MANY) == 1
    answered = api.wait_for(f"whatsapp:{other}", 1, timeout=120)
    assert not any(TOO_MANY in m.body for m in answered)
    # Still over the limit, "BAJA" is always honoured.
    assert whatsapp_message(stack, flooder, "BAJA", "SM" + "b" * 32).status_code == 200
    opted_out = "no te enviaremos más mensajes por WhatsApp"  # bot/rasa/channels/whatsapp.py OPTED_OUT (Rasa's venv)
    api.wait_until(f"whatsapp:{flooder}", lambda ms: any(opted_out in m.body for m in ms), timeout=60)

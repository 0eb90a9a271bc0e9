"""The Telegram channel end to end: real Bot API updates posted to the real Rasa server (with the
real action server), answers sent by python-telegram-bot's Bot to a local fake of the Bot API that
checks and records every call (tests/fakes/telegram.py)."""

from __future__ import annotations

import itertools
import os
import random
import secrets
import subprocess
import time
from typing import Any

import httpx
import pytest

from bot import knowledge
from bot.rasa.channels.checks import UNREADABLE
from bot.rasa.channels.telegram_webhook import TEXT_LIMIT, escape
from tests.fakes.telegram import FakeTelegram, utf16_len
from tests.stack import ROOT, running_stack

KB = knowledge.load()

pytestmark = pytest.mark.e2e

TOKEN = "7012345678:AAH-prueba_infomigra_0123456789abcdef"
SECRET = secrets.token_urlsafe(32)
PUBLIC_URL = "https://infomigra.example.gob.pe/webhooks/telegram/webhook"
HEADER = "X-Telegram-Bot-Api-Secret-Token"

_chat_ids = itertools.count(random.randint(10**8, 9 * 10**8))
_update_ids = itertools.count(random.randint(10**6, 10**8))
_message_ids = itertools.count(1)


# --- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api():
    with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def tg(api, tmp_path_factory):
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_API_BASE": api.base_url,
           "TELEGRAM_WEBHOOK_URL": PUBLIC_URL}
    with running_stack(tmp_path_factory.mktemp("telegram"), extra_env=env) as stack:
        yield stack


# --- real Bot API JSON ------------------------------------------------------------------------------------
def new_chat() -> int:
    return next(_chat_ids)


def person(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Rosa", "last_name": "Quispe", "language_code": "es"}


def message(chat_id: int, text: str | None = None, chat: dict | None = None, **content: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"message_id": next(_message_ids), "date": int(time.time()),
                            "chat": chat or {"id": chat_id, "type": "private", "first_name": "Rosa", "last_name": "Quispe"},
                            "from": person(abs(chat_id)), **content}
    if text is not None:
        data["text"] = text
        if text.startswith("/"):
            data["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return data


def update(**kind: Any) -> dict[str, Any]:
    return {"update_id": next(_update_ids), **kind}


def post(stack, body: Any, secret: str | None = SECRET, **kwargs: Any) -> httpx.Response:
    headers = {HEADER: secret} if secret is not None else {}
    if "content" in kwargs:
        headers.update(kwargs.pop("headers", {}))
        return httpx.post(f"{stack.rasa_url}/webhooks/telegram/webhook", headers=headers, timeout=60, **kwargs)
    return httpx.post(f"{stack.rasa_url}/webhooks/telegram/webhook", json=body, headers=headers, timeout=60)


def say(stack, chat_id: int, text: str) -> None:
    response = post(stack, update(message=message(chat_id, text)))
    assert response.status_code == 200, response.text


def sent(api: FakeTelegram, chat_id: int) -> list:
    return api.messages_to(chat_id)


def visible(api: FakeTelegram, chat_id: int) -> str:
    return "\n".join(call.visible_text for call in sent(api, chat_id))


def buttons(call) -> list[dict]:
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def titles(api: FakeTelegram, chat_id: int) -> list[str]:
    return [b["text"] for call in sent(api, chat_id) for b in buttons(call)]


def press(stack, api: FakeTelegram, chat_id: int, title: str, query_id: str | None = None) -> str:
    """Tap the latest inline button with this title; returns the callback query id."""
    call, button = next((c, b) for c in reversed(sent(api, chat_id)) for b in buttons(c) if b["text"] == title)
    query_id = query_id or str(random.getrandbits(63))
    query = {"id": query_id, "from": person(chat_id), "message": call.result, "chat_instance": "-5120731911111111111",
             "data": button["callback_data"]}
    response = post(stack, update(callback_query=query))
    assert response.status_code == 200, response.text
    return query_id


def tap_forged(stack, api: FakeTelegram, chat_id: int, data: str) -> str:
    bot_message = {"message_id": 1, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
                   "from": api.user(), "text": "Menú"}
    query_id = str(random.getrandbits(63))
    query = {"id": query_id, "from": person(chat_id), "message": bot_message, "chat_instance": "-1", "data": data}
    assert post(stack, update(callback_query=query)).status_code == 200
    return query_id


def tracker(stack, chat_id: int) -> dict:
    return stack.tracker(f"telegram:{chat_id}")


def user_turns(stack, chat_id: int) -> list[dict]:
    return [e for e in tracker(stack, chat_id)["events"] if e["event"] == "user"]


def push(stack, chat_id: int, events: Any) -> httpx.Response:
    return httpx.post(f"{stack.rasa_url}/conversations/telegram:{chat_id}/tracker/events", json=events, timeout=60,
                      params={"execute_side_effects": "true", "output_channel": "latest"}, headers=stack.api_headers())


# --- the secret and bad requests ---------------------------------------------------------------------
@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1], SECRET.upper()])
def test_a_missing_or_wrong_secret_is_refused(tg, api, secret):
    chat = new_chat()
    response = post(tg, update(message=message(chat, "hola")), secret=secret)
    assert response.status_code == 403
    assert sent(api, chat) == [] and user_turns(tg, chat) == []


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"hola"', "application/json", 400),
        (b'{"message": {"text": "hola"}}', "application/json", 400),  # no update_id
        (b'{"update_id": "1"}', "application/json", 400),
        (b'{"update_id": 5, "message": "hola"}', "application/json", 400),
        (b'{"update_id": 6, "message": {"message_id": 1, "text": "hola"}}', "application/json", 400),  # no chat
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),  # deep nesting
        (b'{"update_id": 7, "x": "' + b"a" * 2_000_000 + b'"}', "application/json", 413),
        (b"update_id=8&message=hola", "application/x-www-form-urlencoded", 415),
        (b'{"update_id": 9}', "text/plain", 415),
    ],
)
def test_malformed_huge_and_wrong_content_type_get_a_4xx(tg, content, content_type, status):
    response = post(tg, None, content=content, headers={"content-type": content_type})
    assert response.status_code == status
    assert "error" in response.json()


def test_the_server_still_answers_after_bad_requests(tg, api):
    chat = new_chat()
    say(tg, chat, "hola")
    assert "PERÚ INFOMIGRA" in visible(api, chat)


# --- conversations ----------------------------------------------------------------------------------------
def test_a_question_gets_the_article_with_an_inline_keyboard(tg, api):
    chat = new_chat()
    say(tg, chat, "q papeles necesito pa chambear en españa porfa")
    calls = sent(api, chat)
    assert calls and all(c.params["chat_id"] == chat and c.params["parse_mode"] == "HTML" for c in calls)
    assert all(c.params["link_preview_options"] == {"is_disabled": True} for c in calls)
    # the written summary first; at most four bubbles, the last with "Ver más" and the menu
    assert calls[0].visible_text == KB.get("emigrar/tramites/espana").summary
    assert "España" in calls[0].visible_text and "Actualizado:" not in visible(api, chat)
    assert len(calls) <= 4
    assert tracker(tg, chat)["slots"]["article_id"] == "emigrar/tramites/espana"
    keyboard = buttons(calls[-1])
    assert keyboard and all(buttons(c) == [] for c in calls[:-1])  # buttons only on the last part
    assert [b["text"] for b in keyboard] == ["Ver más", "Volver al menú"]
    for button in keyboard:  # short references, never the payload itself
        assert 1 <= len(button["callback_data"].encode()) <= 64
        assert not button["callback_data"].startswith("/")
    first = len(calls)
    press(tg, api, chat, "Ver más")  # the rest of the answer: at most four more, the sources and the date last
    api.wait_for(lambda: "Actualizado:" in visible(api, chat), what="the rest of the answer")
    rest = sent(api, chat)[first:]
    assert 1 <= len(rest) <= 4 and "Actualizado:" in rest[-1].visible_text
    assert "Volver al menú" in [b["text"] for b in buttons(rest[-1])]
    assert tracker(tg, chat)["latest_message"]["intent"]["name"] == "elegir_articulo"
    # the typing indicator was shown
    api.wait_for(lambda: api.calls_of("sendChatAction", chat), what="sendChatAction")
    assert api.calls_of("sendChatAction", chat)[0].params["action"] == "typing"


def test_spanish_text_arrives_intact(tg, api):
    chat = new_chat()
    text = "¡Hola! ¿Qué necesito para trabajar en España? Soy de Cañete, año 2025, «gracias»"
    say(tg, chat, text)
    assert tracker(tg, chat)["latest_message"]["text"] == text


def test_pressing_buttons_continues_the_conversation(tg, api):
    chat = new_chat()
    say(tg, chat, "/start")
    query_id = press(tg, api, chat, "Quiero trabajar en el extranjero")
    answers = [c for c in api.calls_of("answerCallbackQuery") if c.params["callback_query_id"] == query_id]
    assert len(answers) == 1 and not answers[0].params.get("text")  # answered, no error toast
    assert tracker(tg, chat)["latest_message"]["intent"]["name"] == "linea_emigrar"
    assert "Permisos y visas por país" in titles(api, chat)
    press(tg, api, chat, "Permisos y visas por país")
    country_buttons = [b for b in buttons(sent(api, chat)[-1])]
    assert "España" in [b["text"] for b in country_buttons]
    press(tg, api, chat, "España")  # payload /informar_pais{"country":"espana"} stays on our side
    assert tracker(tg, chat)["slots"]["article_id"] == "emigrar/tramites/espana"
    press(tg, api, chat, "Ver más")
    api.wait_for(lambda: "Actualizado:" in sent(api, chat)[-1].visible_text, what="the sources and the date")


def test_forged_callback_data_gets_a_polite_answer_and_reaches_no_intent(tg, api):
    chat, other = new_chat(), new_chat()
    say(tg, chat, "/menu")
    say(tg, other, "/menu")
    others_ref = next(b["callback_data"] for b in buttons(sent(api, other)[-1]) if b["text"] == "Hablar con un asesor")
    before = len(user_turns(tg, chat))
    for data in ["/pedir_asesor", '/pedir_asesor{"handoff": true}', others_ref, "x" * 64, "zzzzzzzzzzzz"]:
        query_id = tap_forged(tg, api, chat, data)
        answer = next(c for c in api.calls_of("answerCallbackQuery") if c.params["callback_query_id"] == query_id)
        assert "ya no está disponible" in answer.params["text"]
    state = tracker(tg, chat)
    assert len(user_turns(tg, chat)) == before
    assert state["slots"]["handoff"] is False
    assert len(sent(api, chat)) == 1  # only the menu; a forged tap sends no message


@pytest.mark.parametrize(
    ("command", "intent"),
    [("/start", "saludo"), ("/start@InfomigraPruebaBot", "saludo"), ("/start campania2025", "saludo"), ("/menu", "menu"),
     ("/ayuda", "menu"), ("/MENU", "menu"), ("/asesor", "pedir_asesor"), ("/sugerencia", "dejar_sugerencia"),
     ("/privacidad", "info_privacidad")],
)
def test_each_command_works(tg, api, command, intent):
    chat = new_chat()
    say(tg, chat, command)
    state = tracker(tg, chat)
    assert state["latest_message"]["intent"]["name"] == intent
    assert sent(api, chat), "no answer"
    if intent == "menu":
        assert {"Quiero trabajar en el extranjero", "Hablar con un asesor"} <= set(titles(api, chat))
    if intent == "pedir_asesor":
        assert state["slots"]["handoff"] is True
    if intent == "info_privacidad":
        assert state["slots"]["article_id"] == "info/privacidad"


@pytest.mark.parametrize(
    "text", ['/pedir_asesor{"handoff": true}', "/pedir_asesor", '/elegir_articulo{"article":"info/contacto"}', "/restart"],
)
def test_typed_intents_are_neutralized(tg, api, text):
    chat = new_chat()
    say(tg, chat, text)
    state = tracker(tg, chat)
    assert state["slots"]["handoff"] is False and state["slots"]["article_id"] is None
    assert user_turns(tg, chat) == []  # never reached the NLU
    assert "No conozco ese comando" in visible(api, chat) and "/asesor" in visible(api, chat)


def test_other_text_starting_with_a_slash_goes_through_the_nlu_without_it(tg, api):
    chat = new_chat()
    say(tg, chat, "/ q papeles necesito pa trabajar en españa")
    state = tracker(tg, chat)
    assert not state["latest_message"]["text"].startswith("/")
    assert state["slots"]["article_id"] == "emigrar/tramites/espana"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"voice": {"file_id": "AwACAgEAAxkBAAI", "file_unique_id": "AgADzQ", "duration": 4, "mime_type": "audio/ogg",
                    "file_size": 10240}}, "tu nota de voz"),
        ({"photo": [{"file_id": "AgACAgEAAxk1", "file_unique_id": "AQADx1", "width": 90, "height": 67, "file_size": 1200},
                    {"file_id": "AgACAgEAAxk2", "file_unique_id": "AQADx2", "width": 1280, "height": 960, "file_size": 98000}],
          "caption": "mi contrato"}, "tu foto"),
        ({"sticker": {"file_id": "CAACAgIAAxk", "file_unique_id": "AgADBQ", "type": "regular", "width": 512, "height": 512,
                      "is_animated": False, "is_video": False, "emoji": "👍"}}, "tu sticker"),
        ({"document": {"file_id": "BQACAgEAAxk", "file_unique_id": "AgADQw", "file_name": "contrato.pdf",
                       "mime_type": "application/pdf", "file_size": 52000}}, "tu documento"),
        ({"location": {"latitude": -12.046374, "longitude": -77.042793}}, "tu ubicación"),
    ],
)
def test_non_text_messages_get_a_helpful_answer(tg, api, content, expected):
    chat = new_chat()
    assert post(tg, update(message=message(chat, **content))).status_code == 200
    [answer] = sent(api, chat)
    assert expected in answer.visible_text and "solo puedo leer mensajes de texto" in answer.visible_text
    assert user_turns(tg, chat) == []


def test_edited_messages_get_a_helpful_answer(tg, api):
    chat = new_chat()
    say(tg, chat, "hola")
    before = (len(sent(api, chat)), len(user_turns(tg, chat)))
    edited = message(chat, "q papeles necesito pa chambear en españa", edit_date=int(time.time()))
    assert post(tg, update(edited_message=edited)).status_code == 200
    assert len(sent(api, chat)) == before[0] + 1 and "editaste un mensaje" in sent(api, chat)[-1].visible_text
    assert len(user_turns(tg, chat)) == before[1]


@pytest.mark.parametrize("text", ["😀🙏🇵🇪", "???", "/"])
def test_messages_without_words_get_unreadable(tg, api, text):
    chat = new_chat()
    say(tg, chat, text)
    assert [c.visible_text for c in sent(api, chat)] == [UNREADABLE]


def test_a_repeated_update_is_processed_once(tg, api):
    chat = new_chat()
    body = update(message=message(chat, "hola"))
    assert post(tg, body).status_code == 200
    first = len(sent(api, chat))
    assert first >= 1
    for _ in range(2):  # Telegram re-delivers after a timeout
        response = post(tg, body)
        assert response.status_code == 200 and response.json().get("duplicate") is True
    assert len(sent(api, chat)) == first
    assert len(user_turns(tg, chat)) == 1


@pytest.mark.parametrize(
    ("kind", "chat"),
    [("message", {"type": "group", "title": "Migrantes Lima"}), ("message", {"type": "supergroup", "title": "Peruanos en Madrid"}),
     ("channel_post", {"type": "channel", "title": "Noticias"})],
)
def test_group_and_channel_chats_are_refused_politely(tg, api, kind, chat):
    chat_id = -(10**12 + new_chat()) if chat["type"] != "group" else -new_chat()
    chat = {"id": chat_id, **chat}
    body = message(chat_id, "/start hola", chat=chat)
    if kind == "channel_post":
        body.pop("from")
    assert post(tg, update(**{kind: body})).status_code == 200
    [refusal] = sent(api, chat_id)
    assert "chats privados" in refusal.visible_text and "https://t.me/InfomigraPruebaBot" in refusal.visible_text
    assert [c.params["chat_id"] for c in api.calls_of("leaveChat", chat_id)] == [chat_id]
    assert user_turns(tg, chat_id) == []


def test_being_added_to_a_group_is_refused(tg, api):
    group = -new_chat()
    change = {"chat": {"id": group, "type": "group", "title": "Familia"}, "from": person(new_chat()), "date": int(time.time()),
              "old_chat_member": {"status": "left", "user": api.user()},
              "new_chat_member": {"status": "member", "user": api.user()}}
    assert post(tg, update(my_chat_member=change)).status_code == 200
    assert len(sent(api, group)) == 1 and api.calls_of("leaveChat", group)


def test_a_burst_from_one_chat_is_answered_in_order(tg, api):
    import concurrent.futures

    chat = new_chat()
    texts = ["hola", "q papeles necesito pa chambear en españa", "y para italia?"]
    bodies = [update(message=message(chat, text)) for text in texts]
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = []
        for body in bodies:
            futures.append(pool.submit(post, tg, body))
            time.sleep(0.02)
        assert [f.result().status_code for f in futures] == [200, 200, 200]
    assert [e["text"] for e in user_turns(tg, chat)] == texts
    assert tracker(tg, chat)["slots"]["article_id"] == "emigrar/tramites/italia"


# --- outbound formatting and pushes from the HTTP API (the advisor desk) -------------------------------------
def test_an_advisor_push_reaches_the_person_while_paused_escaped_and_intact(tg, api):
    chat = new_chat()
    say(tg, chat, "hola")
    assert push(tg, chat, {"event": "pause"}).status_code == 200
    text = 'Hola Rosa: <b>no</b> es negrita & 5 > 3 < 7; *asterisco* _guion_ `código` [enlace](https://x.pe) ¡ñandú! "comillas"'
    before = len(sent(api, chat))
    response = push(tg, chat, {"event": "bot", "text": text, "metadata": {"advisor": "ana"}})
    assert response.status_code == 200, response.text
    [call] = sent(api, chat)[before:]
    assert call.visible_text == text  # what the person sees is exactly what the advisor wrote
    assert call.params["text"] == escape(text) and "<b>" not in call.params["text"]
    # while paused, the person's messages are recorded for the advisor and the bot stays silent
    before = len(sent(api, chat))
    say(tg, chat, "gracias, espero")
    assert len(sent(api, chat)) == before
    assert user_turns(tg, chat)[-1]["text"] == "gracias, espero"


def test_a_pushed_button_works_like_the_assistants_own(tg, api):
    chat = new_chat()
    say(tg, chat, "hola")
    buttons_ = [{"title": "Volver al asistente", "payload": "/menu"}]
    assert push(tg, chat, {"event": "bot", "text": "¿Algo más?", "data": {"buttons": buttons_}}).status_code == 200
    assert [b["text"] for b in buttons(sent(api, chat)[-1])] == ["Volver al asistente"]
    press(tg, api, chat, "Volver al asistente")
    assert tracker(tg, chat)["latest_message"]["intent"]["name"] == "menu"


def test_long_texts_are_split_at_4096_characters(tg, api):
    chat = new_chat()
    say(tg, chat, "hola")
    paragraph = "Primero revisa tu contrato & tus derechos <siempre>. " * 40  # ~2,100 characters, escaped ~2,400
    text = "\n\n".join(f"{i}. {paragraph.strip()}" for i in range(6)) + "\n\n" + "ñ" * 5000  # and one unbreakable run
    before = len(sent(api, chat))
    response = push(tg, chat, {"event": "bot", "text": text, "data": {"buttons": [{"title": "Menú", "payload": "/menu"}]}})
    assert response.status_code == 200, response.text
    parts = sent(api, chat)[before:]
    assert len(parts) >= 4
    for part in parts:
        assert utf16_len(part.visible_text) <= TEXT_LIMIT and utf16_len(part.params["text"]) <= TEXT_LIMIT
    assert "".join(p.visible_text for p in parts).replace("\n", "") == text.replace("\n", "")
    assert [bool(buttons(p)) for p in parts] == [False] * (len(parts) - 1) + [True]


def test_a_push_that_telegram_refuses_is_reported_and_not_recorded(tg, api):
    chat = new_chat()
    say(tg, chat, "hola")
    api.blocked_chats.add(chat)
    try:
        response = push(tg, chat, {"event": "bot", "text": "Respuesta del asesor"})
        assert response.status_code >= 400
        assert "Respuesta del asesor" not in [e.get("text") for e in tracker(tg, chat)["events"]]
    finally:
        api.blocked_chats.discard(chat)


def test_a_short_flood_wait_is_respected(tg, api):
    chat = new_chat()
    api.flood_once[chat] = 1
    started = time.monotonic()
    say(tg, chat, "hola")
    assert time.monotonic() - started >= 1.0
    assert "PERÚ INFOMIGRA" in visible(api, chat) and chat not in api.flood_once


# --- the webhook registration command, and the channel without configuration ---------------------------------
def _register(api, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    return subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "bot.rasa.channels.telegram_webhook"], cwd=ROOT,
                          env={**base, "TELEGRAM_API_BASE": api.base_url, **env}, capture_output=True, text=True, timeout=60)


def test_the_registration_command_sets_the_webhook_with_the_secret(api):
    done = _register(api, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET, TELEGRAM_WEBHOOK_URL=PUBLIC_URL)
    assert done.returncode == 0, done.stderr
    [call] = api.calls_of("setWebhook")
    assert call.params["url"] == PUBLIC_URL and call.params["secret_token"] == SECRET
    assert {"message", "edited_message", "callback_query"} <= set(call.params["allowed_updates"])
    assert {c["command"] for c in api.commands} == {"start", "menu", "ayuda", "asesor", "sugerencia", "privacidad"}
    assert api.webhook["url"] == PUBLIC_URL


def test_the_registration_command_refuses_without_a_valid_secret(api):
    before = len(api.calls_of("setWebhook"))
    done = _register(api, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET="no vale!", TELEGRAM_WEBHOOK_URL=PUBLIC_URL)
    assert done.returncode == 2 and "TELEGRAM_WEBHOOK_SECRET" in done.stderr
    assert len(api.calls_of("setWebhook")) == before


def test_without_configuration_the_server_starts_and_the_webhook_answers_503(stack):
    """The shared stack of the other end-to-end tests has no TELEGRAM_* variables."""
    response = httpx.post(f"{stack.rasa_url}/webhooks/telegram/webhook", json=update(message=message(1, "hola")),
                          headers={HEADER: "x"}, timeout=30)
    assert response.status_code == 503 and "TELEGRAM_BOT_TOKEN" in response.json()["error"]

"""The handoff on Telegram and WhatsApp, end to end: the real Rasa and action servers with both
channels, the desk (and its worker) on the same database, and the local stand-ins of the Telegram
Bot API and of Twilio's Messages API (tests/fakes), which the official clients talk to.

The advisor works through the desk's own HTTP API (the same calls its pages make); the browser side of
the desk is covered by test_handoff_web.py.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time

import pytest
import yaml
from sqlalchemy import update

from bot import knowledge
from bot.handoff import messages as say
from bot.handoff.store import HandoffStore
from bot.store.db import get_engine
from bot.store.schema import contacts
from tests.e2e import test_telegram as tg
from tests.e2e import test_whatsapp as wa
from tests.e2e.test_desk_login import running_desk
from tests.e2e.test_handoff_web import desk_client, eventually
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio
from tests.stack import ROOT, running_stack

pytestmark = pytest.mark.e2e

TEMPLATE = "HX" + secrets.token_hex(16)
WINDOW_TEMPLATE = "HX" + secrets.token_hex(16)
WINDOW_ARTICLE = "emigrar/tramites/espana"
ACCOUNTS = {"ana.asesora@example.org": ("Ana Quispe Mamani", ["advisor"])}
CHANNELS = ("bot.rasa.channels.rest.CheckedRestInput", "bot.rasa.channels.telegram.TelegramInput",
            "bot.rasa.channels.whatsapp.WhatsAppInput")


@pytest.fixture(scope="module")
def fakes():
    with FakeTelegram(tg.TOKEN) as telegram, FakeTwilio(wa.ACCOUNT_SID, wa.AUTH_TOKEN) as twilio:
        yield telegram, twilio


@pytest.fixture(scope="module")
def system(tmp_path_factory, fakes):
    telegram, twilio = fakes
    work = tmp_path_factory.mktemp("handoff-channels")
    database = f"sqlite:///{work / 'infomigra.db'}"
    registered = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    credentials = work / "credentials.yml"
    credentials.write_text(yaml.safe_dump({name: registered.get(name) for name in CHANNELS}))
    env = {"DATABASE_URL": database, "HANDOFF_OFFICE_HOURS": "lun-dom 00:00-24:00",
           "TELEGRAM_BOT_TOKEN": tg.TOKEN, "TELEGRAM_WEBHOOK_SECRET": tg.SECRET, "TELEGRAM_API_BASE": telegram.base_url,
           "TWILIO_ACCOUNT_SID": wa.ACCOUNT_SID, "TWILIO_AUTH_TOKEN": wa.AUTH_TOKEN, "TWILIO_WHATSAPP_NUMBER": wa.NUMBER,
           "TWILIO_WEBHOOK_URL": wa.PUBLIC_URL, "TWILIO_API_BASE": twilio.url}
    with running_stack(work / "stack", env, credentials=credentials) as stack:
        stack.whatsapp_url = f"{stack.rasa_url}/webhooks/whatsapp/webhook"
        desk_env = {"DATABASE_URL": database, "RASA_URL": stack.rasa_url, "RASA_JWT_SECRET": stack.jwt_secret,
                    "HANDOFF_WORKER_SECONDS": "0.5", "HANDOFF_OFFICE_HOURS": "lun-dom 00:00-24:00",
                    "HANDOFF_WHATSAPP_TEMPLATE_SID": TEMPLATE, "WINDOW_WHATSAPP_TEMPLATE_SID": WINDOW_TEMPLATE}
        with running_desk(work / "desk", ACCOUNTS, desk_env) as desk:
            yield stack, desk, HandoffStore(get_engine(database))


def person_texts(store, ticket_id: int) -> list[str]:
    return [m.text for m in store.messages(ticket_id) if m.role == "person"]


# --- Telegram ---------------------------------------------------------------------------------------------
def test_telegram_person_and_advisor(system, fakes):
    stack, desk, store = system
    api, _ = fakes
    chat = tg.new_chat()
    tg.say(stack, chat, "/asesor")
    assert "en la cola" in tg.visible(api, chat) and "Volver al asistente" in tg.titles(api, chat)
    ticket = store.open_for(f"telegram:{chat}")
    assert ticket.channel == "telegram" and ticket.status == "waiting"

    tg.say(stack, chat, "Trabajo en Santiago y el empleador no me devuelve el pasaporte")
    photo = [{"file_id": "AgACAgEAAxkBAAIBq2", "file_unique_id": "AQADx1", "width": 800, "height": 600, "file_size": 91000}]
    assert tg.post(stack, tg.update(message=tg.message(chat, None, photo=photo, caption="mi contrato"))).status_code == 200
    eventually(lambda: len(person_texts(store, ticket.id)) >= 3)
    texts = person_texts(store, ticket.id)
    assert texts[0] == "[eligió una opción: pedir asesor]"  # the command, as the advisor reads it
    assert texts[1:] == ["Trabajo en Santiago y el empleador no me devuelve el pasaporte", "[Foto] mi contrato"]
    assert store.messages(ticket.id)[-1].attachments or any(m.attachments for m in store.messages(ticket.id))
    files = [a for m in store.messages(ticket.id) if m.attachments for a in m.attachments]
    assert files == [{"type": "photo", "file_id": "AgACAgEAAxkBAAIBq2"}]
    assert "solo puedo leer mensajes de texto" not in tg.visible(api, chat)  # no bot hint while an advisor has it
    api.wait_for(lambda: "Recibido" in tg.visible(api, chat), what="the acknowledgement")

    with desk_client(desk) as ana:
        assert ana.post(f"/api/cola/{ticket.id}/tomar").status_code == 200
        api.wait_for(lambda: "te saluda Ana" in tg.visible(api, chat), what="the greeting")
        reply = "Hola, soy Ana. ¿Tienes el contrato firmado? <No compartas tu clave con nadie>"
        assert ana.post(f"/api/cola/{ticket.id}/responder", json={"text": reply}).json()["delivery"] == "sent"
        api.wait_for(lambda: reply in tg.visible(api, chat), what="the reply")
        assert "&lt;No compartas" in tg.sent(api, chat)[-1].params["text"]  # escaped for parse_mode HTML
        assert "Ana (asesoría PERÚ INFOMIGRA)" in tg.sent(api, chat)[-1].visible_text
        tg.say(stack, chat, "Sí, lo firmé en Lima")
        eventually(lambda: "Sí, lo firmé en Lima" in person_texts(store, ticket.id))
        view = ana.get(f"/api/cola/{ticket.id}").json()
        assert view["ticket"]["channel_label"] == "Telegram" and view["last_inbound_at"]
        # the passport message got Chile's numbers, queued for the desk's delivery: closing while one
        # is still on its way is 'closing' (the farewell waits for it), so wait for the delivery first
        eventually(lambda: store.undelivered(ticket.id) == 0)
        assert ana.post(f"/api/cola/{ticket.id}/cerrar").json()["status"] == "closed"
    api.wait_for(lambda: "Ana cerró la conversación" in tg.visible(api, chat), what="the farewell")
    assert "5 · Excelente" in tg.titles(api, chat)
    tg.press(stack, api, chat, "5 · Excelente")
    api.wait_for(lambda: say.RATED in tg.visible(api, chat), what="the thanks")
    assert store.get(ticket.id).rating == 5
    assert tg.tracker(stack, chat)["slots"]["handoff"] is False


def test_telegram_menu_command_ends_the_handoff(system, fakes):
    stack, _, store = system
    api, _ = fakes
    chat = tg.new_chat()
    tg.say(stack, chat, "quiero hablar con una persona")
    ticket = store.open_for(f"telegram:{chat}")
    tg.say(stack, chat, "/menu")
    api.wait_for(lambda: "saliste de la conversación con el asesor" in tg.visible(api, chat), what="the way back")
    assert store.get(ticket.id).closed_by == "person"
    tg.say(stack, chat, "hola")
    api.wait_for(lambda: "Soy el asistente virtual" in tg.visible(api, chat), what="the assistant again")


# --- WhatsApp ---------------------------------------------------------------------------------------------
def test_whatsapp_person_and_advisor(system, fakes):
    stack, desk, store = system
    _, twilio = fakes
    person = wa.phone()
    to = f"whatsapp:{person}"
    wa.send(stack, person, "quiero hablar con un asesor")
    first = twilio.wait_until(to, lambda sent: any("en la cola" in m.body for m in sent))
    assert all(m.from_ == wa.NUMBER for m in first)
    ticket = eventually(lambda: store.open_for(to))
    wa.send(stack, person, "", NumMedia="1", MediaContentType0="image/jpeg", MediaUrl0="https://api.twilio.com/media/ME77",
            MessageType="image")
    eventually(lambda: "[Imagen]" in person_texts(store, ticket.id))
    image = next(m for m in store.messages(ticket.id) if m.text == "[Imagen]")
    assert image.attachments == [{"type": "image", "content_type": "image/jpeg", "url": "https://api.twilio.com/media/ME77"}]
    time.sleep(1)
    assert not any("Recibí tu imagen" in m.body for m in twilio.to(to))  # the bot's hint is not sent during a handoff

    with desk_client(desk) as ana:
        ana.post(f"/api/cola/{ticket.id}/tomar")
        reply = "Hola, soy Ana. Ya vi tu imagen: ¿en qué país estás?"
        ana.post(f"/api/cola/{ticket.id}/responder", json={"text": reply})
        twilio.wait_until(to, lambda sent: any(reply in m.body for m in sent))
        wa.send(stack, person, "Estoy en Italia")
        eventually(lambda: "Estoy en Italia" in person_texts(store, ticket.id))
        ana.post(f"/api/cola/{ticket.id}/cerrar")
    rating = twilio.wait_until(to, lambda sent: any("5. 5 · Excelente" in m.body for m in sent))[-1]
    assert wa.REPLY_HINT in rating.body
    wa.send(stack, person, "5")
    twilio.wait_until(to, lambda sent: any(say.RATED in m.body for m in sent))
    assert store.get(ticket.id).rating == 5


def test_whatsapp_after_24_hours_a_template_then_the_answer_when_the_person_writes(system, fakes):
    stack, desk, store = system
    _, twilio = fakes
    person = wa.phone()
    to = f"whatsapp:{person}"
    wa.send(stack, person, "necesito un asesor")
    ticket = eventually(lambda: store.open_for(to))
    with store.engine.begin() as conn:  # the person wrote 25 hours ago
        conn.execute(update(contacts).where(contacts.c.sender_id == to)
                     .values(last_inbound_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=25)))
    before = len(twilio.to(to))
    with desk_client(desk) as ana:
        ana.post(f"/api/cola/{ticket.id}/tomar")
        answer = "Revisé tu caso: el consulado de Madrid atiende los lunes."
        assert ana.post(f"/api/cola/{ticket.id}/responder", json={"text": answer}).json()["delivery"] == "held"
        templates = twilio.wait_until(to, lambda sent: any(m.content_sid for m in sent[before:]))
        assert [m.content_sid for m in templates[before:]] == [TEMPLATE]  # no free text outside the window
        assert not any(answer in m.body for m in twilio.to(to))
        view = ana.get(f"/api/cola/{ticket.id}").json()
        assert view["whatsapp_window_open"] is False
        assert [m["delivery"] for m in view["messages"] if m["role"] == "advisor"] == ["held"]
        wa.send(stack, person, "Hola, ¿qué me respondieron?")  # the person answers the template
        delivered = twilio.wait_until(to, lambda sent: any(answer in m.body for m in sent))
        greeting = next(i for i, m in enumerate(delivered) if "te saluda Ana" in m.body)
        assert greeting < next(i for i, m in enumerate(delivered) if answer in m.body)  # in the order written
        eventually(lambda: "Hola, ¿qué me respondieron?" in person_texts(store, ticket.id))
        assert ana.post(f"/api/cola/{ticket.id}/cerrar").json()["status"] in ("closing", "closed")  # closing: a send in flight
    eventually(lambda: store.get(ticket.id).resumed_at)
    twilio.wait_until(to, lambda sent: any(say.RATE in m.body for m in sent))


# --- The window's articles to WhatsApp (bot/window/whatsapp.py) ---------------------------------------------
def test_a_walk_in_gets_the_articles_on_whatsapp_after_answering_the_template(system, fakes):
    stack, desk, store = system
    _, twilio = fakes
    person = wa.phone()
    to = f"whatsapp:{person}"
    title = knowledge.load().get(WINDOW_ARTICLE).title
    with desk_client(desk) as ana:
        visit = ana.post("/api/ventanilla/registros", json={"line": "emigrar", "country": "espana", "consent": True,
                                                             "articles": [WINDOW_ARTICLE], "whatsapp": person}).json()["visit"]
        sent = ana.post(f"/api/ventanilla/registros/{visit['id']}/whatsapp", json={})
        assert sent.status_code == 200 and sent.json()["outcome"] == "waiting"  # the person never wrote to us
        [template] = twilio.wait_for(to, 1)
        assert template.content_sid == WINDOW_TEMPLATE and not template.body  # no free text before they write
        assert json.loads(template.content_variables) == {"1": visit["reference"], "2": title}

        wa.send(stack, person, "hola")  # the person answers the template
        delivered = twilio.wait_until(to, lambda messages: any("Para no recibir más mensajes" in m.body for m in messages))
        whole = "\n".join(m.body for m in delivered)  # the last of the articles' messages has arrived
        assert visit["reference"] in whole and title in whole and "Actualizado" in whole and person not in whole
        eventually(lambda: ana.get(f"/api/ventanilla/registros/{visit['id']}").json()["visit"]["whatsapp_sent_label"])
        # the articles are in the person's conversation, so the assistant and an advisor know what they got
        bot_texts = [e.get("text") or "" for e in stack.tracker(to)["events"] if e["event"] == "bot"]
        assert any(title in text for text in bot_texts)

        # a second walk-in of the same person, who wrote a minute ago: the articles go at once
        again = ana.post("/api/ventanilla/registros", json={"line": "emigrar", "consent": True,
                                                            "articles": [WINDOW_ARTICLE], "whatsapp": person}).json()["visit"]
        before = len(twilio.to(to))
        assert ana.post(f"/api/ventanilla/registros/{again['id']}/whatsapp", json={}).json()["outcome"] == "sent"
        now_sent = twilio.wait_until(to, lambda messages: any(again["reference"] in m.body for m in messages[before:]))
        assert not any(m.content_sid for m in now_sent[before:])


# --- The protection answer ----------------------------------------------------------------------------------
def test_whatsapp_a_danger_signal_gets_the_countrys_numbers_first_then_a_priority_ticket(system, fakes):
    stack, _, store = system
    _, twilio = fakes
    person = wa.phone()
    to = f"whatsapp:{person}"
    wa.send(stack, person, "estoy en milan y el patron se quedo con mi pasaporte y no me paga hace 2 meses")
    sent = twilio.wait_until(to, lambda ms: any("Actualizado:" in m.body for m in ms))  # the guide's last message
    first = sent[0].body
    assert first.startswith("🆘 Qué hacer ahora en Italia:\n1. Si corres peligro, llama al 112.")
    assert "consulado del Perú" in first
    everything = "\n".join(m.body for m in sent)
    assert everything.index("112") < everything.index(say.INTRO["safety"])  # the numbers before the handoff
    ticket = eventually(lambda: store.open_for(to))
    assert ticket.priority == 1 and ticket.reason == "safety" and ticket.country == "italia"
    assert everything.index(say.INTRO["safety"]) < everything.index("Emergencias y ayuda laboral en Italia")


def test_telegram_a_danger_signal_without_a_country_gets_every_number_and_the_country_answers(system, fakes):
    stack, _, store = system
    api, _ = fakes
    chat = tg.new_chat()
    tg.say(stack, chat, "ya van tres meses sin sueldo y el jefe dice que si reclamo me denuncia a migracion")
    api.wait_for(lambda: "Emergencias y problemas graves" in tg.visible(api, chat), what="the guide")
    calls = tg.sent(api, chat)
    assert calls[0].visible_text.startswith("🆘 Qué hacer ahora:")
    for number in ("911", "112", "133", "105"):
        assert number in calls[0].visible_text
    assert [b["text"] for b in tg.buttons(calls[0])][:5] == ["Estados Unidos", "España", "Italia", "Chile", "Argentina"]
    ticket = eventually(lambda: store.open_for(f"telegram:{chat}"))
    assert ticket.priority == 1 and ticket.reason == "safety"
    # The conversation is with the advisor now; the country chosen still gets its numbers at once.
    tg.press(stack, api, chat, "Chile")
    api.wait_for(lambda: "Qué hacer ahora en Chile" in tg.visible(api, chat), what="Chile's numbers")
    assert "600 450 4000" in tg.visible(api, chat)
    assert tg.tracker(stack, chat)["slots"]["location"] == "chile"


def test_a_danger_signal_during_a_handoff_moves_the_chat_up_and_gets_the_numbers(system, fakes):
    stack, _, store = system
    api, _ = fakes
    chat = tg.new_chat()
    tg.say(stack, chat, "quiero hablar con un asesor")
    ticket = eventually(lambda: store.open_for(f"telegram:{chat}"))
    assert ticket.priority == 0
    tg.say(stack, chat, "estoy en buenos aires y la señora no me deja salir de la casa")
    api.wait_for(lambda: "Qué hacer ahora en Argentina" in tg.visible(api, chat), what="Argentina's numbers")
    assert "Línea 145" in tg.visible(api, chat)
    assert eventually(lambda: store.get(ticket.id).priority == 1)

"""WhatsApp through Twilio, end to end: signed inbound requests posted to the real Rasa server
(with the real action server), answers sent by the real twilio client to a local fake of the
Messages API.

Inbound requests are signed the way Twilio signs them (twilio's own `RequestValidator`) for the
public URL configured in Twilio, which is not the loopback address the server listens on.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import httpx
import pytest
import yaml
from twilio.request_validator import RequestValidator

from bot import knowledge
from bot.rasa.channels.checks import UNREADABLE
from bot.rasa.channels.state import ChannelState
from bot.store.db import get_engine
from tests.fakes.twilio import FakeTwilio
from tests.stack import ROOT, running_stack

KB = knowledge.load()

pytestmark = pytest.mark.e2e

ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
NUMBER = "whatsapp:+14155238886"
PUBLIC_URL = "https://infomigra.example.gob.pe/webhooks/whatsapp/webhook"
REPLY_HINT = "Responde con el número de tu opción."
CHANNELS = ("bot.rasa.channels.rest.CheckedRestInput", "bot.rasa.channels.whatsapp.WhatsAppInput")


@pytest.fixture(scope="module")
def twilio_api():
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def wa(tmp_path_factory, twilio_api):
    """The assistant with the WhatsApp channel as registered in credentials.yml (plus REST)."""
    registered = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    assert "bot.rasa.channels.whatsapp.WhatsAppInput" in registered, "the channel is not registered in credentials.yml"
    work = tmp_path_factory.mktemp("whatsapp")
    credentials = work / "credentials.yml"
    credentials.write_text(yaml.safe_dump({name: registered.get(name) for name in CHANNELS}))
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_NUMBER": NUMBER,
           "TWILIO_WEBHOOK_URL": PUBLIC_URL, "TWILIO_API_BASE": twilio_api.url}
    with running_stack(work, extra_env=env, credentials=credentials) as stack:
        stack.whatsapp_url = f"{stack.rasa_url}/webhooks/whatsapp/webhook"
        stack.db = Path(work / "infomigra.db")
        yield stack


def phone() -> str:
    return "+519" + "".join(secrets.choice("0123456789") for _ in range(8))


def params(person: str, body: str = "", **extra: str) -> dict[str, str]:
    """The form Twilio posts for an incoming WhatsApp message."""
    sid = extra.pop("MessageSid", None) or "SM" + secrets.token_hex(16)
    form = {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Rosa", "MessageType": "text", "SmsSid": sid,
            "WaId": person.lstrip("+"), "SmsStatus": "received", "Body": body, "To": NUMBER, "NumSegments": "1",
            "ReferralNumMedia": "0", "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": f"whatsapp:{person}",
            "ApiVersion": "2010-04-01"}
    form.update(extra)
    return form


def sign(form: dict[str, str], url: str = PUBLIC_URL, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


def post(wa, form: dict[str, str], signature: str | None = "sign", **kwargs) -> httpx.Response:
    headers = {} if signature is None else {"X-Twilio-Signature": sign(form) if signature == "sign" else signature}
    return httpx.post(wa.whatsapp_url, data=form, headers=headers, timeout=30, **kwargs)


def send(wa, person: str, body: str = "", **extra: str) -> httpx.Response:
    response = post(wa, params(person, body, **extra))
    assert response.status_code == 200, response.text
    return response


def user_events(wa, person: str) -> list[dict]:
    return [e for e in wa.tracker(f"whatsapp:{person}")["events"] if e["event"] == "user"]


def slot(wa, person: str, name: str):
    return wa.tracker(f"whatsapp:{person}")["slots"].get(name)


def bodies(messages) -> list[str]:
    return [m.body for m in messages]


def state(wa) -> ChannelState:
    return ChannelState(get_engine(f"sqlite:///{wa.db}"))


def push(wa, person: str, text: str) -> httpx.Response:
    """What the advisor desk does: a bot event through Rasa's HTTP API, sent on the person's channel."""
    return httpx.post(f"{wa.rasa_url}/conversations/whatsapp:{person}/tracker/events",
                      params={"execute_side_effects": "true", "output_channel": "latest"}, headers=wa.api_headers(),
                      json={"event": "bot", "text": text, "metadata": {"advisor": "ana"}}, timeout=30)


# --- authenticity -------------------------------------------------------------------------------

def test_twilio_gets_an_empty_twiml_answer_at_once_and_the_reply_arrives_through_the_api(wa, twilio_api):
    person = phone()
    started = time.monotonic()
    response = send(wa, person, "hola")
    answered_in = time.monotonic() - started
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Response></Response>" in response.text
    replies = twilio_api.wait_for(f"whatsapp:{person}", 1)
    assert replies[0].from_ == NUMBER and "PERÚ INFOMIGRA" in replies[0].body
    print(f"\nwebhook answered in {answered_in * 1000:.0f} ms; reply through the API "
          f"{(replies[-1].received_at - started) * 1000:.0f} ms after the request")


@pytest.mark.parametrize("forgery", ["unsigned", "wrong token", "loopback url", "tampered body", "garbage"])
def test_unsigned_and_forged_requests_are_refused_and_not_processed(wa, twilio_api, forgery):
    person = phone()
    form = params(person, "quiero hablar con un asesor")
    signature = {
        "unsigned": None,
        "wrong token": sign(form, token=secrets.token_hex(16)),
        "loopback url": sign(form, url=wa.whatsapp_url),  # must be the URL configured in Twilio
        "tampered body": sign({**form, "Body": "hola"}),
        "garbage": "bm90IGEgc2lnbmF0dXJl",
    }[forgery]
    response = post(wa, form, signature=signature)
    assert response.status_code == 403
    assert "error" in response.json()
    # A genuine message afterwards is answered; the forged one never reached the conversation.
    send(wa, person, "hola")
    twilio_api.wait_for(f"whatsapp:{person}", 1)
    assert [e["text"] for e in user_events(wa, person)] == ["hola"]
    assert slot(wa, person, "handoff") in (None, False)


def test_a_request_from_another_twilio_account_is_refused(wa):
    form = params(phone(), "hola", AccountSid="AC" + secrets.token_hex(16))
    assert post(wa, form).status_code == 403


# --- answers ------------------------------------------------------------------------------------

def test_a_question_gets_the_article_split_at_paragraphs_with_numbered_buttons_last(wa, twilio_api):
    question = "q papeles necesito pa chambear en españa porfa"
    # The same answer through the REST channel comes in parts ("Ver más"; Rasa's REST output also
    # splits each text at blank lines); WhatsApp packs the whole answer at once.
    compare = "wa-compare-" + secrets.token_hex(4)
    rest = wa.say(compare, question)
    assert rest[0]["text"] == KB.get("emigrar/tramites/espana").summary
    while more := [b["payload"] for b in rest[-1].get("buttons", []) if b["title"] == "Ver más"]:
        rest = rest[:-1] + [{"text": rest[-1]["text"]}] + wa.say(compare, more[0])
    rest_text = "\n\n".join(r["text"] for r in rest if r.get("text"))
    rest_buttons = [b for r in rest for b in r.get("buttons", [])]
    assert len(rest_text) > 1600 and rest_buttons, "the test needs an article longer than one WhatsApp message"

    person = phone()
    send(wa, person, question)
    sent = twilio_api.wait_until(f"whatsapp:{person}", lambda ms: ms and REPLY_HINT in ms[-1].body)
    assert slot(wa, person, "article_id") == "emigrar/tramites/espana"
    assert len(sent) >= 2 and all(len(m.body) <= 1600 for m in sent)
    # Cut only at paragraph boundaries: the parts put back together are exactly the assistant's text.
    numbered = "\n".join(f"{i}. {b['title']}" for i, b in enumerate(rest_buttons, 1))
    assert "\n\n".join(bodies(sent)) == f"{rest_text}\n\n{numbered}\n{REPLY_HINT}"
    assert all(REPLY_HINT not in m.body and "\n1. " not in m.body for m in sent[:-1])
    assert "Actualizado: " in sent[-1].body
    assert sent[0].body.startswith(KB.get("emigrar/tramites/espana").summary)  # the essentials first
    assert "Ver más" not in "\n".join(bodies(sent))  # the whole answer, no part held back
    # Packed, not one WhatsApp message per paragraph.
    assert len(sent) < rest_text.count("\n\n") + 1


def test_a_number_or_a_title_answers_the_latest_buttons(wa, twilio_api):
    person = phone()
    to = f"whatsapp:{person}"

    def choose(reply: str, shown: str) -> str:
        """Send `reply`; return the newest message once one containing `shown` arrives."""
        count = len(twilio_api.to(to))
        send(wa, person, reply)
        return twilio_api.wait_until(to, lambda ms: any(shown in m.body for m in ms[count:]))[-1].body

    assert "\n1. Quiero trabajar en el extranjero\n" in choose("menu", REPLY_HINT)
    assert "\n2. Permisos y visas por país\n" in choose("1", REPLY_HINT)
    assert "\n2. España\n" in choose("2", REPLY_HINT)
    choose("2", "Actualizado")
    assert slot(wa, person, "article_id") == "emigrar/tramites/espana"
    texts = [e["text"] for e in user_events(wa, person)]
    assert texts == ["menu", "/linea_emigrar", "/emigrar_tramites", '/informar_pais{"country":"espana"}']
    assert user_events(wa, person)[-1]["metadata"]["whatsapp"]["reply"] == "2"

    choose("menu", "Ya trabajo en el extranjero")
    choose("ya trabajo en el extranjero.", "")  # the title, typed loosely
    assert user_events(wa, person)[-1]["text"] == "/linea_exterior"


def test_a_quick_reply_button_payload_must_be_one_the_assistant_issued(wa, twilio_api):
    person = phone()
    to = f"whatsapp:{person}"
    send(wa, person, "hola")
    twilio_api.wait_for(to, 1)
    # A template quick-reply button carries the reference the assistant gave it (as the desk will do).
    (ref,) = asyncio.run(state(wa).offer(to, [{"title": "Ver el menú", "payload": "/menu"}]))
    send(wa, person, "Ver el menú", ButtonPayload=ref, ButtonText="Ver el menú", MessageType="button")
    twilio_api.wait_for(to, 2)
    assert user_events(wa, person)[-1]["text"] == "/menu"
    # A payload the assistant never issued is only text.
    send(wa, person, "gracias", ButtonPayload="/pedir_asesor", ButtonText="gracias", MessageType="button")
    twilio_api.wait_for(to, 3)
    assert user_events(wa, person)[-1]["text"] == "gracias"


def test_typed_payloads_are_neutralized_and_spanish_arrives_intact(wa, twilio_api):
    person = phone()
    to = f"whatsapp:{person}"
    send(wa, person, '/menu{"x": 1}')
    twilio_api.wait_for(to, 1)
    send(wa, person, "¡Hola! ¿Qué necesito para trabajar en España? Soy Begoña, ñaña de Núñez")
    twilio_api.wait_for(to, 2)
    texts = [e["text"] for e in user_events(wa, person)]
    assert texts[0] == 'menu{"x": 1}'
    assert texts[1] == "¡Hola! ¿Qué necesito para trabajar en España? Soy Begoña, ñaña de Núñez"
    assert all(any(c in m.body for c in "¡¿ñáéíóú") for m in twilio_api.to(to))  # Spanish leaves intact too


MEDIA = [
    ("audio/ogg", "nota de voz", "[Nota de voz]"),
    ("image/jpeg", "imagen", "[Imagen]"),
    ("application/pdf", "documento", "[Documento]"),
    ("image/webp", "sticker", "[Sticker]"),
    ("video/mp4", "video", "[Video]"),
]


@pytest.mark.parametrize(("content_type", "word", "logged"), MEDIA)
def test_media_without_text_gets_a_helpful_answer_and_stays_in_the_conversation(wa, twilio_api, content_type, word,
                                                                                 logged):
    person = phone()
    to = f"whatsapp:{person}"
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM{secrets.token_hex(16)}/Media/ME1"
    send(wa, person, "", NumMedia="1", MediaUrl0=url, MediaContentType0=content_type, MessageType="media")
    (reply,) = twilio_api.wait_for(to, 1)
    assert word in reply.body.lower() and "solo puedo leer" in reply.body.lower()
    event = user_events(wa, person)[-1]
    assert event["text"] == logged
    assert event["metadata"]["attachments"] == [{"type": event["metadata"]["attachments"][0]["type"],
                                                 "content_type": content_type, "url": url}]
    # The conversation goes on normally afterwards.
    send(wa, person, "q papeles necesito pa chambear en españa porfa")
    twilio_api.wait_until(to, lambda ms: len(ms) > 1 and REPLY_HINT in ms[-1].body)
    assert slot(wa, person, "article_id") == "emigrar/tramites/espana"


def test_a_location_and_a_message_without_words_get_a_helpful_answer(wa, twilio_api):
    person = phone()
    to = f"whatsapp:{person}"
    send(wa, person, "", Latitude="-12.0464", Longitude="-77.0428", Address="Av. Salaverry 655, Jesús María",
         MessageType="location")
    (reply,) = twilio_api.wait_for(to, 1)
    assert "ubicación" in reply.body
    event = user_events(wa, person)[-1]
    assert event["metadata"]["location"]["latitude"] == -12.0464
    send(wa, person, "😀🙏🇵🇪")
    assert twilio_api.wait_for(to, 2)[-1].body == UNREADABLE


def test_a_caption_is_answered_and_the_file_is_acknowledged(wa, twilio_api):
    person = phone()
    to = f"whatsapp:{person}"
    send(wa, person, "q papeles necesito pa chambear en españa", NumMedia="1", MediaContentType0="image/jpeg",
         MediaUrl0="https://api.twilio.com/media/ME1")
    sent = twilio_api.wait_until(to, lambda ms: ms and REPLY_HINT in ms[-1].body)
    assert sent[0].body.startswith("Recibí tu imagen")
    assert slot(wa, person, "article_id") == "emigrar/tramites/espana"
    assert user_events(wa, person)[-1]["metadata"]["attachments"][0]["content_type"] == "image/jpeg"


# --- Twilio's retries, opt-out, bursts ----------------------------------------------------------

def test_a_retried_message_sid_is_answered_once(wa, twilio_api):
    person = phone()
    to = f"whatsapp:{person}"
    form = params(person, "gracias")
    for _ in range(3):
        assert post(wa, form).status_code == 200
    send(wa, person, "hola")  # answered after anything the retries could have caused
    sent = twilio_api.wait_until(to, lambda ms: any("PERÚ INFOMIGRA" in m.body for m in ms))
    assert [e["text"] for e in user_events(wa, person)] == ["gracias", "hola"]
    assert len([m for m in sent if "PERÚ INFOMIGRA" not in m.body]) == 1, bodies(sent)


@pytest.mark.parametrize("word", ["BAJA", "stop", "Unsubscribe"])
def test_opt_out_stops_every_message_until_the_person_writes_again(wa, twilio_api, word):
    person = phone()
    to = f"whatsapp:{person}"
    send(wa, person, "hola")
    twilio_api.wait_for(to, 1)
    send(wa, person, word)
    confirmation = twilio_api.wait_for(to, 2)[-1]
    assert "no te enviaremos más mensajes" in confirmation.body
    contact = asyncio.run(state(wa).contact(to))
    assert contact["opted_out"] and contact["opted_out_at"] is not None
    # An advisor's message is refused while the person is opted out, and the desk learns it was not delivered.
    assert push(wa, person, "Hola, soy Ana, asesora de INFOMIGRA.").status_code >= 400
    assert len(twilio_api.to(to)) == 2
    # Writing again re-subscribes.
    send(wa, person, "hola otra vez")
    twilio_api.wait_for(to, 3)
    assert not asyncio.run(state(wa).is_opted_out(to))
    assert push(wa, person, "Hola, soy Ana, asesora de INFOMIGRA.").status_code == 200
    assert twilio_api.to(to)[-1].body == "Hola, soy Ana, asesora de INFOMIGRA."


def test_the_last_message_time_is_recorded_for_the_24_hour_rule(wa, twilio_api):
    person = phone()
    before = time.time()
    send(wa, person, "hola")
    twilio_api.wait_for(f"whatsapp:{person}", 1)
    contact = asyncio.run(state(wa).contact(f"whatsapp:{person}"))
    assert contact["channel"] == "whatsapp"
    assert before - 1 <= contact["last_inbound_at"].timestamp() <= time.time() + 1


def test_a_burst_of_three_messages_is_answered_in_order_and_quickly(wa, twilio_api):
    person = phone()
    to = f"whatsapp:{person}"
    send(wa, person, "hola")  # warm the conversation up
    twilio_api.wait_for(to, 1)
    start = len(twilio_api.to(to))
    burst = ["gracias", "menu", "q papeles necesito pa chambear en españa"]
    posted = []
    with httpx.Client(timeout=30) as client:
        for text in burst:
            form = params(person, text)
            response = client.post(wa.whatsapp_url, data=form, headers={"X-Twilio-Signature": sign(form)})
            assert response.status_code == 200
            posted.append(time.monotonic())
    sent = twilio_api.wait_until(to, lambda ms: any("Actualizado" in m.body for m in ms[start:])
                                 and REPLY_HINT in ms[-1].body)[start:]
    assert [e["text"] for e in user_events(wa, person)][-3:] == burst
    menu = next(i for i, m in enumerate(sent) if "Ya trabajo en el extranjero" in m.body)
    article = next(i for i, m in enumerate(sent) if "Actualizado" in m.body)
    assert 0 < menu < article  # "gracias" answered first, then the menu, then the article
    after_last = sent[-1].received_at - posted[-1]
    first_to_last = sent[-1].received_at - posted[0]
    print(f"\nburst of 3 posted in {(posted[-1] - posted[0]) * 1000:.0f} ms; last answer {after_last * 1000:.0f} ms "
          f"after the last message ({first_to_last * 1000:.0f} ms after the first)")
    assert after_last < 3.0, "a burst should not wait for Rasa's one-second lock polling"


# --- the advisor desk's path --------------------------------------------------------------------

def test_an_advisor_message_reaches_the_person_also_while_paused(wa, twilio_api):
    person = phone()
    to = f"whatsapp:{person}"
    send(wa, person, "hola")
    twilio_api.wait_for(to, 1)
    events = f"{wa.rasa_url}/conversations/whatsapp:{person}/tracker/events"
    assert httpx.post(events, headers=wa.api_headers(), json={"event": "pause"}, timeout=30).status_code == 200
    text = "¡Hola! Soy Ana, asesora de PERÚ INFOMIGRA. Revisé tu caso: ¿tienes contrato firmado en España?"
    assert push(wa, person, text).status_code == 200
    assert twilio_api.wait_for(to, 2)[-1].body == text
    # While paused the assistant stays silent, but what the person sends is in the conversation.
    send(wa, person, "sí, aquí está", NumMedia="1", MediaContentType0="application/pdf",
         MediaUrl0="https://api.twilio.com/media/ME2")
    send(wa, person, "", NumMedia="1", MediaContentType0="image/jpeg", MediaUrl0="https://api.twilio.com/media/ME3")
    deadline = time.monotonic() + 30
    while len(user_events(wa, person)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    texts = [e["text"] for e in user_events(wa, person)]
    assert texts[-2:] == ["sí, aquí está", "[Imagen]"]
    assert len(twilio_api.to(to)) == 2
    # A long advisor message is split at sentences into WhatsApp-sized messages.
    long = " ".join(f"Paso {i}: revisa el requisito número {i} en la página oficial del consulado." for i in range(60))
    assert push(wa, person, long).status_code == 200
    parts = twilio_api.wait_for(to, 4)[2:]
    assert all(len(p.body) <= 1600 for p in parts) and " ".join(bodies(parts)) == long
    assert all(p.body.endswith(".") for p in parts)


# --- bad requests -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        ('{"From": "whatsapp:+51999999999", "Body": "hola"}', "application/json", 415),
        ("From=whatsapp%3A%2B51999999999&Body=hola", "text/plain", 415),
        ("", None, 415),
        ("Body=" + "a" * 2_000_000, "application/x-www-form-urlencoded", 413),
        (b"Body=\xff\xfe\xfa", "application/x-www-form-urlencoded", 400),
        ("&".join(f"f{i}=x" for i in range(500)), "application/x-www-form-urlencoded", 400),
    ],
)
def test_malformed_bodies_and_content_types_get_a_4xx(wa, content, content_type, status):
    headers = {"X-Twilio-Signature": "x"} | ({"content-type": content_type} if content_type else {})
    response = httpx.post(wa.whatsapp_url, content=content, headers=headers, timeout=30)
    assert response.status_code == status


@pytest.mark.parametrize(
    "change",
    [{"From": "+51999999999"}, {"From": ""}, {"MessageSid": "x", "SmsMessageSid": "x"}, {"NumMedia": "many"},
     {"NumMedia": "50"}, {"Latitude": "norte", "Longitude": "-77"}],
)
def test_signed_but_malformed_messages_get_a_400(wa, change):
    form = params(phone(), "hola")
    form.update(change)
    response = post(wa, form)
    assert response.status_code == 400
    assert "error" in response.json()


def test_a_status_callback_sent_to_the_webhook_is_not_a_message(wa, twilio_api):
    form = {"MessageSid": "SM" + secrets.token_hex(16), "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID,
            "From": NUMBER, "To": f"whatsapp:{phone()}", "ApiVersion": "2010-04-01"}
    before = len(twilio_api.messages)
    assert post(wa, form).status_code == 200
    assert post(wa, {**form, "MessageStatus": ""} | {"Body": "eco"}).status_code == 200  # our own number
    send(wa, person := phone(), "hola")
    twilio_api.wait_for(f"whatsapp:{person}", 1)
    assert len(twilio_api.messages) == before + 1


def test_the_server_still_answers_after_bad_input(wa, twilio_api):
    person = phone()
    send(wa, person, "hola")
    assert twilio_api.wait_for(f"whatsapp:{person}", 1)
    assert httpx.get(f"{wa.rasa_url}/webhooks/whatsapp/", timeout=10).json() == {"status": "ok"}

"""The queue of the desk in-process (httpx over ASGI, a real SQLite database) with Rasa's HTTP API
stood in by httpx's MockTransport: who may do what, what is sent to Rasa (events, channel, token),
deliveries that wait for Rasa, timeouts, WhatsApp's 24-hour rule, closing and resuming."""

import asyncio
import datetime as dt
import functools
import json
import re
import time

import httpx
import jwt
import pytest
from sqlalchemy import insert, update

from bot.desk.app import create_app
from bot.desk.passwords import hash_password
from bot.desk.queue import HandoffDesk
from bot.desk.schema import desk_users
from bot.desk.settings import DeskSettings
from bot.handoff import messages as say
from bot.handoff.escalation import escalate
from bot.handoff.rasa_api import RasaApi
from bot.handoff.service import HandoffService
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import RESUME_LEASE, HandoffStore
from bot.offices.directory import Offices
from bot.offices.hours import OfficeHours
from bot.store.clock import now
from bot.store.schema import contacts
from tests.databases import migrated_engine
from tests.desk_totp import cheap_passwords, enrolled, second_factor

PASSWORD = "clave-de-prueba-larga"
USERS = {1: ("ana@example.org", "Ana Quispe", "advisor"), 2: ("beto@example.org", "Beto Ramos", "advisor"),
         3: ("julia@example.org", "Julia Supervisora", "supervisor"), 4: ("rolando@example.org", "Rolando Revisor", "reviewer")}
TEMPLATE = "HX" + "0" * 32
SECRET = "secreto-de-la-api-de-rasa-de-32-caracteres"


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_passwords(monkeypatch)


@functools.lru_cache(maxsize=1)
def stored_password() -> str:
    return hash_password(PASSWORD)


class FakeRasa:
    """Records what the desk asks of Rasa; `down` makes it answer 503."""

    def __init__(self):
        self.calls: list[dict] = []
        self.down = False
        self.slots = {"country": "espana", "topic": "emigrar/tramites", "handoff": True, "kb_offer": ["x"]}
        self.events: list[dict] = []
        self.understood = {"intent": {"name": "emigrar_tramites", "confidence": 0.93}, "entities": []}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            return httpx.Response(503, text="restarting")
        body = json.loads(request.content) if request.content else None
        self.calls.append({"method": request.method, "path": request.url.path, "query": dict(request.url.params), "body": body,
                           "authorization": request.headers.get("authorization")})
        if request.method == "GET":
            return httpx.Response(200, json={"slots": self.slots, "events": self.events})
        if request.url.path == "/model/parse":
            return httpx.Response(200, json={"text": body["text"], **self.understood})
        return httpx.Response(200, json={"sender_id": "x"})

    def posted(self):
        return [c for c in self.calls if c["method"] == "POST" and c["path"] != "/model/parse"]

    def bot_texts(self):
        return [e.get("text") for c in self.posted() for e in c["body"] if e["event"] == "bot"]


@pytest.fixture
def engine(tmp_path):
    with migrated_engine("sqlite", tmp_path) as engine:
        with engine.begin() as conn:
            conn.execute(insert(desk_users), [
                {"id": i, "email": e, "display_name": n, "password_hash": stored_password(), "roles": r, "active": True,
                 "created_at": now(), **enrolled()} for i, (e, n, r) in USERS.items()])
        yield engine


@pytest.fixture
def rasa():
    return FakeRasa()


@pytest.fixture
def settings():
    return HandoffSettings(hours=OfficeHours.parse("lun-dom 00:00-24:00"), whatsapp_template_sid=TEMPLATE,
                           rasa_url="http://rasa.test", rasa_jwt_secret=SECRET, compact_every=5)


@pytest.fixture
def app(engine, rasa, settings):
    app = create_app(engine, DeskSettings())
    store = HandoffStore(engine)
    api = RasaApi(settings.rasa_url, settings.rasa_jwt_secret, transport=httpx.MockTransport(rasa))
    app.state.handoff = HandoffDesk(store, HandoffService(store, api, settings), settings)
    return app


@pytest.fixture
def store(app):
    return app.state.handoff.store


@pytest.fixture
def service(app):
    return app.state.handoff.service


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://desk.test")


async def logged_in(app, user_id):
    client = client_for(app)
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = await client.post("/login", data={"email": USERS[user_id][0], "password": PASSWORD, "csrf_token": token})
    response = await second_factor(client, response, USERS[user_id][0])
    assert response.status_code == 303
    client.headers["X-CSRF-Token"] = (await client.get("/api/me")).json()["csrf_token"]
    return client


def ticket(store, sender="web:ana", at=None, **kw):
    values = {"channel": sender.split(":")[0], "reason": "asked", "priority": 0, "line": "emigrar", "country": "espana"}
    values.update(kw)
    return store.open_ticket(sender_id=sender, at=at, **values)[0]


async def test_the_queue_api_refuses_strangers_and_other_roles(app, store):
    t = ticket(store)
    async with client_for(app) as stranger:
        for method, path in [("GET", "/api/cola"), ("GET", f"/api/cola/{t.id}"), ("POST", f"/api/cola/{t.id}/tomar"),
                             ("POST", f"/api/cola/{t.id}/responder"), ("GET", "/api/cola/estadisticas"), ("GET", "/api/articulos")]:
            assert (await stranger.request(method, path)).status_code == 401, path
        assert (await stranger.get(f"/cola/{t.id}")).headers["location"] == f"/login?next=/cola/{t.id}"
    reviewer = await logged_in(app, 4)
    assert (await reviewer.get("/api/cola")).status_code == 403
    assert (await reviewer.post(f"/api/cola/{t.id}/tomar")).status_code == 403
    advisor = await logged_in(app, 1)
    assert (await advisor.get("/api/cola/estadisticas")).status_code == 403
    assert (await advisor.get("/cola/supervision")).status_code == 403
    del advisor.headers["X-CSRF-Token"]
    assert (await advisor.post(f"/api/cola/{t.id}/tomar")).status_code == 403  # no CSRF token
    assert store.get(t.id).status == "waiting"


async def test_the_queue_lists_priority_first_with_what_advisors_need(app, store):
    ticket(store, "web:a", at=now() - dt.timedelta(minutes=9))
    ticket(store, "telegram:5", reason="safety", priority=1, line="seguridad", country=None)
    store.record_person_message("telegram:5", "me quitaron el pasaporte", source_key="u:1")
    client = await logged_in(app, 1)
    data = (await client.get("/api/cola")).json()
    first, second = data["waiting"]
    assert (first["channel_label"], first["reason_label"], first["priority"], first["line_label"], first["position"]) == \
        ("Telegram", "Seguridad", 1, "Seguridad: fraude, trata y emergencias", 1)
    assert first["preview"] == "me quitaron el pasaporte" and first["person"] == "5"
    assert (second["country_label"], second["waiting_seconds"] >= 540) == ("España", True)
    assert data["online"] == 1 and data["mine"] == [] and data["office_open"] is True


async def test_take_reply_note_tags_and_close(app, store, rasa):
    t = ticket(store, "web:0a1b", transcript=[{"role": "person", "text": "hola"}])
    ana = await logged_in(app, 1)
    assert (await ana.post(f"/api/cola/{t.id}/tomar")).status_code == 200
    taken = rasa.posted()[-1]
    assert taken["path"] == "/conversations/web:0a1b/tracker/events"
    assert taken["query"] == {"execute_side_effects": "true", "output_channel": "web", "include_events": "NONE"}  # no ?token=
    claims = jwt.decode(taken["authorization"].removeprefix("Bearer "), SECRET, algorithms=["HS256"])
    assert claims["user"]["role"] == "admin" and claims["exp"] - time.time() <= 60
    assert taken["body"][0]["text"] == say.TAKEN.format(name="Ana") and taken["body"][0]["metadata"]["advisor_name"] == "Ana"
    beto = await logged_in(app, 2)
    conflict = await beto.post(f"/api/cola/{t.id}/tomar")
    assert conflict.status_code == 409 and "Otra persona ya tomó" in conflict.json()["message"]
    assert (await beto.get(f"/api/cola/{t.id}")).status_code == 403  # someone else's conversation

    for body, reason in [({}, "Escriba la respuesta."), ({"text": "   "}, "Escriba la respuesta."),
                         ({"text": "x" * 4001}, "demasiado larga"), ({"text": 5}, "Escriba la respuesta.")]:
        bad = await ana.post(f"/api/cola/{t.id}/responder", json=body)
        assert bad.status_code == 400 and reason in bad.json()["message"]
    malformed = await ana.post(f"/api/cola/{t.id}/responder", content=b"{no es json", headers={"content-type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["message"] == "El cuerpo de la solicitud no es JSON válido."
    nested = await ana.post(f"/api/cola/{t.id}/nota", content=b"[" * 100_000, headers={"content-type": "application/json"})
    assert nested.status_code == 400  # found by the fuzz: Python's json raised RecursionError, a 500
    assert (await ana.post(f"/api/cola/{t.id}/etiquetas", json={"tags": "trata"})).status_code == 400
    sent = await ana.post(f"/api/cola/{t.id}/responder", json={"text": "¿En qué ciudad de España estás?"})
    assert sent.json() == {"ok": True, "delivery": "sent", "delivery_label": "Entregado al canal"}
    assert rasa.bot_texts()[-1] == "¿En qué ciudad de España estás?"
    assert (await ana.post(f"/api/cola/{t.id}/nota", json={"text": "Posible trata: consultar al consulado"})).status_code == 200
    tags = await ana.post(f"/api/cola/{t.id}/etiquetas", json={"tags": ["Trata", "España", "trata"]})
    assert tags.json()["tags"] == ["trata", "españa"]
    posts_before = len(rasa.posted())

    view = (await ana.get(f"/api/cola/{t.id}")).json()
    roles = [(m["role"], m["kind"]) for m in view["messages"]]
    assert roles == [("person", None), ("system", "taken"), ("advisor", None), ("note", None)]
    assert view["ticket"]["tags"] == ["trata", "españa"] and [a["name"] for a in view["advisors"]] == ["Beto Ramos"]
    assert len(rasa.posted()) == posts_before  # notes and tags never reach the person

    closed = await ana.post(f"/api/cola/{t.id}/cerrar")
    assert closed.json()["status"] == "closed"
    events = rasa.posted()[-1]["body"]
    assert [e["event"] for e in events][:1] == ["session_started"]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"country": "espana", "topic": "emigrar/tramites", "handoff": False}  # handoff and kb_offer not carried
    assert [e["event"] for e in events][-3:] == ["action", "bot", "bot"]
    assert events[-2]["text"] == say.CLOSED.format(name="Ana") and events[-1]["data"]["buttons"] == say.RATING_BUTTONS
    final = store.get(t.id)
    assert final.status == "closed" and final.resumed_at and final.rating_requested_at
    assert (await ana.post(f"/api/cola/{t.id}/responder", json={"text": "otra"})).status_code == 409


async def test_replies_wait_for_rasa_and_go_out_when_it_is_back(app, store, rasa, service):
    t = ticket(store, "telegram:77")
    ana = await logged_in(app, 1)
    await ana.post(f"/api/cola/{t.id}/tomar")
    rasa.down = True
    reply = await ana.post(f"/api/cola/{t.id}/responder", json={"text": "Hola, revisé tu caso"})
    assert reply.status_code == 200 and reply.json()["delivery"] == "pending"
    await service.tick()
    assert "Ana (asesoría PERÚ INFOMIGRA):\nHola, revisé tu caso" not in rasa.bot_texts()
    rasa.down = False
    with store.engine.begin() as conn:  # its retry time has come
        from bot.handoff.schema import handoff_messages
        conn.execute(update(handoff_messages).values(next_attempt_at=now() - dt.timedelta(seconds=1)))
    await service.tick()
    assert rasa.bot_texts()[-1] == "Ana (asesoría PERÚ INFOMIGRA):\nHola, revisé tu caso"  # the name on Telegram
    assert rasa.posted()[-1]["query"]["output_channel"] == "telegram"
    assert [m.delivery for m in store.messages(t.id) if m.role == "advisor"] == ["sent"]


async def test_transfer_and_give_back(app, store, rasa):
    t = ticket(store, "web:tr")
    ana, beto = await logged_in(app, 1), await logged_in(app, 2)
    await ana.post(f"/api/cola/{t.id}/tomar")
    assert (await ana.post(f"/api/cola/{t.id}/transferir", json={"advisor_id": 4})).status_code == 400  # a reviewer
    assert (await ana.post(f"/api/cola/{t.id}/transferir", json={"advisor_id": "2"})).status_code == 400
    assert (await ana.post(f"/api/cola/{t.id}/transferir", json={"advisor_id": 2})).status_code == 200
    assert rasa.bot_texts()[-1] == say.TRANSFERRED.format(name="Beto")
    assert store.get(t.id).accepted_at is None
    assert (await ana.post(f"/api/cola/{t.id}/responder", json={"text": "hola"})).status_code == 409
    assert (await beto.get(f"/api/cola/{t.id}")).json()["ticket"]["accepted"] is True  # opening accepts it
    assert (await beto.post(f"/api/cola/{t.id}/devolver")).status_code == 200
    assert store.get(t.id).status == "waiting" and "volvió a la cola" in rasa.bot_texts()[-1]
    julia = await logged_in(app, 3)  # a supervisor sees everything, and can act on others' chats
    await ana.post(f"/api/cola/{t.id}/tomar")
    assert (await julia.get("/api/cola")).json()["others"][0]["advisor_name"] == "Ana Quispe"
    assert (await julia.post(f"/api/cola/{t.id}/cerrar")).json()["status"] == "closed"


async def test_the_person_going_back_closes_and_resumes(app, store, rasa, service):
    t = ticket(store, "web:vuelve")
    store.record_person_message("web:vuelve", "/volver_al_asistente", source_key="u:9", wants_assistant=True)
    await service.tick()
    closed = store.get(t.id)
    assert closed.status == "closed" and closed.closed_by == "person" and closed.resumed_at and not closed.rating_requested_at
    assert rasa.bot_texts()[-1] == say.LEFT


async def test_resume_waits_for_rasa(app, store, rasa, service):
    t = ticket(store, "web:espera")
    ana = await logged_in(app, 1)
    await ana.post(f"/api/cola/{t.id}/tomar")
    rasa.down = True
    assert (await ana.post(f"/api/cola/{t.id}/cerrar")).json()["status"] == "closed"
    assert store.get(t.id).resumed_at is None
    rasa.down = False
    await service.tick()
    assert store.get(t.id).resumed_at is not None and rasa.bot_texts()[-1] == say.RATE


async def test_a_close_and_the_workers_round_give_the_chat_back_once(engine, rasa, settings):
    """The advisor's close and the worker's round may resume the same ticket at the same moment (seen in
    the widget as the farewell twice): one of them does it, the other finds it done or under way."""
    async def slow_rasa(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.2)  # both callers are inside their Rasa call at once
        return rasa(request)

    store = HandoffStore(engine)
    service = HandoffService(store, RasaApi(settings.rasa_url, settings.rasa_jwt_secret,
                                            transport=httpx.MockTransport(slow_rasa)), settings)
    t = ticket(store, "web:dos-veces")
    store.take(t.id, 1)
    closed = store.close(t.id, "advisor", 1, 1)
    results = await asyncio.gather(service.resume(closed), service.resume_pending(now()), service.resume(closed))
    assert results[0] is True and store.get(t.id).resumed_at is not None
    farewells = [text for text in rasa.bot_texts() if "cerró la conversación" in text]
    assert len(farewells) == 1, rasa.bot_texts()
    await service.api.close()


async def test_two_desk_processes_give_the_chat_back_once(engine, rasa, settings):
    """Across desk processes (each its own service, sharing only the database): an advisor's close in one and
    the worker's round in the other resume once; a resume Rasa refused is claimed again by the next round."""
    async def slow_rasa(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.2)
        return rasa(request)

    store = HandoffStore(engine)
    desks = [HandoffService(HandoffStore(engine), RasaApi(settings.rasa_url, settings.rasa_jwt_secret,
                                                          transport=httpx.MockTransport(slow_rasa)), settings) for _ in range(2)]
    t = ticket(store, "web:dos-mesas")
    store.take(t.id, 1)
    closed = store.close(t.id, "advisor", 1, 1)
    await asyncio.gather(desks[0].resume(closed), desks[1].resume_pending(now()), desks[1].resume(closed))
    assert store.get(t.id).resumed_at is not None
    assert len([text for text in rasa.bot_texts() if "cerró la conversación" in text]) == 1, rasa.bot_texts()

    other = ticket(store, "web:rasa-caido")
    store.take(other.id, 1)
    closed = store.close(other.id, "advisor", 1, 1)
    rasa.down = True
    assert await desks[0].resume(closed) is False  # Rasa restarting: not resumed, the claim given back
    rasa.down = False
    assert await desks[1].resume(closed) is True and store.get(other.id).resumed_at is not None
    assert store.claim_resume(other.id) is False  # resumed: nobody claims it again
    third = ticket(store, "web:mesa-caida")
    store.take(third.id, 1)
    store.close(third.id, "advisor", 1, 1)
    start = now()
    assert store.claim_resume(third.id, start) is True  # a desk process claims it, then dies (kill -9)
    assert store.claim_resume(third.id, start + dt.timedelta(seconds=30)) is False
    assert store.claim_resume(third.id, start + RESUME_LEASE + dt.timedelta(seconds=1)) is True  # the lease ran out
    for desk in desks:
        await desk.api.close()


async def test_a_message_the_worker_claimed_is_not_sent_again_by_the_request(store, rasa, service):
    """The worker's round claims the due messages, then sends each; an advisor's request delivering the same
    message in between must leave it to the worker (seen in a fresh-clone run: the WhatsApp template twice)."""
    t = ticket(store, "web:una-vez")
    message = store.add_message(t.id, "system", "Hola, te saluda Ana.", kind="taken")
    [claimed] = store.claim_due(now())
    assert claimed.id == message.id
    assert await service.deliver(message.id) == "sending"  # the request: claimed by someone else, not sent
    assert await service.deliver(message.id, claimed=True) == "sent"  # the worker sends it
    assert await service.deliver(message.id) == "sent" and await service.deliver(message.id, claimed=True) == "sent"
    assert rasa.bot_texts().count("Hola, te saluda Ana.") == 1


async def test_timeouts_return_chats_to_the_queue_and_tell_the_person(app, store, rasa, service, settings):
    at = now()
    silent = ticket(store, "web:silencio", at=at - dt.timedelta(hours=1))
    store.take(silent.id, 1, at=at - dt.timedelta(minutes=30))
    store.record_person_message("web:silencio", "¿hola?", source_key="u:1", at=at - dt.timedelta(minutes=11))
    moved = ticket(store, "web:transferida", at=at - dt.timedelta(hours=1))
    store.take(moved.id, 1, at=at - dt.timedelta(minutes=20))
    store.transfer(moved.id, 1, 2, at=at - dt.timedelta(minutes=6))
    fine = ticket(store, "web:al-dia", at=at - dt.timedelta(hours=1))
    store.take(fine.id, 1, at=at - dt.timedelta(minutes=30))
    store.record_person_message("web:al-dia", "gracias", source_key="u:1", at=at - dt.timedelta(minutes=2))
    waiting = ticket(store, "web:cola", at=at - dt.timedelta(minutes=16))
    await service.tick(at)
    assert [store.get(x.id).status for x in (silent, moved, fine)] == ["waiting", "waiting", "active"]
    texts = rasa.bot_texts()
    assert sum("volvió a la cola" in t for t in texts) == 2
    assert any(t.startswith("Seguimos con tu consulta") for t in texts)
    assert store.get(waiting.id).waiting_notice_at is not None
    notices = len(rasa.posted())
    await service.tick(at + dt.timedelta(minutes=1))
    assert len(rasa.posted()) == notices  # told once per interval


async def test_the_still_waiting_notice_keeps_each_offices_hours(app, store, rasa, service):
    offices = Offices(store.engine)
    sunday = dt.datetime(2026, 12, 6, 15, tzinfo=dt.timezone.utc)  # 10:00 in Lima; the service is open every day
    weekdays = offices.create("piura", "Piura", "Piura", "lun-vie 08:00-16:00")
    regional = ticket(store, "web:piura", at=sunday - dt.timedelta(minutes=30), office_id=weekdays.id)
    central = ticket(store, "web:lima", at=sunday - dt.timedelta(minutes=30), office_id=offices.main().id)
    await service.timeouts(sunday)
    assert store.get(central.id).waiting_notice_at is not None  # Lima answers on Sundays (the service's hours)
    assert store.get(regional.id).waiting_notice_at is None  # Piura's office is closed: nobody is late
    assert sum(t.startswith("Seguimos con tu consulta") for t in rasa.bot_texts()) == 1


async def test_whatsapp_answers_after_24_hours_wait_for_the_person(app, store, rasa, service):
    person = "whatsapp:+51955555555"
    with store.engine.begin() as conn:
        conn.execute(insert(contacts).values(sender_id=person, channel="whatsapp", last_inbound_at=now() - dt.timedelta(hours=30),
                                             opted_out=False, created_at=now()))
    t = ticket(store, person)
    ana = await logged_in(app, 1)
    await ana.post(f"/api/cola/{t.id}/tomar")  # the greeting is held too
    reply = await ana.post(f"/api/cola/{t.id}/responder", json={"text": "Ya tengo la respuesta a tu consulta."})
    assert reply.json()["delivery"] == "held"
    templates = [e for c in rasa.posted() for e in c["body"] if (e.get("data") or {}).get("custom")]
    assert len(templates) == 1 and templates[0]["data"]["custom"] == {"content_sid": TEMPLATE} and templates[0]["text"] is None
    assert rasa.posted()[0]["path"] == f"/conversations/{person}/tracker/events"  # "+" and ":" as they are
    view = (await ana.get(f"/api/cola/{t.id}")).json()
    assert view["whatsapp_window_open"] is False
    assert (await ana.post(f"/api/cola/{t.id}/cerrar")).json()["status"] == "closing"
    await service.tick()
    assert rasa.bot_texts().count("Ya tengo la respuesta a tu consulta.") == 0
    with store.engine.begin() as conn:  # the person writes again (the channel records it)
        conn.execute(update(contacts).where(contacts.c.sender_id == person).values(last_inbound_at=now()))
    await service.tick()
    await service.tick()
    texts = rasa.bot_texts()
    assert "Ana (asesoría PERÚ INFOMIGRA):\nYa tengo la respuesta a tu consulta." in texts
    assert texts.index("Ana (asesoría PERÚ INFOMIGRA):\nYa tengo la respuesta a tu consulta.") < texts.index(say.RATE)
    assert store.get(t.id).status == "closed" and store.get(t.id).resumed_at


async def test_long_handoffs_start_a_new_paused_session(app, store, rasa, service):
    t = ticket(store, "web:larga")
    for i in range(5):
        store.record_person_message("web:larga", f"mensaje {i}", source_key=f"u:{i}")
    await service.tick()
    events = rasa.posted()[-1]["body"]
    assert events[0]["event"] == "session_started" and [e["event"] for e in events][-3:] == ["active_loop", "pause", "action"]
    assert store.get(t.id).messages_since_compaction == 0


async def test_articles_can_be_inserted_into_a_reply(app):
    ana = await logged_in(app, 1)
    found = (await ana.get("/api/articulos", params={"q": "visa de trabajo España"})).json()["articles"]
    assert found and "Actualizado:" in found[0]["text"] and found[0]["title"]
    assert (await ana.get("/api/articulos")).json() == {"articles": []}


async def test_the_articles_the_assistant_would_answer_with_beside_an_email(app, store, rasa):
    t = ticket(store, "correo:CO-2026-ABCDE", channel="correo", line=None, country=None)
    store.record_person_message("correo:CO-2026-ABCDE", "Asunto: papeles\n\nQuiero trabajar en Italia, ¿qué trámites hago?\n\n"
                                "[adjunto: cv.pdf, application/pdf, 12 KB]", source_key="<1@x>")
    ana = await logged_in(app, 1)
    data = (await ana.get(f"/api/cola/{t.id}/sugeridos")).json()
    assert data["understood"] == "assistant" and data["message_id"]
    first = data["articles"][0]
    assert (first["id"], first["why"]) == ("emigrar/tramites/italia", "assistant")
    assert "Actualizado:" in first["text"] and first["reviewed"]
    parsed = [c for c in rasa.calls if c["path"] == "/model/parse"][-1]
    assert parsed["body"]["text"].endswith("¿qué trámites hago?")  # the attachment line is not read
    assert parsed["authorization"].startswith("Bearer ")

    rasa.down = True  # Rasa restarting: the search still answers, and the advisor is told
    data = (await ana.get(f"/api/cola/{t.id}/sugeridos")).json()
    assert data["understood"] == "search" and data["articles"] and {a["why"] for a in data["articles"]} == {"search"}
    rasa.down = False

    await ana.post(f"/api/cola/{t.id}/tomar")
    bad = await ana.post(f"/api/cola/{t.id}/responder", json={"text": "Hola", "article_id": "no/existe"})
    assert bad.status_code == 400 and "no existe" in bad.json()["message"]
    assert (await ana.post(f"/api/cola/{t.id}/responder", json={"text": first["text"], "article_id": first["id"]})).status_code == 200
    answer = [m for m in (await ana.get(f"/api/cola/{t.id}")).json()["messages"] if m["role"] == "advisor"][-1]
    assert (answer["article_id"], answer["article_title"]) == ("emigrar/tramites/italia", first["title"])

    quiet = ticket(store, "web:sin-mensajes")
    assert (await ana.get(f"/api/cola/{quiet.id}/sugeridos")).json() == {"message_id": None, "articles": [], "understood": None}
    assert (await ana.get("/api/cola/999999/sugeridos")).status_code == 404
    async with client_for(app) as stranger:
        assert (await stranger.get(f"/api/cola/{t.id}/sugeridos")).status_code == 401


async def test_each_office_works_its_own_queue_and_a_conversation_can_move_between_offices(app, store, rasa, settings):
    offices = Offices(store.engine)
    lima = offices.main()
    arequipa = offices.create("arequipa", "Dirección Regional de Trabajo de Arequipa", "Arequipa, Moquegua", "lun-vie 08:00-13:00")
    offices.set_offices(2, [arequipa.id])  # Beto works at Arequipa; Ana belongs to no office: the main one's queue
    events = [{"event": "user", "text": "Hola, vivo en Juliaca y quiero trabajar en Chile", "timestamp": 1.0},
              {"event": "user", "text": "soy de Ilo, quiero hablar con una persona", "timestamp": 2.0}]
    # A Sunday, when Arequipa is closed, so the person is told its hours (the clock must not decide the test)
    sunday = dt.datetime(2026, 11, 29, 15, tzinfo=dt.timezone.utc)
    routed = escalate(store, settings, sender_id="web:ilo", channel="web", reason="asked", slots={}, events=events, at=sunday)
    assert routed.ticket.office_id == lima.id  # Juliaca (Puno) first: no office serves Puno, so Lima's queue
    offices.update(arequipa.id, region_list="Arequipa, Moquegua, Puno")
    routed = escalate(store, settings, sender_id="web:juliaca", channel="web", reason="asked", slots={}, events=events,
                      at=sunday + dt.timedelta(minutes=1))
    assert routed.ticket.office_id == arequipa.id and "de lunes a viernes de 8:00 a 13:00" in routed.messages[0]["text"]
    unrouted = ticket(store, "web:antiguo", at=sunday + dt.timedelta(minutes=2))  # opened before offices existed: the main office's

    ana, beto, julia = await logged_in(app, 1), await logged_in(app, 2), await logged_in(app, 3)
    seen = {name: [(t["id"], t["position"]) for t in (await client.get("/api/cola")).json()["waiting"]]
            for name, client in (("ana", ana), ("beto", beto), ("julia", julia))}
    first_lima = next(t for t in store.waiting() if t.sender_id == "web:ilo")
    assert seen["ana"] == [(first_lima.id, 1), (unrouted.id, 2)] and seen["beto"] == [(routed.ticket.id, 1)]
    assert {i for i, _ in seen["julia"]} == {first_lima.id, unrouted.id, routed.ticket.id}
    only = (await julia.get("/api/cola", params={"oficina": arequipa.id})).json()
    assert [t["id"] for t in only["waiting"]] == [routed.ticket.id] and only["waiting"][0]["office_label"].startswith("Dirección")
    assert only["several_offices"] is True and {o["id"] for o in only["offices"]} == {lima.id, arequipa.id}
    assert (await julia.get("/api/cola", params={"oficina": "x"})).status_code == 400

    for body, status in [({}, 400), ({"office_id": "2"}, 400), ({"office_id": 999}, 400), ({"office_id": lima.id}, 409)]:
        assert (await ana.post(f"/api/cola/{first_lima.id}/oficina", json=body)).status_code == status, body
    moved = await ana.post(f"/api/cola/{first_lima.id}/oficina", json={"office_id": arequipa.id})
    assert moved.status_code == 200 and store.get(first_lima.id).office_id == arequipa.id
    assert rasa.bot_texts()[-1] == say.MOVED_OFFICE.format(office=arequipa.name)
    assert [t["id"] for t in (await beto.get("/api/cola")).json()["waiting"]] == [first_lima.id, routed.ticket.id]
    await beto.post(f"/api/cola/{first_lima.id}/tomar")
    taken = await ana.post(f"/api/cola/{first_lima.id}/oficina", json={"office_id": lima.id})
    assert taken.status_code == 409 and "otra persona" in taken.json()["message"]  # someone else's conversation stays theirs
    assert store.get(first_lima.id).advisor_id == 2
    back = await beto.post(f"/api/cola/{first_lima.id}/oficina", json={"office_id": lima.id})
    assert back.status_code == 200 and store.get(first_lima.id).status == "waiting" and store.get(first_lima.id).advisor_id is None
    detail = (await julia.get(f"/api/cola/{first_lima.id}")).json()
    assert detail["ticket"]["office_label"] == lima.name and [o["id"] for o in detail["offices"]] == [arequipa.id]
    offices.update(arequipa.id, active=False)
    refused = await ana.post(f"/api/cola/{first_lima.id}/oficina", json={"office_id": arequipa.id})
    assert refused.status_code == 400 and "no está activa" in refused.json()["message"]


async def test_ids_written_with_other_digits_are_not_found_rather_than_a_500(app, store):
    julia = await logged_in(app, 3)
    for path in ("/api/cola/²", "/api/cola/٣", "/cola/²", "/api/cola/1²/sugeridos"):
        assert (await julia.get(path)).status_code == 404, path
    assert (await julia.post("/api/cola/²/tomar")).status_code == 404
    assert (await julia.get("/api/cola", params={"oficina": "²"})).status_code == 400


async def test_pages_and_statistics(app, store):
    t = ticket(store, "web:pagina")
    ana, julia = await logged_in(app, 1), await logged_in(app, 3)
    queue = await ana.get("/cola")
    assert queue.status_code == 200 and "Cola de conversaciones" in queue.text and "/static/queue.js" in queue.text
    assert "Supervisión" not in queue.text
    page = await ana.get(f"/cola/{t.id}")
    assert page.status_code == 200 and f'data-ticket="{t.id}"' in page.text
    assert (await ana.get("/cola/999")).status_code == 404 and (await ana.get("/cola/abc")).status_code == 404
    assert (await ana.get("/api/cola/abc")).status_code == 404
    assert (await ana.get(f"/api/cola/{t.id}", params={"despues": "x"})).status_code == 400
    stats = (await julia.get("/api/cola/estadisticas")).json()
    assert stats["waiting"] == 1 and {a["name"] for a in stats["advisors"]} == {"Ana Quispe", "Beto Ramos"}
    assert (await julia.get("/cola/supervision")).status_code == 200


async def test_wrong_handoff_settings_close_the_queue_not_the_desk(engine, monkeypatch):
    monkeypatch.setenv("HANDOFF_REPLY_MINUTES", "pronto")
    app = create_app(engine, DeskSettings())
    ana = await logged_in(app, 1)
    response = await ana.get("/api/cola")
    assert response.status_code == 503 and "HANDOFF_REPLY_MINUTES" in response.json()["message"]
    assert (await ana.get("/")).status_code == 200


async def test_opening_a_conversation_recovers_messages_only_rasa_has(app, store, rasa):
    t = ticket(store, "web:perdido", at=now() - dt.timedelta(minutes=5))
    store.record_person_message("web:perdido", "ya registrado", source_key="u:m1")
    stamp = now().timestamp()
    rasa.events = [
        {"event": "user", "text": "antes del ticket", "timestamp": stamp - 3600, "message_id": "m0", "parse_data": {}},
        {"event": "user", "text": "ya registrado", "timestamp": stamp - 60, "message_id": "m1", "parse_data": {}},
        {"event": "user", "text": "mientras el servidor de acciones estaba caído", "timestamp": stamp - 30, "message_id": "m2",
         "parse_data": {}},
        {"event": "bot", "text": "Recibido", "timestamp": stamp - 20},
    ]
    ana = await logged_in(app, 1)
    first = (await ana.get(f"/api/cola/{t.id}")).json()
    assert [m["text"] for m in first["messages"] if m["role"] == "person"] == [
        "ya registrado", "mientras el servidor de acciones estaba caído"]
    again = (await ana.get(f"/api/cola/{t.id}")).json()
    assert len(again["messages"]) == len(first["messages"])


async def test_only_supervisors_see_a_persons_contact_in_the_queue(app, store):
    t = ticket(store, "telegram:4242")
    store.record_person_message("telegram:4242", "mi correo es pepa@correo.pe", source_key="u:1")
    store.record_person_message("telegram:4242", "", source_key="u:2",
                                attachments=[{"type": "contact", "first_name": "Pepa", "phone_number": "+51999888777"}])
    assert store.get(t.id).contact_email == "pepa@correo.pe"
    advisor = await logged_in(app, 1)
    seen = await advisor.get(f"/api/cola/{t.id}")
    data = seen.json()
    assert data["contact_email"] is None and data["contact_hidden"] is True
    assert "+51999888777" not in seen.text and "Pepa" not in seen.text
    assert data["messages"][-1]["attachments"] == [{"type": "contact"}]
    supervisor = await logged_in(app, 3)
    full = (await supervisor.get(f"/api/cola/{t.id}")).json()
    assert full["contact_email"] == "pepa@correo.pe" and full["contact_hidden"] is False
    assert full["messages"][-1]["attachments"][0]["phone_number"] == "+51999888777"
    reviewer = await logged_in(app, 4)
    for path in ("/api/cola", f"/api/cola/{t.id}", f"/cola/{t.id}"):
        assert (await reviewer.get(path)).status_code == 403

"""The window's articles to WhatsApp (bot/window/whatsapp.py and POST /api/ventanilla/registros/{id}/whatsapp)
on real databases (SQLite and the machine's PostgreSQL), with a local stand-in of Rasa's events endpoint
(tests/fakes/rasa_events.py) in place of the Rasa server: within 24 hours of the person's last message the
articles go out at once; otherwise the approved template, and the articles when the person answers it (the
desk's worker round); an opted-out number gets nothing; a refusal is recorded and can be retried; the
wait ends after a week; erasure ends it too. The whole path with the real Rasa server and the Twilio
stand-in is tests/e2e/test_handoff_channels.py."""

from __future__ import annotations

import datetime as dt
import json
import secrets

import httpx
import pytest
from sqlalchemy import insert, select, update

from bot import knowledge
from bot.desk.app import create_app
from bot.desk.settings import DeskSettings
from bot.handoff.rasa_api import RasaApi
from bot.store.clock import now
from bot.store.schema import contacts
from bot.window import whatsapp
from bot.window.schema import window_sends
from bot.window.store import Entry, WindowStore
from bot.window.whatsapp import WhatsAppNotSent, WindowSettingsError, WindowWhatsApp
from tests.databases import migrated_engine
from tests.desk_totp import account_id, cheap_passwords, log_in, seed_accounts
from tests.fakes.rasa_events import FakeRasa

USERS = {"asesora@example.org": ("Ana Asesora", "advisor")}
ARTICLE = "emigrar/tramites/espana"
PHONE = "+51987001177"
SENDER = f"whatsapp:{PHONE}"
TEMPLATE = "HX" + "ab" * 16
SECRET = "s" * 32
T0 = dt.datetime(2026, 11, 10, 15, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def kb():
    return knowledge.load()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        seed_accounts(engine, USERS)
        yield engine


@pytest.fixture
def rasa():
    with FakeRasa(SECRET) as fake:
        yield fake


def wrote(engine, at: dt.datetime | None, opted_out: bool = False) -> None:
    """The WhatsApp channel's record of the person's last message (as bot/rasa/channels/state.py keeps it)."""
    with engine.begin() as conn:
        if conn.execute(select(contacts.c.sender_id).where(contacts.c.sender_id == SENDER)).first():
            conn.execute(update(contacts).where(contacts.c.sender_id == SENDER)
                         .values(last_inbound_at=at, opted_out=opted_out))
        else:
            conn.execute(insert(contacts).values(sender_id=SENDER, channel="whatsapp", last_inbound_at=at,
                                                 opted_out=opted_out, created_at=T0))


def visit_with_phone(engine, articles=(ARTICLE,), at=T0):
    entry = Entry(line="emigrar", country="espana", articles=tuple(articles), whatsapp=PHONE, consent=True)
    return WindowStore(engine).record(entry, account_id(engine, "asesora@example.org"), "Sede central (Lima)", at=at)


def sender(engine, rasa, kb, template=TEMPLATE) -> WindowWhatsApp:
    return WindowWhatsApp(WindowStore(engine), RasaApi(rasa.url, SECRET), template, lambda: kb)


def texts(request) -> list[str]:
    return [event["text"] for event in request["body"] if event.get("text")]


# --- settings and what is written ----------------------------------------------------------------------
def test_the_template_setting_must_be_a_content_sid():
    assert whatsapp.template_sid({}) is None
    assert whatsapp.template_sid({"WINDOW_WHATSAPP_TEMPLATE_SID": f" {TEMPLATE} "}) == TEMPLATE
    with pytest.raises(WindowSettingsError, match="ContentSid"):
        whatsapp.template_sid({"WINDOW_WHATSAPP_TEMPLATE_SID": "plantilla-ventanilla"})


def test_the_template_carries_the_reference_and_the_titles_on_one_short_line(engine, kb):
    visit = visit_with_phone(engine, articles=sorted(kb.articles)[:10])
    variables = whatsapp.template_variables(visit, [kb.get(a) for a in visit.articles])
    assert variables["1"] == visit.reference
    assert "\n" not in variables["2"] and len(variables["2"]) <= whatsapp.TITLES_MAX
    assert kb.get(visit.articles[0]).title in variables["2"]


def test_the_messages_say_who_writes_and_carry_each_article_with_its_sources(engine, kb):
    visit = visit_with_phone(engine)
    messages = whatsapp.article_texts(visit, [kb.get(ARTICLE)])
    assert visit.reference in messages[0] and "INFOMIGRA" in messages[0]
    whole = "\n".join(messages)
    assert kb.get(ARTICLE).title in whole and "Actualizado" in whole
    assert "BAJA" in messages[-1] and "no pagues" in messages[-1]


# --- sending ------------------------------------------------------------------------------------------
async def test_within_24_hours_the_articles_go_out_at_once(engine, rasa, kb):
    wrote(engine, T0 - dt.timedelta(hours=2))
    visit = visit_with_phone(engine)
    assert await sender(engine, rasa, kb).send(visit, None, at=T0) == "sent"
    [request] = rasa.requests
    assert request["path"] == f"/conversations/{SENDER}/tracker/events"
    assert request["query"]["output_channel"] == ["whatsapp"] and request["query"]["execute_side_effects"] == ["true"]
    assert kb.get(ARTICLE).title in "\n".join(texts(request))
    assert all(event["metadata"] == {"window_visit": visit.reference} for event in request["body"])
    after = WindowStore(engine).get(visit.id)
    assert after.whatsapp_sent_at == T0 and after.whatsapp_waiting_since is None
    with pytest.raises(WhatsAppNotSent, match="ya se envió"):
        await sender(engine, rasa, kb).send(after, None, at=T0)


async def test_outside_24_hours_a_template_then_the_articles_when_the_person_answers(engine, rasa, kb):
    wrote(engine, T0 - dt.timedelta(hours=30))
    visit = visit_with_phone(engine)
    window = sender(engine, rasa, kb)
    assert await window.send(visit, None, at=T0) == "waiting"
    [template] = rasa.requests
    [event] = template["body"]
    assert event["data"]["custom"] == {"content_sid": TEMPLATE, "content_variables": {"1": visit.reference, "2": kb.get(ARTICLE).title}}
    waiting = WindowStore(engine).get(visit.id)
    assert waiting.whatsapp_waiting_since == T0 and waiting.whatsapp_sent_at is None
    with pytest.raises(WhatsAppNotSent, match="ya se envió"):  # the template once
        await window.send(waiting, None, at=T0 + dt.timedelta(minutes=1))

    await window.deliver_waiting(T0 + dt.timedelta(minutes=5))  # the person has not answered
    assert len(rasa.requests) == 1
    wrote(engine, T0 + dt.timedelta(minutes=9))  # "hola"
    await window.deliver_waiting(T0 + dt.timedelta(minutes=10))
    assert len(rasa.requests) == 2 and kb.get(ARTICLE).title in "\n".join(texts(rasa.requests[1]))
    sent = WindowStore(engine).get(visit.id)
    assert sent.whatsapp_sent_at == T0 + dt.timedelta(minutes=10) and sent.whatsapp_waiting_since is None
    await window.deliver_waiting(T0 + dt.timedelta(minutes=11))
    assert len(rasa.requests) == 2  # once


async def test_two_desk_processes_send_the_waited_articles_once(engine, rasa, kb):
    wrote(engine, None)
    visit = visit_with_phone(engine)
    await sender(engine, rasa, kb).send(visit, None, at=T0)
    wrote(engine, T0 + dt.timedelta(minutes=1))
    import asyncio

    await asyncio.gather(*(sender(engine, rasa, kb).deliver_waiting(T0 + dt.timedelta(minutes=2)) for _ in range(3)))
    assert len(rasa.requests) == 2


async def test_an_advisors_click_and_the_workers_round_send_the_waited_articles_once(engine, rasa, kb):
    wrote(engine, None)
    window = sender(engine, rasa, kb)
    await window.send(visit_with_phone(engine), None, at=T0)
    store = WindowStore(engine)
    [waiting] = store.waiting()
    wrote(engine, T0 + dt.timedelta(minutes=1))  # "hola": the advisor clicks again as the worker's round runs
    await window.deliver_waiting(T0 + dt.timedelta(minutes=2))  # the round went first; the click read the visit before
    with pytest.raises(WhatsAppNotSent, match="ya está saliendo") as refused:
        await window.send(waiting, None, at=T0 + dt.timedelta(minutes=2))
    assert refused.value.status == 409 and len(rasa.requests) == 2  # the template, the articles: once

    wrote(engine, None)  # a second consultation: the template again; the advisor's click, Rasa away, goes first
    await window.send(visit_with_phone(engine), None, at=T0 + dt.timedelta(minutes=3))
    [second] = store.waiting()
    wrote(engine, T0 + dt.timedelta(minutes=4))
    rasa.status = 503
    with pytest.raises(WhatsAppNotSent, match="no responde") as away:
        await window.send(second, None, at=T0 + dt.timedelta(minutes=4))
    assert away.value.retry and store.get(second.id).whatsapp_waiting_since == T0 + dt.timedelta(minutes=3)
    rasa.status = 200
    before = len(rasa.requests)
    assert await window.send(store.get(second.id), None, at=T0 + dt.timedelta(minutes=5)) == "sent"
    await window.deliver_waiting(T0 + dt.timedelta(minutes=6))
    assert len(rasa.requests) == before + 1 and store.waiting() == []  # the articles once, by the click


async def test_while_rasa_is_away_the_articles_wait_again(engine, rasa, kb):
    wrote(engine, None)
    visit = visit_with_phone(engine)
    window = sender(engine, rasa, kb)
    await window.send(visit, None, at=T0)
    wrote(engine, T0 + dt.timedelta(minutes=1))
    rasa.status = 503
    await window.deliver_waiting(T0 + dt.timedelta(minutes=2))
    assert WindowStore(engine).get(visit.id).whatsapp_waiting_since == T0
    rasa.status = 200
    await window.deliver_waiting(T0 + dt.timedelta(minutes=3))
    assert WindowStore(engine).get(visit.id).whatsapp_sent_at == T0 + dt.timedelta(minutes=3)


async def test_no_template_no_recent_message_tells_the_advisor_what_to_do(engine, rasa, kb):
    wrote(engine, T0 - dt.timedelta(days=3))
    visit = visit_with_phone(engine)
    with pytest.raises(WhatsAppNotSent, match="escriba «hola»") as refused:
        await sender(engine, rasa, kb, template=None).send(visit, None, at=T0)
    assert refused.value.status == 409 and rasa.requests == []


async def test_an_opted_out_number_gets_nothing(engine, rasa, kb):
    wrote(engine, T0 - dt.timedelta(hours=1), opted_out=True)
    visit = visit_with_phone(engine)
    with pytest.raises(WhatsAppNotSent, match="BAJA"):
        await sender(engine, rasa, kb).send(visit, None, at=T0)
    assert rasa.requests == []


async def test_an_answer_of_baja_ends_the_wait_without_sending(engine, rasa, kb):
    wrote(engine, None)
    visit = visit_with_phone(engine)
    window = sender(engine, rasa, kb)
    await window.send(visit, None, at=T0)
    wrote(engine, T0 + dt.timedelta(minutes=1), opted_out=True)
    await window.deliver_waiting(T0 + dt.timedelta(minutes=2))
    after = WindowStore(engine).get(visit.id)
    assert len(rasa.requests) == 1 and after.whatsapp_waiting_since is None and after.whatsapp_sent_at is None
    assert "BAJA" in after.whatsapp_error


async def test_the_wait_ends_after_a_week(engine, rasa, kb):
    wrote(engine, None)
    visit = visit_with_phone(engine)
    window = sender(engine, rasa, kb)
    await window.send(visit, None, at=T0)
    await window.deliver_waiting(T0 + whatsapp.WAIT - dt.timedelta(minutes=1))
    assert WindowStore(engine).get(visit.id).whatsapp_waiting_since == T0
    await window.deliver_waiting(T0 + whatsapp.WAIT + dt.timedelta(minutes=1))
    after = WindowStore(engine).get(visit.id)
    assert after.whatsapp_waiting_since is None and "7 días" in after.whatsapp_error
    wrote(engine, T0 + whatsapp.WAIT + dt.timedelta(minutes=2))  # an answer after that is the assistant's
    await window.deliver_waiting(T0 + whatsapp.WAIT + dt.timedelta(minutes=3))
    assert len(rasa.requests) == 1


async def test_erasure_of_the_number_ends_the_wait(engine, rasa, kb):
    wrote(engine, None)
    visit = visit_with_phone(engine)
    window = sender(engine, rasa, kb)
    await window.send(visit, None, at=T0)
    assert WindowStore(engine).forget_contact(PHONE) == 1
    assert WindowStore(engine).waiting() == []
    wrote(engine, T0 + dt.timedelta(minutes=1))
    await window.deliver_waiting(T0 + dt.timedelta(minutes=2))
    assert len(rasa.requests) == 1


async def test_a_refusal_is_recorded_and_can_be_retried(engine, rasa, kb):
    wrote(engine, T0 - dt.timedelta(minutes=5))
    visit = visit_with_phone(engine)
    window = sender(engine, rasa, kb)
    rasa.status = 500  # the channel could not hand it to Twilio
    with pytest.raises(WhatsAppNotSent, match="puede volver a intentarlo") as refused:
        await window.send(visit, None, at=T0)
    assert refused.value.status == 502
    failed = WindowStore(engine).get(visit.id)
    assert failed.whatsapp_sent_at is None and "WhatsApp no aceptó" in failed.whatsapp_error and PHONE not in failed.whatsapp_error
    assert failed.email_error is None  # each door says its own: the e-mail was not tried
    WindowStore(engine).failed(visit.id, "correo", "451 try again", None, T0)
    rasa.status = 200
    assert await window.send(failed, None, at=T0 + dt.timedelta(minutes=1)) == "sent"
    with engine.connect() as conn:
        assert [r.ok for r in conn.execute(select(window_sends.c.ok).where(window_sends.c.visit_id == visit.id)
                                           .order_by(window_sends.c.id))] == [False, False, True]
    after = WindowStore(engine).get(visit.id)
    assert after.whatsapp_error is None and after.email_error == "451 try again"  # WhatsApp's success clears only its own


# --- the desk's API -----------------------------------------------------------------------------------
@pytest.fixture
async def client(engine, rasa, monkeypatch):
    cheap_passwords(monkeypatch)
    for name in ("MAIL_IMAP_HOST", "MAIL_SMTP_HOST", "TWILIO_WHATSAPP_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RASA_URL", rasa.url)
    monkeypatch.setenv("RASA_JWT_SECRET", SECRET)
    monkeypatch.setenv("WINDOW_WHATSAPP_TEMPLATE_SID", TEMPLATE)
    transport = httpx.ASGITransport(app=create_app(engine, DeskSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="https://desk.test") as client:
        client.headers["X-CSRF-Token"] = await log_in(client, "asesora@example.org")
        yield client


async def test_the_desk_sends_to_whatsapp_and_says_what_happened(client, engine, rasa):
    wrote(engine, None)
    recorded = await client.post("/api/ventanilla/registros", json={
        "line": "emigrar", "country": "espana", "articles": [ARTICLE], "whatsapp": "987 001 177", "consent": True})
    visit = recorded.json()["visit"]
    assert recorded.status_code == 201 and visit["whatsapp"] == PHONE and visit["can_whatsapp"] is True
    page = await client.get(f"/ventanilla/{visit['id']}")
    assert "Enviar por WhatsApp" in page.text and "WINDOW_WHATSAPP_TEMPLATE_SID" not in page.text

    answer = await client.post(f"/api/ventanilla/registros/{visit['id']}/whatsapp", json={})
    assert answer.status_code == 200 and answer.json()["outcome"] == "waiting"
    assert answer.json()["visit"]["whatsapp_waiting_label"] and answer.json()["visit"]["can_whatsapp"] is False
    assert rasa.requests[0]["body"][0]["data"]["custom"]["content_sid"] == TEMPLATE
    again = await client.post(f"/api/ventanilla/registros/{visit['id']}/whatsapp", json={})
    assert again.status_code == 409 and "plantilla ya se envió" in again.json()["message"]
    page = await client.get(f"/ventanilla/{visit['id']}")
    assert "la información sale en cuanto la persona responda" in page.text
    wrote(engine, now(), opted_out=True)  # the person answered BAJA: the wait ends, said where WhatsApp is
    await WindowWhatsApp(WindowStore(engine), RasaApi(rasa.url, SECRET), TEMPLATE, knowledge.load).deliver_waiting()
    page = await client.get(f"/ventanilla/{visit['id']}")
    assert "No se envió por WhatsApp: la persona respondió BAJA." in page.text and "por correo falló" not in page.text
    assert [v["whatsapp_error"] for v in (await client.get("/api/ventanilla/registros")).json()["visits"]] == [
        "la persona respondió BAJA"]

    other = await client.post("/api/ventanilla/registros", json={"line": "emigrar", "articles": [ARTICLE]})
    no_phone = await client.post(f"/api/ventanilla/registros/{other.json()['visit']['id']}/whatsapp", json={})
    assert no_phone.status_code == 400 and "no tiene un número de WhatsApp" in no_phone.json()["message"]
    missing = await client.post("/api/ventanilla/registros/999999/whatsapp", json={})
    assert missing.status_code == 404
    foreign = await client.post("/api/ventanilla/registros/²/whatsapp", json={})
    assert foreign.status_code == 404
    assert json.loads(json.dumps(rasa.requests[0]["jwt"]))["user"]["role"] == "admin"


async def test_the_worker_round_of_the_desk_sends_what_waited(engine, rasa, kb, monkeypatch):
    from bot.desk import queue

    monkeypatch.setenv("RASA_URL", rasa.url)
    monkeypatch.setenv("RASA_JWT_SECRET", SECRET)
    monkeypatch.setenv("WINDOW_WHATSAPP_TEMPLATE_SID", TEMPLATE)
    for name in ("MAIL_IMAP_HOST", "MAIL_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    handoff = queue.build(create_app(engine, DeskSettings()))
    wrote(engine, None)
    visit = visit_with_phone(engine, at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=2))
    assert await handoff.window.send(visit, None, at=visit.created_at) == "waiting"
    wrote(engine, dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=30))
    await handoff.service.tick()
    assert WindowStore(engine).get(visit.id).whatsapp_sent_at is not None
    assert [r["body"][0].get("text") is not None for r in rasa.requests] == [False, True]


def test_a_malformed_template_setting_leaves_the_24_hour_path(engine, monkeypatch):
    from bot.desk import queue

    monkeypatch.setenv("WINDOW_WHATSAPP_TEMPLATE_SID", "not-a-sid-" + secrets.token_hex(4))
    window = queue.window_whatsapp(engine, RasaApi("http://127.0.0.1:9", SECRET))
    assert window.template is None

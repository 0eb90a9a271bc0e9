"""The in-person window ("Ventanilla", bot/window and bot/desk/window.py) on real databases (SQLite and the
machine's PostgreSQL): what the form may send, the consent rule (in the code and in the database), the
store, the erasure and retention of a walk-in's contact, and the desk's pages and API in-process, with
the articles sent by e-mail to a real SMTP server (aiosmtpd, tests/mail_servers.py) that first refuses
the message (451) and takes it when the advisor tries again."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from bot import knowledge
from bot.desk.app import create_app
from bot.desk.settings import DeskSettings
from bot.privacy import erase, retention
from bot.privacy.schema import privacy_erasures
from bot.store.clock import now
from bot.window import mailing
from bot.window.schema import window_sends, window_visits
from bot.window.store import Entry, WindowInputError, WindowStore, parse_entry
from tests.databases import migrated_engine
from tests.desk_totp import account_id, cheap_passwords, log_in, seed_accounts
from tests.mail_servers import SERVICE_ADDRESS, smtp_server
from tests.unit.test_privacy import leftovers

USERS = {"asesora@example.org": ("Ana Asesora", "advisor"), "otro@example.org": ("Otro Asesor", "advisor"),
         "jefa@example.org": ("Julia Supervisora", "supervisor"), "revisor@example.org": ("Rolando Revisor", "reviewer")}
ARTICLE = "emigrar/tramites/espana"
EMAIL = "rosa.zq81@example.pe"
PHONE = "+51987001199"
T0 = dt.datetime(2026, 11, 10, 15, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def kb():
    return knowledge.load()


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_passwords(monkeypatch)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        seed_accounts(engine, USERS)
        yield engine


user_id = account_id


# --- what the form may send --------------------------------------------------------------------------
def test_an_entry_keeps_only_what_is_needed(kb):
    entry = parse_entry({"line": "emigrar", "country": "España", "topics": [" contrato  de trabajo ", "Contrato de trabajo",
                                                                             "emigrar/tramites"],
                         "articles": [ARTICLE, ARTICLE], "referred": True, "referred_to": "  Consulado de España ",
                         "email": " Rosa.ZQ81@Example.PE ", "whatsapp": "987 001 199", "consent": True, "name": "Rosa",
                         "dni": "12345678"}, kb)
    assert entry == Entry(line="emigrar", country="espana", topics=("contrato de trabajo", "emigrar/tramites"), articles=(ARTICLE,),
                          referred=True, referred_to="Consulado de España", email=EMAIL, whatsapp=PHONE, consent=True)
    bare = parse_entry({"line": "info", "referred": False, "referred_to": "ignored", "consent": True}, kb)
    assert bare == Entry(line="info")  # nothing to consent to: no consent stored
    abroad = parse_entry({"line": "retorno", "country": "otro", "whatsapp": "+34 612-345-678", "consent": True}, kb)
    assert (abroad.country, abroad.whatsapp) == ("otro", "+34612345678")


@pytest.mark.parametrize(("data", "message"), [
    ({}, "línea de acción"),
    ({"line": "nada"}, "línea de acción"),
    ({"line": "emigrar", "country": "Narnia"}, "país"),
    ({"line": "emigrar", "topics": "uno"}, "lista"),
    ({"line": "emigrar", "topics": ["x" * 61]}, "demasiado largo"),
    ({"line": "emigrar", "topics": [f"t{i}" for i in range(9)]}, "máximo 8"),
    ({"line": "emigrar", "articles": ["no/existe"]}, "no existe"),
    ({"line": "emigrar", "articles": [1]}, "identificadores"),
    ({"line": "emigrar", "referred": True}, "derivó"),
    ({"line": "emigrar", "referred": "sí", "referred_to": "x"}, "verdadero o falso"),
    ({"line": "emigrar", "email": EMAIL}, "consentimiento"),
    ({"line": "emigrar", "whatsapp": PHONE, "consent": False}, "consentimiento"),
    ({"line": "emigrar", "email": "rosa@", "consent": True}, "no parece válido"),
    ({"line": "emigrar", "whatsapp": "12345", "consent": True}, "código del país"),
    ({"line": "emigrar", "email": ["a@b.pe"], "consent": True}, "texto"),
])
def test_bad_entries_are_refused_with_the_reason(kb, data, message):
    with pytest.raises(WindowInputError, match=message):
        parse_entry(data, kb)


# --- the store -----------------------------------------------------------------------------------------
def test_record_list_get_and_erase(engine, kb):
    store = WindowStore(engine)
    ana, otro = user_id(engine, "asesora@example.org"), user_id(engine, "otro@example.org")
    yesterday = store.record(Entry(line="retorno"), ana, at=now() - dt.timedelta(days=1))
    first = store.record(parse_entry({"line": "emigrar", "country": "espana", "articles": [ARTICLE], "email": EMAIL,
                                      "consent": True}, kb), ana, "Lima - Centro")
    other = store.record(Entry(line="info", referred=True, referred_to="Migraciones"), otro)

    assert re.fullmatch(r"VE-\d{4}-[2-9A-Z]{5}", first.reference) and first.reference != other.reference
    assert first.created_at.tzinfo is not None and first.consent_at == first.created_at
    assert (first.office, first.articles, first.contact_email, first.advisor_id) == ("Lima - Centro", (ARTICLE,), EMAIL, ana)
    today = now() - dt.timedelta(hours=12)
    assert [v.id for v in store.recent(ana, today)] == [first.id]
    assert [v.id for v in store.recent(ana)] == [first.id, yesterday.id]
    assert store.get(other.id).referred_to == "Migraciones" and store.get(999_999) is None

    store.failed(first.id, "correo", "451 try again", ana)
    assert store.get(first.id).email_error == "451 try again" and store.get(first.id).emailed_at is None
    store.sent(first.id, "correo", ana)
    assert store.get(first.id).email_error is None and store.get(first.id).emailed_at is not None

    assert store.erase(first.id) and store.get(first.id) is None and not store.erase(first.id)
    with engine.connect() as conn:
        assert conn.execute(select(window_sends)).all() == []
    assert store.counts(now() - dt.timedelta(days=2), now() + dt.timedelta(minutes=1)) == {
        "total": 2, "by_line": {"retorno": 1, "info": 1}, "by_country": {"—": 2}, "referred": 1}


def test_the_database_refuses_a_contact_without_consent(engine):
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(window_visits).values(reference="VE-2026-AAAAA", created_at=now(), line="info", topics=[], articles=[],
                                                  referred=False, contact_email=EMAIL, consent_at=None))
    with pytest.raises(WindowInputError):
        WindowStore(engine).record(Entry(line="info", email=EMAIL), None)


# --- erasure and retention -----------------------------------------------------------------------------
def test_erasure_finds_and_forgets_a_walk_in_contact_by_email_or_phone(engine):
    store = WindowStore(engine)
    ana = user_id(engine, "asesora@example.org")
    both = store.record(Entry(line="emigrar", country="italia", topics=("visas",), email=EMAIL, whatsapp=PHONE, consent=True), ana, at=T0)
    again = store.record(Entry(line="emigrar", email=EMAIL.upper().lower(), consent=True), ana, at=T0 + dt.timedelta(days=3))
    phone_only = store.record(Entry(line="retorno", whatsapp="+51987004400", consent=True), ana, at=T0)
    keep = store.record(Entry(line="info", email="otra.persona@example.pe", consent=True), ana, at=T0)

    assert [m.sender_id for m in erase.find_people(engine, EMAIL.upper())] == [f"ventanilla:{EMAIL}"]
    assert [(m.sender_id, m.channel, m.found_in) for m in erase.find_people(engine, "987 004 400")] == [
        ("ventanilla:+51987004400", "ventanilla", ("ventanilla",))]

    done = erase.erase_person(engine, f"ventanilla:{EMAIL}", requested_by="desk", staff_id=ana, staff_email="asesora@example.org")

    assert done.window_contacts == 2 and done.total == 2
    assert leftovers(engine, [EMAIL, PHONE]) == []  # the number went with the address of the same consultation
    for visit in (store.get(both.id), store.get(again.id)):
        assert visit.contact_email is visit.contact_whatsapp is visit.consent_at is None and visit.contact_erased_at is not None
    assert store.get(both.id).topics == ("visas",) and store.get(both.id).country == "italia"  # the counts stay
    assert store.get(keep.id).contact_email == "otra.persona@example.pe"
    with engine.connect() as conn:
        audit = conn.execute(select(privacy_erasures)).mappings().one()
    assert audit["channel"] == "ventanilla" and audit["counts"]["window_contacts"] == 2 and EMAIL not in str(dict(audit))

    # a person who says "borrar mis datos" on WhatsApp loses the number they left at the window too
    assert erase.erase_person(engine, "whatsapp:+51987004400").window_contacts == 1
    assert store.get(phone_only.id).contact_whatsapp is None


def test_retention_drops_old_contacts_and_keeps_the_consultations(engine):
    store = WindowStore(engine)
    at = T0 + dt.timedelta(days=200)
    old = store.record(Entry(line="emigrar", email=EMAIL, consent=True), None, at=T0)
    recent = store.record(Entry(line="emigrar", email="reciente@example.pe", consent=True), None, at=at - dt.timedelta(days=10))

    result = retention.run_retention(engine, None, at=at, env={})

    assert result["window_contacts"] == 1
    assert store.get(old.id).contact_email is None and store.get(old.id).line == "emigrar"
    assert store.get(recent.id).contact_email == "reciente@example.pe"
    short = retention.run_retention(engine, None, at=at, env={"CHANNEL_STATE_RETENTION_DAYS": "5"})
    assert short["window_contacts"] == 1 and store.get(recent.id).contact_email is None
    assert store.counts(T0 - dt.timedelta(days=1), at)["total"] == 2


# --- the sheet and the e-mail --------------------------------------------------------------------------
def test_the_email_has_the_articles_in_text_and_html_and_no_invented_phone(engine, kb):
    visit = WindowStore(engine).record(Entry(line="emigrar", articles=(ARTICLE,), email=EMAIL, consent=True), None,
                                       "Ventanilla Callao", at=T0)
    article = kb.get(ARTICLE)
    env = {"INFOMIGRA_CONTACT_EMAIL": "infomigra@trabajo.gob.pe"}
    message = mailing.email_message(visit, [article], EMAIL, SERVICE_ADDRESS, env)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert message["To"] == EMAIL and visit.reference in message["Subject"] and message["From"].endswith(f"<{SERVICE_ADDRESS}>")
    assert article.title in text and f"Actualizado: {article.last_reviewed:%d/%m/%Y}" in text and visit.reference in text
    assert "Ventanilla Callao" in text and "10/11/2026" in text and "Correo: infomigra@trabajo.gob.pe." in text
    assert article.title in html and '<a href="https://' in html
    sheet = mailing.sheet(visit, [article], env)
    assert sheet.day == "10/11/2026" and sheet.articles[0].sources and all("Tel" not in line for line in sheet.contact_lines)


def test_smtp_settings_without_the_email_door(monkeypatch):
    assert mailing.smtp_settings({}) is None
    settings = mailing.smtp_settings({"MAIL_SMTP_HOST": "127.0.0.1", "MAIL_SMTP_PORT": "2525", "MAIL_SMTP_SECURITY": "none",
                                      "MAIL_ADDRESS": SERVICE_ADDRESS})
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.user, settings.address) == ("127.0.0.1", 2525, "", SERVICE_ADDRESS)
    from bot.mail.settings import MailSettingsError

    with pytest.raises(MailSettingsError):
        mailing.smtp_settings({"MAIL_SMTP_HOST": "smtp.example.org", "MAIL_SMTP_SECURITY": "none", "MAIL_ADDRESS": SERVICE_ADDRESS})


# --- the desk ------------------------------------------------------------------------------------------
@pytest.fixture
async def client(engine, monkeypatch):
    for name in ("MAIL_IMAP_HOST", "MAIL_SMTP_HOST", "WINDOW_WHATSAPP_TEMPLATE_SID"):
        monkeypatch.delenv(name, raising=False)
    transport = httpx.ASGITransport(app=create_app(engine, DeskSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="https://desk.test") as client:
        yield client


async def login(client, email) -> str:
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    csrf = await log_in(client, email)
    client.headers["X-CSRF-Token"] = csrf
    return csrf


async def test_record_a_walk_in_and_open_its_sheet(client, engine):
    from bot.desk.accounts import Accounts
    from bot.offices.directory import Offices

    offices = Offices(engine)  # the window's office is the advisor's
    offices.set_offices(Accounts(engine).by_email("asesora@example.org").id, [offices.create("lima-centro", "Ventanilla Lima Centro").id])
    assert (await client.get("/ventanilla")).status_code == 303
    assert (await client.get("/api/ventanilla/registros")).status_code == 401
    await login(client, "revisor@example.org")
    assert (await client.get("/ventanilla")).status_code == 403
    await login(client, "asesora@example.org")

    page = await client.get("/ventanilla")
    assert page.status_code == 200 and "Ventanilla Lima Centro" in page.text and 'href="/ventanilla"' in page.text
    assert "no tiene una plantilla aprobada por WhatsApp" in page.text and "no está configurado" in page.text
    found = (await client.get("/api/ventanilla/articulos", params={"q": "contrato de trabajo en España"})).json()["articles"]
    assert found[0]["id"] == ARTICLE and (await client.get("/api/ventanilla/articulos")).json() == {"articles": []}
    opened = await client.get(found[0]["url"])  # the whole article, to read with the person
    assert found[0]["url"] == f"/ventanilla/articulos/{ARTICLE}" and opened.status_code == 200
    article = mailing.sheet_article(knowledge.load().get(ARTICLE))
    assert article.title in opened.text and "Actualizado: " + article.reviewed in opened.text
    assert article.sources[0][1] in opened.text
    for missing in ("/ventanilla/articulos/no/existe", "/ventanilla/articulos/../../etc/passwd", "/ventanilla/articulos/%00"):
        assert (await client.get(missing)).status_code == 404, missing

    for body, status, words in [(b"{no es json", 400, "JSON"), (b"[]", 400, "objeto"),
                                (b'{"line": "emigrar", "email": "rosa@example.pe"}', 400, "consentimiento"),
                                (b'{"line": "emigrar", "articles": ["../../etc/passwd"]}', 400, "no existe")]:
        refused = await client.post("/api/ventanilla/registros", content=body, headers={"Content-Type": "application/json"})
        assert refused.status_code == status and words in refused.json()["message"], body
    forged = await client.post("/api/ventanilla/registros", json={"line": "emigrar"}, headers={"X-CSRF-Token": "otro"})
    assert forged.status_code == 403

    made = await client.post("/api/ventanilla/registros", json={
        "line": "emigrar", "country": "espana", "topics": ["emigrar/tramites"], "articles": [ARTICLE],
        "referred": False, "email": EMAIL, "consent": True})
    assert made.status_code == 201
    visit = made.json()["visit"]
    assert visit["email"] == EMAIL and visit["office"] == "Ventanilla Lima Centro" and visit["can_email"] is False  # no SMTP here
    listed = (await client.get("/api/ventanilla/registros")).json()["visits"]
    assert [v["reference"] for v in listed] == [visit["reference"]]

    sheet = await client.get(visit["sheet_url"])
    assert sheet.status_code == 200 and "Trabajar en España: visados y permisos" in sheet.text
    assert visit["reference"] in sheet.text and "Actualizado:" in sheet.text and "Fuente" in sheet.text
    assert 'href="/static/window.css"' in sheet.text and "Para seguir en contacto" in sheet.text
    css = (await client.get("/static/window.css")).text
    assert "@page { size: A4" in css and "@media print" in css
    assert (await client.get(visit["url"])).status_code == 200
    assert (await client.post(f"/api/ventanilla/registros/{visit['id']}/correo")).status_code == 503  # no SMTP settings

    await login(client, "otro@example.org")  # another advisor: not theirs
    assert (await client.get(visit["sheet_url"])).status_code == 403
    assert (await client.get(f"/api/ventanilla/registros/{visit['id']}")).status_code == 403
    assert (await client.get("/api/ventanilla/registros")).json()["visits"] == []
    assert (await client.get("/ventanilla/abc/hoja")).status_code == 404 and (await client.get("/ventanilla/²")).status_code == 404
    assert (await client.get("/api/ventanilla/registros/99999999")).status_code == 404
    await login(client, "jefa@example.org")  # a supervisor sees it and may delete it
    assert (await client.get(visit["sheet_url"])).status_code == 200
    assert (await client.post(f"/api/ventanilla/registros/{visit['id']}/borrar")).json() == {"ok": True}
    assert (await client.get(visit["sheet_url"])).status_code == 404


async def test_the_articles_go_by_email_and_a_refused_send_is_retried(client, engine, monkeypatch):
    with smtp_server() as smtp:
        monkeypatch.setenv("MAIL_SMTP_HOST", smtp.host)
        monkeypatch.setenv("MAIL_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("MAIL_SMTP_SECURITY", "none")
        monkeypatch.setenv("MAIL_ADDRESS", SERVICE_ADDRESS)
        monkeypatch.setenv("MAIL_TIMEOUT_SECONDS", "10")
        await login(client, "asesora@example.org")
        visit = (await client.post("/api/ventanilla/registros", json={
            "line": "emigrar", "articles": [ARTICLE], "email": EMAIL, "consent": True})).json()["visit"]
        assert visit["can_email"] is True
        no_mail = (await client.post("/api/ventanilla/registros", json={"line": "info", "articles": [ARTICLE]})).json()["visit"]
        refused = await client.post(f"/api/ventanilla/registros/{no_mail['id']}/correo")
        assert refused.status_code == 400 and "no tiene un correo" in refused.json()["message"]

        smtp.refuse_next = 1
        failed = await client.post(f"/api/ventanilla/registros/{visit['id']}/correo")

        assert failed.status_code == 502 and failed.json()["error"] == "envio_fallido"
        assert "puede volver a intentarlo" in failed.json()["message"] and EMAIL not in failed.json()["message"]
        assert smtp.received == []
        after_failure = (await client.get(f"/api/ventanilla/registros/{visit['id']}")).json()["visit"]
        assert after_failure["emailed_at"] is None and "451" in after_failure["email_error"]

        sent = await client.post(f"/api/ventanilla/registros/{visit['id']}/correo")  # the advisor tries again

        assert sent.status_code == 200 and sent.json()["visit"]["emailed_at"] and sent.json()["visit"]["email_error"] is None
        [message] = smtp.received
        assert smtp.envelopes == [(SERVICE_ADDRESS, [EMAIL])]
        assert message["To"] == EMAIL and visit["reference"] in message["Subject"]
        assert "Trabajar en España: visados y permisos" in message.get_body(("plain",)).get_content()
        assert "Trabajar en España" in message.get_body(("html",)).get_content()
        with engine.connect() as conn:
            sends = conn.execute(select(window_sends.c.ok, window_sends.c.detail).order_by(window_sends.c.id)).all()
        assert [ok for ok, _ in sends] == [False, True] and all(EMAIL not in (detail or "") for _, detail in sends)

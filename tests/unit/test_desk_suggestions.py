"""The suggestions review of the desk in-process (httpx over ASGI) against SQLite and PostgreSQL: who may
see it, filters and pages, the status workflow, CSRF, tags and notes, exports, and replies delivered
through a small local HTTP server that plays Rasa's events endpoint (tests/fakes/rasa_events.py)."""

import asyncio
import csv
import datetime as dt
import functools
import io
import json
import re
import threading

import httpx
import pytest
from sqlalchemy import insert

from bot.desk import suggestions_download, suggestions_review
from bot.desk.app import create_app
from bot.desk.passwords import hash_password
from bot.desk.schema import desk_users
from bot.desk.settings import DeskSettings
from bot.desk.suggestions_reply import RasaEndpoint
from bot.store.clock import now
from bot.suggestions import service
from bot.suggestions.export import export_csv
from tests.databases import migrated_engine
from tests.desk_totp import cheap_passwords, enrolled, second_factor
from tests.fakes.rasa_events import FakeRasa

PASSWORD = "clave-de-prueba-larga"
USERS = {"asesora@example.org": ("Ana Asesora", "advisor"), "revisor@example.org": ("Rolando Revisor", "reviewer"),
         "jefa@example.org": ("Julia Supervisora", "supervisor")}
BASE = "https://desk.test"
UTC = dt.timezone.utc
TOKEN = "token-de-rasa-de-prueba"
MADRID = "El consulado en Madrid no contesta el teléfono desde hace un mes y necesito renovar mi pasaporte."


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_passwords(monkeypatch)


@functools.lru_cache(maxsize=1)
def stored_password() -> str:
    return hash_password(PASSWORD)


def submit(engine, key, **overrides):
    values = {"client_key": key, "channel": "whatsapp", "sender_id": f"whatsapp:+3461234{key[-4:]:0>4}", "kind": "queja",
              "country": "espana", "city": "Madrid", "topic": "exterior", "text": MADRID, "contact": "ana@correo.pe",
              "consent_at": dt.datetime(2026, 5, 3, 15, 0, tzinfo=UTC), "now": dt.datetime(2026, 5, 3, 15, 0, tzinfo=UTC)}
    values.update(overrides)
    return service.submit(engine, **values)[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        with engine.begin() as conn:
            conn.execute(insert(desk_users), [
                {"email": email, "display_name": name, "password_hash": stored_password(), "roles": role, "active": True,
                 "created_at": now(), **enrolled()} for email, (name, role) in USERS.items()])
        yield engine


@pytest.fixture
def seeded(engine):
    """30 suggestions on the days of May 2026 (May 1st 10:00 in Peru … May 30th), and three special ones."""
    refs = {}
    kinds = ("sugerencia", "inquietud", "queja", "reconocimiento")
    for day in range(1, 31):
        at = dt.datetime(2026, 5, day, 15, 0, tzinfo=UTC)  # 10:00 in Peru
        refs[day] = submit(engine, f"k{day:04d}", kind=kinds[day % 4], country="chile" if day % 3 == 0 else "espana",
                           topic="retorno" if day % 5 == 0 else "exterior", text=f"Mensaje número {day}. {MADRID}",
                           now=at, consent_at=at)
    late = dt.datetime(2026, 6, 1, 4, 30, tzinfo=UTC)  # still May 31st, 23:30, in Peru
    refs["late"] = submit(engine, "k-late", kind="reconocimiento", country="japon", topic="Trámites en el consulado",
                          text="Gracias por la atención en Tokio.", contact=None, sender_id="telegram:555", channel="telegram",
                          city=None, now=late, consent_at=late)
    refs["erased"] = submit(engine, "k-erased", sender_id="web:borrar", channel="web", now=late - dt.timedelta(days=60),
                            consent_at=late - dt.timedelta(days=60))
    service.erase_personal_data(engine, "web:borrar")
    return refs


def client_for(engine) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(engine, DeskSettings())), base_url=BASE)


@pytest.fixture
async def client(engine):
    async with client_for(engine) as client:
        yield client


async def login(client, email) -> str:
    """Log in and return the session's CSRF token."""
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = await client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    response = await second_factor(client, response, email)
    assert response.status_code == 303
    return (await client.get("/api/me")).json()["csrf_token"]


def references(html: str) -> list[str]:
    return re.findall(r'<th scope="row" data-label="Referencia" class="sg-ref">\s*<a href="/sugerencias/(VM-\d{4}-\w{5})', html)


@pytest.fixture
def rasa(monkeypatch):
    fake = FakeRasa(TOKEN)
    monkeypatch.setenv("RASA_URL", fake.url + "/")
    monkeypatch.setenv("RASA_JWT_SECRET", TOKEN)
    yield fake
    fake.close()


# ------------------------------------------------------------------------------------------ access

async def test_only_reviewers_and_supervisors_get_in(engine, seeded, client):
    ref = seeded[1]
    paths = ["/sugerencias", f"/sugerencias/{ref}", "/sugerencias/exportar?formato=csv"]
    for path in paths:  # not logged in: to the login page
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    token = await login(client, "asesora@example.org")
    for path in paths:
        response = await client.get(path)
        assert response.status_code == 403 and "Su cuenta no tiene el rol necesario" in response.text
    refused = await client.post(f"/sugerencias/{ref}/estado", data={"csrf_token": token, "estado": "in_review"})
    assert refused.status_code == 403
    assert service.get(engine, ref).status == "new"
    home = await client.get("/")
    assert 'href="/sugerencias"' not in home.text  # an advisor does not see the section

    for email in ("revisor@example.org", "jefa@example.org"):
        client.cookies.clear()
        await login(client, email)
        page = await client.get("/sugerencias")
        assert page.status_code == 200 and "<h1>Sugerencias</h1>" in page.text
        assert "Esta sección estará disponible pronto." not in page.text
        assert (await client.get(f"/sugerencias/{ref}")).status_code == 200
    assert (await client.get("/sugerencias/VM-2026-ZZZZZ")).status_code == 404
    missing = await client.get("/sugerencias/no-existe")
    assert missing.status_code == 404 and "No encontramos esa sugerencia" in missing.text
    assert (await client.get(f"/sugerencias/{service.get(engine, ref).id}")).status_code == 404  # ids are not addresses


# ------------------------------------------------------------------------------------- list, filters

async def test_the_list_is_newest_first_with_pages_and_filters(engine, seeded, client):
    await login(client, "revisor@example.org")
    first = await client.get("/sugerencias")
    assert first.status_code == 200
    shown = references(first.text)
    assert len(shown) == 25 and shown[0] == seeded["late"] and shown[1] == seeded[30] and shown[2] == seeded[29]
    assert "Mostrando 1–25 de 32" in first.text and "Página 1 de 2" in first.text
    assert "01/06/2026" not in first.text and "31/05/2026 23:30" in first.text  # Peru time
    assert "Gracias por la atención en Tokio." in first.text and "Japón" in first.text
    assert "Trámites en el consulado" in first.text and "¿Trabajas en el extranjero?" in first.text
    second = await client.get("/sugerencias?pagina=2")
    assert references(second.text) == [seeded[d] for d in range(6, 0, -1)] + [seeded["erased"]]
    assert "Mostrando 26–32 de 32" in second.text

    async def refs(query):
        response = await client.get(f"/sugerencias?{query}")
        assert response.status_code == 200, response.text
        return references(response.text)

    assert await refs("pais=chile") == [seeded[d] for d in range(30, 0, -1) if d % 3 == 0]
    assert await refs("tipo=reconocimiento") == [seeded["late"]] + [seeded[d] for d in (27, 23, 19, 15, 11, 7, 3)]
    assert await refs("tema=retorno&pais=espana") == [seeded[d] for d in (25, 20, 10, 5)]
    assert await refs("tema=Tr%C3%A1mites+en+el+consulado") == [seeded["late"]]
    assert await refs("desde=2026-05-30&hasta=2026-05-31") == [seeded["late"], seeded[30]]
    assert await refs("desde=29/05/2026&hasta=29/05/2026") == [seeded[29]]  # typed as day/month/year
    assert await refs("pais=francia") == []

    service.change_status(engine, service.get(engine, seeded[7]).id, "in_review")
    in_review = await client.get("/sugerencias?estado=in_review")
    assert references(in_review.text) == [seeded[7]]
    assert "Mostrando 1–1 de 1" in in_review.text and "con los filtros elegidos" in in_review.text
    assert 'href="/sugerencias/exportar?formato=csv&amp;estado=in_review"' in in_review.text
    assert f'href="/sugerencias/{seeded[7]}?volver=estado%3Din_review"' in in_review.text
    assert '<option value="in_review" selected>En revisión</option>' in in_review.text
    empty = await client.get("/sugerencias?pais=francia")
    assert "Ninguna sugerencia coincide con los filtros." in empty.text

    for query, message in (("estado=perdida", "El estado elegido no existe."), ("tipo=chisme", "El tipo elegido no existe."),
                           ("desde=ayer", "La fecha «Desde» no es válida"), ("hasta=2026-02-30", "La fecha «Hasta» no es válida"),
                           ("desde=2026-05-10&hasta=2026-05-01", "es anterior"), ("pagina=cero", "número de página"),
                           ("hasta=9999-12-31", "La fecha «Hasta» no es válida"), ("pagina=0", "número de página")):
        bad = await client.get(f"/sugerencias?{query}")
        assert bad.status_code == 400 and message in bad.text, query
        assert 'role="alert"' in bad.text and "<table" not in bad.text

    for odd in ("pais=%00espana", "tema=%00%01", "ref=%00", "estado=%00", "pais=" + "x" * 5000):  # never a 500
        assert (await client.get(f"/sugerencias?{odd}")).status_code in (200, 400, 404), odd
        assert (await client.get(f"/sugerencias/exportar?formato=csv&{odd}")).status_code in (200, 400), odd
    assert await refs("pais=%00espana") == await refs("pais=espana")  # control characters are dropped
    assert (await client.get("/sugerencias/VM-2026-%00")).status_code == 404

    found = await client.get(f"/sugerencias?ref={seeded[3].lower().replace('-', ' ')}")
    assert found.status_code == 303 and found.headers["location"] == f"/sugerencias/{seeded[3]}"
    unknown = await client.get("/sugerencias?ref=VM-2026-ZZZZZ")
    assert unknown.status_code == 404 and "No hay ninguna sugerencia con la referencia «VM-2026-ZZZZZ»" in unknown.text


# ------------------------------------------------------------------------------------------ detail

async def test_the_detail_shows_the_message_and_what_happened(engine, seeded, client):
    await login(client, "revisor@example.org")
    page = await client.get(f"/sugerencias/{seeded[1]}?volver=estado%3Dnew%26pagina%3D2%26evil%3D1")
    assert page.status_code == 200
    text = page.text
    assert f"Mensaje número 1. {MADRID}" in text and "Madrid" in text
    assert "ana@correo.pe" not in text and "Dejó un contacto (solo lo ve supervisión)" in text  # reviewers: no contacts
    assert "WhatsApp" in text and "01/05/2026 10:00" in text and "España" in text and "Inquietud" in text
    assert "Recibida por WhatsApp" in text and "La persona" in text  # the history
    assert 'href="/sugerencias?estado=new&amp;pagina=2"' in text and "evil" not in text
    assert "Pasar a «En revisión»" in text and "Archivar" not in text and "Marcar como respondida" not in text
    assert 'name="csrf_token"' in text and "Enviar respuesta" in text

    late = await client.get(f"/sugerencias/{seeded['late']}")
    assert "No dejó contacto" in late.text and "la persona no dejó un contacto" in late.text
    assert "Enviar respuesta" not in late.text and "Telegram" in late.text and "31/05/2026 23:30" in late.text
    erased = await client.get(f"/sugerencias/{seeded['erased']}")
    assert "Datos personales borrados (a pedido de la persona)" in erased.text and "ana@correo.pe" not in erased.text
    assert "los datos personales de esta sugerencia se borraron" in erased.text


# -------------------------------------------------------------------------------------- workflow

async def test_the_workflow_allows_only_its_transitions_and_records_who(engine, seeded, client):
    ref = seeded[4]
    ident = service.get(engine, ref).id
    token = await login(client, "revisor@example.org")

    async def move(to, **extra):
        return await client.post(f"/sugerencias/{ref}/estado", data={"csrf_token": token, "estado": to, **extra})

    refused = await move("archived")
    assert refused.status_code == 409 and "Una sugerencia «Nueva» no puede pasar a «Archivada»." in refused.text
    assert (await move("perdida")).status_code == 400
    assert (await move("")).status_code == 400
    assert service.get(engine, ref).status == "new"

    moved = await move("in_review", volver="pais=espana")
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/sugerencias/{ref}?hecho=estado&volver=pais%3Despana#resultado"
    page = await client.get(moved.headers["location"].split("#")[0])
    assert "Estado actualizado." in page.text and "Estado: «Nueva» → «En revisión»" in page.text
    assert "revisor@example.org" in page.text
    assert "Marcar como derivada" in page.text and "Marcar como respondida" in page.text
    assert (await move("in_review")).status_code == 409  # already there
    assert (await move("forwarded")).status_code == 303
    assert "Volver a «En revisión»" in (await client.get(f"/sugerencias/{ref}")).text
    assert (await move("archived")).status_code == 303
    final = await client.get(f"/sugerencias/{ref}")
    assert "Estado final: no admite más cambios." in final.text
    assert (await move("in_review")).status_code == 409
    events = [e for e in service.history(engine, ident) if e["action"] == "status"]
    assert [(e["from_status"], e["to_status"]) for e in events] == [("new", "in_review"), ("in_review", "forwarded"),
                                                                    ("forwarded", "archived")]
    assert {e["staff_email"] for e in events} == {"revisor@example.org"}
    assert {e["staff_id"] for e in events} == {str(_user_id(engine, "revisor@example.org"))}


def _user_id(engine, email):
    from bot.desk.accounts import Accounts

    return Accounts(engine).by_email(email).id


async def test_every_change_needs_the_session_csrf_token(engine, seeded, client):
    ref = seeded[5]
    token = await login(client, "jefa@example.org")
    posts = [("estado", {"estado": "in_review"}), ("etiquetas", {"etiqueta": "consulado"}), ("notas", {"nota": "Llamar"}),
             ("respuesta", {"respuesta": "Hola"}), ("etiquetas/quitar", {"etiqueta": "consulado"})]
    for path, data in posts:
        for extra in ({}, {"csrf_token": "inventado"}):
            response = await client.post(f"/sugerencias/{ref}/{path}", data={**data, **extra})
            assert response.status_code == 403 and "El formulario caducó" in response.text, (path, extra)
        cross = await client.post(f"/sugerencias/{ref}/{path}", data={**data, "csrf_token": token},
                                  headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403
    unchanged = service.get(engine, ref)
    assert unchanged.status == "new" and unchanged.tags == () and unchanged.notes == ()
    assert [e["action"] for e in service.history(engine, unchanged.id)] == ["created"]


async def test_tags_and_notes(engine, seeded, client):
    ref = seeded[6]
    token = await login(client, "revisor@example.org")
    added = await client.post(f"/sugerencias/{ref}/etiquetas", data={"csrf_token": token, "etiqueta": "  #Consulado Madrid "})
    assert added.status_code == 303 and "hecho=etiqueta" in added.headers["location"]
    await client.post(f"/sugerencias/{ref}/etiquetas", data={"csrf_token": token, "etiqueta": "pasaporte"})
    assert service.get(engine, ref).tags == ("consulado madrid", "pasaporte")
    page = await client.get(f"/sugerencias/{ref}")
    assert 'aria-label="Quitar la etiqueta consulado madrid"' in page.text
    assert "Etiqueta añadida: «consulado madrid»" in page.text
    listed = await client.get("/sugerencias?pagina=2")
    assert '<span class="sg-tag">pasaporte</span>' in listed.text  # tags show in the list

    too_long = await client.post(f"/sugerencias/{ref}/etiquetas", data={"csrf_token": token, "etiqueta": "x" * 41})
    assert too_long.status_code == 400 and "Una etiqueta tiene entre 1 y 40 caracteres." in too_long.text
    assert 'aria-invalid="true"' in too_long.text and "x" * 41 in too_long.text  # what was typed is kept
    assert (await client.post(f"/sugerencias/{ref}/etiquetas", data={"csrf_token": token, "etiqueta": " ,# "})).status_code == 400

    removed = await client.post(f"/sugerencias/{ref}/etiquetas/quitar", data={"csrf_token": token, "etiqueta": "pasaporte"})
    assert removed.status_code == 303 and "hecho=etiqueta_quitada" in removed.headers["location"]
    assert service.get(engine, ref).tags == ("consulado madrid",)
    again = await client.post(f"/sugerencias/{ref}/etiquetas/quitar", data={"csrf_token": token, "etiqueta": "pasaporte"})
    assert again.status_code == 409 and "ya no tiene la etiqueta «pasaporte»" in again.text

    noted = await client.post(f"/sugerencias/{ref}/notas", data={"csrf_token": token, "nota": "Derivar al consulado.\n\nUrgente."})
    assert noted.status_code == 303 and "hecho=nota" in noted.headers["location"]
    note = service.get(engine, ref).notes[0]
    assert note["text"] == "Derivar al consulado.\n\nUrgente." and note["staff_email"] == "revisor@example.org"
    page = await client.get(noted.headers["location"].split("#")[0])
    assert "Nota guardada." in page.text and "Derivar al consulado." in page.text and "Nota interna añadida" in page.text
    for bad in ("   ", "x" * 2001):
        refused = await client.post(f"/sugerencias/{ref}/notas", data={"csrf_token": token, "nota": bad})
        assert refused.status_code == 400 and "Una nota tiene entre 1 y 2.000 caracteres." in refused.text
    assert len(service.get(engine, ref).notes) == 1
    odd = await client.post(f"/sugerencias/{ref}/notas", data={"csrf_token": token}, files={"nota": ("a.txt", b"x")})
    assert odd.status_code == 400
    actions = [e["action"] for e in service.history(engine, service.get(engine, ref).id)]
    assert actions == ["created", "tag_added", "tag_added", "tag_removed", "note_added"]


# ------------------------------------------------------------------------------------------ export

async def test_exports_stream_the_store_export_with_contact_for_supervisors_only(engine, seeded, client, monkeypatch):
    monkeypatch.setattr(suggestions_download, "CHUNK", 200)  # many chunks
    await login(client, "revisor@example.org")
    response = await client.get("/sugerencias/exportar?formato=csv&pais=chile&desde=2026-05-10")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="sugerencias-\d{8}-\d{4}\.csv"', response.headers["content-disposition"])
    assert response.content.startswith(b"\xef\xbb\xbf")
    body = response.content.decode("utf-8-sig")
    expected = export_csv(engine, country="chile", since=dt.date(2026, 5, 10))
    assert body == expected
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["reference"] for r in rows] == [seeded[d] for d in (12, 15, 18, 21, 24, 27, 30)]
    assert "contact" not in rows[0] and "ana@correo.pe" not in body
    assert rows[0]["created_at"] == "2026-05-12T10:00:00-05:00"

    client.cookies.clear()
    await login(client, "jefa@example.org")
    answer = await client.get("/sugerencias/exportar?formato=json&tipo=reconocimiento")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.headers["content-disposition"].endswith('.json"')
    document = json.loads(answer.text)
    assert document["include_contact"] is True and document["kind"] == "reconocimiento"
    assert document["count"] == 8 and {s["kind"] for s in document["suggestions"]} == {"reconocimiento"}
    assert document["suggestions"][0]["contact"] == "ana@correo.pe"
    assert "sender_id" not in document["suggestions"][0]
    everything = await client.get("/sugerencias/exportar?formato=csv")
    assert len(list(csv.DictReader(io.StringIO(everything.content.decode("utf-8-sig"))))) == 32
    assert "contact" in everything.text.splitlines()[0]

    for query in ("formato=xml", "", "formato=csv&estado=perdida", "formato=csv&desde=mañana"):
        bad = await client.get(f"/sugerencias/exportar?{query}")
        assert bad.status_code == 400 and "text/html" in bad.headers["content-type"], query


async def test_a_browser_that_leaves_stops_the_export(engine, seeded, monkeypatch):
    monkeypatch.setattr(suggestions_download, "CHUNK", 50)
    stream = suggestions_download.stream_export(engine, "csv", include_contact=False, criteria={})
    first = await stream.__anext__()
    assert first.startswith(b"reference,")
    await stream.aclose()  # the producer notices and stops
    for _ in range(30):
        if not [t for t in threading.enumerate() if t.name == "desk-export"]:
            break
        await asyncio.sleep(0.1)
    assert not [t for t in threading.enumerate() if t.name == "desk-export"]


# ------------------------------------------------------------------------------------------ replies

async def test_a_reply_reaches_rasa_and_the_suggestion_is_answered(engine, seeded, client, rasa):
    ref = seeded[8]
    before = service.get(engine, ref)
    token = await login(client, "revisor@example.org")
    page = await client.get(f"/sugerencias/{ref}")
    assert "Las respuestas no están configuradas" not in page.text
    assert "En WhatsApp solo llega si la persona escribió en las últimas 24 horas." in page.text
    typed = "Hola Ana:\r\nel consulado atiende de 9 a 13 h. "
    sent = await client.post(f"/sugerencias/{ref}/respuesta", data={"csrf_token": token, "respuesta": typed, "volver": "pagina=2"})
    assert sent.status_code == 303 and sent.headers["location"] == f"/sugerencias/{ref}?hecho=respuesta&volver=pagina%3D2#resultado"
    assert len(rasa.requests) == 1
    call = rasa.requests[0]
    assert call["path"] == f"/conversations/{before.sender_id}/tracker/events"  # "whatsapp:+34…" as it is
    assert call["query"] == {"execute_side_effects": ["true"], "output_channel": ["whatsapp"]}  # no ?token=
    assert call["jwt"]["user"]["role"] == "admin"  # a JWT signed with RASA_JWT_SECRET, as Bearer
    assert call["content_type"] == "application/json"
    text = f"Respuesta a tu mensaje {ref} de «La voz del migrante» (PERÚ INFOMIGRA):\n\nHola Ana:\nel consulado atiende de 9 a 13 h."
    assert call["body"] == {"event": "bot", "text": text, "metadata": {"source": "desk", "suggestion": ref}}

    after = service.get(engine, ref)
    assert after.status == "answered"
    assert after.notes[-1]["text"] == f"Respuesta enviada a la persona por WhatsApp:\n\n{text}"
    assert after.notes[-1]["staff_email"] == "revisor@example.org"
    steps = [(e["from_status"], e["to_status"], e["staff_email"]) for e in service.history(engine, after.id) if e["action"] == "status"]
    assert steps == [("new", "in_review", "revisor@example.org"), ("in_review", "answered", "revisor@example.org")]
    page = await client.get(sent.headers["location"].split("#")[0])
    assert "Respuesta enviada a la persona y registrada" in page.text
    assert "Respuesta enviada a la persona</span>" in page.text  # in the history
    assert '<span class="sg-badge">Respuesta enviada</span>' in page.text

    twice = await client.post(f"/sugerencias/{ref}/respuesta",
                              data={"csrf_token": token, "respuesta": "Hola Ana:\nel consulado atiende de 9 a 13 h."})
    assert twice.status_code == 409 and "Esta misma respuesta ya se envió" in twice.text
    assert len(rasa.requests) == 1

    archived = service.get(engine, seeded[9])  # a reply to an archived suggestion leaves its status alone
    for step in ("in_review", "forwarded", "archived"):
        service.change_status(engine, archived.id, step)
    later = await client.post(f"/sugerencias/{seeded[9]}/respuesta", data={"csrf_token": token, "respuesta": "Seguimos atentos."})
    assert later.status_code == 303 and "hecho=respuesta_sin_estado" in later.headers["location"]
    assert service.get(engine, seeded[9]).status == "archived" and len(rasa.requests) == 2


@pytest.mark.parametrize("failure", ["rasa_error", "wrong_token", "no_token", "unreachable", "timeout"])
async def test_a_failed_reply_records_nothing(engine, seeded, client, rasa, monkeypatch, failure):
    ref = seeded[10]
    token = await login(client, "jefa@example.org")
    expected = {"rasa_error": (502, "El asistente no pudo entregar la respuesta (código 500)"),
                "wrong_token": (502, "El asistente rechazó la credencial (RASA_JWT_SECRET)"),
                "no_token": (503, "falta la variable RASA_JWT_SECRET"),
                "unreachable": (502, "No se pudo conectar con el asistente"),
                "timeout": (504, "no sabemos si la respuesta llegó")}[failure]
    if failure == "rasa_error":
        rasa.status = 500
    elif failure == "wrong_token":
        monkeypatch.setenv("RASA_JWT_SECRET", "otro-secreto")
    elif failure == "no_token":
        monkeypatch.delenv("RASA_JWT_SECRET")
        page = await client.get(f"/sugerencias/{ref}")
        assert "Las respuestas no están configuradas en este servidor" in page.text
    elif failure == "unreachable":
        rasa.close()
    else:
        rasa.delay = 1.5
        monkeypatch.setattr(suggestions_review.RasaEndpoint, "from_env",
                            classmethod(lambda cls: RasaEndpoint(url=rasa.url, jwt_secret=TOKEN, timeout=0.3)))
    response = await client.post(f"/sugerencias/{ref}/respuesta", data={"csrf_token": token, "respuesta": "Le respondemos pronto."})
    status, message = expected
    assert response.status_code == status and message in response.text, response.text[-2000:]
    assert 'role="alert"' in response.text and "Le respondemos pronto.</textarea>" in response.text  # the text is not lost
    unchanged = service.get(engine, ref)
    assert unchanged.status == "new" and unchanged.notes == ()
    assert [e["action"] for e in service.history(engine, unchanged.id)] == ["created"]


async def test_no_reply_without_contact_or_after_erasure_or_when_empty(engine, seeded, client, rasa):
    token = await login(client, "revisor@example.org")
    rest = submit(engine, "k-rest", channel="rest", sender_id="portal-ana")
    for ref, reason in ((seeded["late"], "la persona no dejó un contacto"), (seeded["erased"], "los datos personales de esta"),
                        (rest, "la persona escribió por REST (API), que no recibe mensajes después de la conversación")):
        page = await client.get(f"/sugerencias/{ref}")
        assert f"No se puede responder por el canal: {reason}" in page.text and "Enviar respuesta" not in page.text
        response = await client.post(f"/sugerencias/{ref}/respuesta", data={"csrf_token": token, "respuesta": "Hola"})
        assert response.status_code == 409 and f"No se puede responder a esta sugerencia: {reason}" in response.text
    for text in ("   ", "x" * 1501):
        response = await client.post(f"/sugerencias/{seeded[11]}/respuesta", data={"csrf_token": token, "respuesta": text})
        assert response.status_code == 400 and "La respuesta tiene entre 1 y 1.500 caracteres." in response.text
    assert rasa.requests == []
    assert service.get(engine, seeded[11]).status == "new"


# -------------------------------------------------------------------------------------- contacts

async def test_reviewers_never_see_a_persons_contact_supervisors_do(engine, client):
    """The contact field, and e-mails or phone numbers written in the text or copied into a note:
    list, detail and exports show them to supervisors only."""
    reference = submit(engine, "k-contact", text="Escríbanme a pepa.quispe@correo.pe o al +34 612 345 678, por favor.",
                       contact="+34612345678")
    found = service.get(engine, reference)
    service.add_note(engine, found.id, "Llamé al +34 612 345 678 sin respuesta.", staff_id=9, staff_email="jefa@example.org")
    secrets = ("pepa.quispe@correo.pe", "612 345 678", "+34612345678")

    await login(client, "revisor@example.org")
    pages = [await client.get("/sugerencias"), await client.get(f"/sugerencias/{reference}"),
             await client.get("/sugerencias/exportar?formato=csv"), await client.get("/sugerencias/exportar?formato=json")]
    for page in pages:
        assert page.status_code == 200
        assert not any(secret in page.text for secret in secrets), page.request.url
    assert "[correo eliminado]" in pages[1].text and "Dejó un contacto (solo lo ve supervisión)" in pages[1].text

    client.cookies.clear()
    await login(client, "jefa@example.org")
    detail = (await client.get(f"/sugerencias/{reference}")).text
    assert "pepa.quispe@correo.pe" in detail and "+34612345678" in detail and "Llamé al +34 612 345 678" in detail
    assert "+34612345678" in (await client.get("/sugerencias/exportar?formato=csv")).text

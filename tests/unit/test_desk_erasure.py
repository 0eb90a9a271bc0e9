"""Erasure from the desk (advisors and supervisors): search a person by phone or e-mail, confirm, and
nothing of them is left in either database; audited with the desk account."""

import httpx
import pytest
from sqlalchemy import create_engine, insert, select, text

from bot.desk.app import create_app
from bot.desk.passwords import hash_password
from bot.desk.schema import desk_users
from bot.desk.settings import DeskSettings
from bot.privacy.schema import privacy_erasures
from bot.store.clock import now
from tests.databases import migrated_engine
from tests.desk_totp import enrolled
from tests.stack import free_port
from tests.unit.test_desk_reports import PASSWORD, login
from tests.unit.test_privacy import ANA, EMAIL, PHRASE, leftovers, needles_of, person_data

USERS = {"asesora@example.org": ("Ana Asesora", "advisor"), "revisor@example.org": ("Rolando Revisor", "reviewer")}


@pytest.fixture
def engine(tmp_path, monkeypatch):
    with migrated_engine("sqlite", tmp_path) as engine:
        with engine.begin() as conn:
            conn.execute(insert(desk_users), [{"id": 1, "email": "otra@example.org", "display_name": "Otra", "password_hash": "x",
                                               "roles": "advisor", "active": True, "created_at": now()}])
            conn.execute(insert(desk_users), [{"email": email, "display_name": name, "password_hash": hash_password(PASSWORD),
                                               "roles": role, "active": True, "created_at": now(), **enrolled()}
                                              for email, (name, role) in USERS.items()])
        person_data(engine, ANA, PHRASE, EMAIL)
        tracker = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
        with tracker.begin() as conn:
            conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name VARCHAR(255), "
                              "timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"))
            conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', 1, :d)"),
                         {"s": ANA, "d": f'{{"text": "{PHRASE}, {EMAIL}"}}'})
        monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
        # Rasa is down: the conversation is deleted in its database directly
        monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{free_port()}")
        monkeypatch.setenv("RASA_AUTH_TOKEN", "token-de-prueba")
        monkeypatch.setenv("RASA_JWT_SECRET", "secreto-de-prueba-bastante-largo")
        engine.tracker = tracker
        yield engine
        tracker.dispose()


@pytest.fixture
async def client(engine):
    transport = httpx.ASGITransport(app=create_app(engine, DeskSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="https://desk.test") as client:
        yield client


async def test_an_advisor_finds_the_person_and_erases_everything(client, engine):
    csrf = await login(client, "asesora@example.org")
    page = await client.get("/datos-personales", params={"q": "+51 987 001 122"})
    assert page.status_code == 200 and ANA in page.text
    page = await client.get("/datos-personales", params={"q": EMAIL})
    assert ANA in page.text
    refused = await client.post("/datos-personales/borrar", data={"sender_id": ANA, "csrf_token": csrf})
    assert refused.status_code == 400 and leftovers(engine, [PHRASE])
    forged = await client.post("/datos-personales/borrar", data={"sender_id": ANA, "confirm": "si"})
    assert forged.status_code == 403

    done = await client.post("/datos-personales/borrar", data={"sender_id": ANA, "confirm": "si", "csrf_token": csrf})

    assert done.status_code == 200 and "Datos borrados" in done.text and "directamente en su base de datos" in done.text
    needles = needles_of(ANA, PHRASE, EMAIL)
    assert leftovers(engine, needles) == [] and leftovers(engine.tracker, needles) == []
    with engine.connect() as conn:
        audit = conn.execute(select(privacy_erasures)).mappings().one()
    assert audit["requested_by"] == "desk" and audit["staff_email"] == "asesora@example.org" and audit["channel"] == "whatsapp"
    assert "No hay datos" in (await client.get("/datos-personales", params={"q": PHRASE.split()[-1] + "xx"})).text


async def test_a_reviewer_may_not(client):
    await login(client, "revisor@example.org")
    assert (await client.get("/datos-personales", params={"q": EMAIL})).status_code == 403

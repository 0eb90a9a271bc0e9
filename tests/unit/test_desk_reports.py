"""The reports section of the desk in-process (httpx over ASGI), on SQLite and PostgreSQL: supervisors
only, CSRF on generating, the report served with a CSP of its own, downloads, and clear refusals."""

import io
import re
import zipfile

import httpx
import pytest
from sqlalchemy import insert

from bot.desk.app import create_app
from bot.desk.passwords import hash_password
from bot.desk.schema import desk_users
from bot.desk.settings import DeskSettings
from bot.store.clock import now
from tests.databases import migrated_engine
from tests.desk_totp import cheap_passwords, enrolled, second_factor
from tests.unit.test_report import Events, october, our_tables

PASSWORD = "clave-de-prueba-larga"
USERS = {"asesora@example.org": ("Ana Asesora", "advisor"), "jefa@example.org": ("Julia Supervisora", "supervisor"),
         "revisor@example.org": ("Rolando Revisor", "reviewer")}


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_passwords(monkeypatch)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path, monkeypatch):
    with migrated_engine(request.param, tmp_path) as engine:
        password = hash_password(PASSWORD)
        with engine.begin() as conn:
            conn.execute(insert(desk_users), [{"email": email, "display_name": name, "password_hash": password, "roles": role,
                                               "active": True, "created_at": now(), **enrolled()}
                                              for email, (name, role) in USERS.items()])
        our_tables(engine)
        tracker = tmp_path / "tracker.db"
        from sqlalchemy import create_engine

        tracker_engine = create_engine(f"sqlite:///{tracker}")
        events = Events()
        october(events)
        events.write(tracker_engine)
        tracker_engine.dispose()
        monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tracker}")
        monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
        yield engine


@pytest.fixture
async def client(engine):
    transport = httpx.ASGITransport(app=create_app(engine, DeskSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="https://desk.test") as client:
        yield client


async def login(client, email) -> str:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = await client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert (await second_factor(client, response, email)).status_code == 303
    return (await client.get("/api/me")).json()["csrf_token"]


async def test_only_supervisors_get_in(client):
    paths = ["/informes", "/informes/2026-10", "/informes/2026-10/html", "/informes/2026-10/csv"]
    for path in paths:
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    for email in ("asesora@example.org", "revisor@example.org"):
        client.cookies.clear()
        token = await login(client, email)
        for path in paths:
            assert (await client.get(path)).status_code == 403, (email, path)
        assert (await client.post("/informes/2026-10/generar", data={"csrf_token": token})).status_code == 403
        assert 'href="/informes"' not in (await client.get("/")).text
    client.cookies.clear()
    await login(client, "jefa@example.org")
    assert 'href="/informes"' in (await client.get("/")).text


async def test_a_supervisor_generates_views_and_downloads_a_report(client, tmp_path):
    token = await login(client, "jefa@example.org")
    listing = await client.get("/informes")
    assert listing.status_code == 200 and "<h1>Informes mensuales</h1>" in listing.text
    assert "Octubre de 2026" in listing.text and "Sin generar" in listing.text
    assert (await client.get("/informes/2026-10")).status_code == 404  # not generated yet
    assert (await client.post("/informes/2026-10/generar")).status_code == 403  # no CSRF token
    assert not (tmp_path / "reports" / "2026-10").exists()

    done = await client.post("/informes/2026-10/generar", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["location"].startswith("/informes?hecho=2026-10")
    listing = await client.get(done.headers["location"])
    assert "recién generado" in listing.text and 'href="/informes/2026-10/csv"' in listing.text

    report = await client.get("/informes/2026-10")
    assert report.status_code == 200 and report.headers["content-type"] == "text/html; charset=utf-8"
    assert "Informe mensual del asistente virtual: octubre de 2026" in report.text
    policy = report.headers["content-security-policy"]
    assert "style-src 'sha256-" in policy and "unsafe-inline" not in policy and "script-src" not in policy
    assert policy.startswith("default-src 'none'") and "img-src data:" in policy

    html = await client.get("/informes/2026-10/html")
    assert html.headers["content-disposition"] == 'attachment; filename="informe-2026-10.html"' and html.text == report.text
    tables = await client.get("/informes/2026-10/csv")
    assert tables.status_code == 200 and tables.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(tables.content)).namelist()
    assert len(names) == 23 and "02-conversaciones-por-canal.csv" in names


async def test_bad_months_and_an_unreadable_tracker_store_get_clear_answers(client, monkeypatch, tmp_path):
    token = await login(client, "jefa@example.org")
    for path in ("/informes/2026-13", "/informes/abc", "/informes/2099-01", "/informes/2026-1/csv", "/informes/..%2F..%2Fetc"):
        response = await client.get(path)
        assert response.status_code == 404, path
    assert (await client.post("/informes/2099-01/generar", data={"csrf_token": token})).status_code == 404
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'no-such-tracker.db'}")
    refused = await client.post("/informes/2026-10/generar", data={"csrf_token": token})
    assert refused.status_code == 503 and "No se pudo leer las conversaciones del asistente" in refused.text

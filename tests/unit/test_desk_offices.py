"""The supervisors' "Oficinas" page in-process (httpx over ASGI) and `infomigra desk …` for offices, on
SQLite and PostgreSQL: only supervisors get in, an office is created, edited and given its accounts,
bad input is the form again with the reason (400), and the command line does the same."""

import io
import re
import sys

import httpx
import pytest
from sqlalchemy import select

from bot.cli import main
from bot.desk.app import create_app
from bot.desk.schema import desk_users
from bot.desk.settings import DeskSettings
from bot.offices.directory import Offices
from tests.databases import migrated_engine
from tests.desk_totp import PASSWORD, account_id, cheap_passwords, log_in, seed_accounts

USERS = {"asesora@example.org": ("Ana Asesora", "advisor"), "jefa@example.org": ("Julia Supervisora", "supervisor"),
         "revisor@example.org": ("Rolando Revisor", "reviewer")}


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_passwords(monkeypatch)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        seed_accounts(engine, USERS)
        yield engine


@pytest.fixture
async def client(engine):
    transport = httpx.ASGITransport(app=create_app(engine, DeskSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="https://desk.test") as client:
        yield client


login, user_id = log_in, account_id


async def test_only_supervisors_get_in(client, engine):
    pages = ["/oficinas", "/oficinas/lima"]
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    assert (await client.post("/oficinas", data={"codigo": "cusco", "nombre": "Cusco"})).status_code in (303, 401, 403)
    for email in ("asesora@example.org", "revisor@example.org"):
        client.cookies.clear()
        token = await login(client, email)
        for path in pages:
            assert (await client.get(path)).status_code == 403, (email, path)
        refused = await client.post("/oficinas", data={"codigo": "cusco", "nombre": "Cusco", "csrf_token": token})
        assert refused.status_code == 403
        assert (await client.post("/oficinas/lima", data={"nombre": "Otra", "csrf_token": token})).status_code == 403
        assert 'href="/oficinas"' not in (await client.get("/")).text
    assert [o.slug for o in Offices(engine).all()] == ["lima"] and Offices(engine).main().name == "Sede central (Lima)"


async def test_a_supervisor_creates_edits_and_staffs_an_office(client, engine):
    token = await login(client, "jefa@example.org")
    home = await client.get("/")
    assert 'href="/oficinas"' in home.text
    page = await client.get("/oficinas")
    assert page.status_code == 200 and "Sede central (Lima)" in page.text and "Lima, Callao" in page.text
    assert "horario del servicio" in page.text and 'value="madre-de-dios"' in page.text

    forged = await client.post("/oficinas", data={"codigo": "arequipa", "nombre": "DRTPE Arequipa"})
    assert forged.status_code == 403
    created = await client.post("/oficinas", data={"codigo": "arequipa", "nombre": "Dirección Regional de Trabajo de Arequipa",
                                                   "regiones": ["arequipa", "moquegua"], "horario": "", "csrf_token": token})
    assert created.status_code == 303 and created.headers["location"] == "/oficinas/arequipa?hecho=creada"
    office = Offices(engine).by_slug("arequipa")
    assert office.regions == ("arequipa", "moquegua") and office.hours is None and office.active
    page = await client.get(created.headers["location"])
    assert page.status_code == 200 and "Oficina creada" in page.text and "Ana Asesora" in page.text
    assert "Rolando Revisor" not in page.text  # a reviewer works in no office

    saved = await client.post("/oficinas/arequipa", data={"nombre": "DRTPE Arequipa", "regiones": ["arequipa", "moquegua"],
                                                         "horario": "lun-vie 08:00-16:00", "activa": "si", "csrf_token": token})
    assert saved.status_code == 303 and saved.headers["location"] == "/oficinas/arequipa?hecho=guardada"
    office = Offices(engine).by_slug("arequipa")
    assert office.name == "DRTPE Arequipa" and office.hours == "lun-vie 08:00-16:00"

    ana, julia = user_id(engine, "asesora@example.org"), user_id(engine, "jefa@example.org")
    staffed = await client.post("/oficinas/arequipa/cuentas", data={"cuenta": [str(ana), str(julia)], "csrf_token": token})
    assert staffed.status_code == 303 and staffed.headers["location"] == "/oficinas/arequipa?hecho=cuentas"
    assert Offices(engine).members(office.id) == sorted([ana, julia])
    assert [o.slug for o in Offices(engine).of_user(ana)] == ["arequipa"]  # seeded after the migration: in no office before
    listing = await client.get("/oficinas")
    assert "DRTPE Arequipa" in listing.text and "de lunes a viernes de 8:00 a 16:00" in listing.text
    assert re.search(r'<td class="of-num">2</td>', listing.text)
    assert (await client.post("/oficinas/arequipa/cuentas", data={"cuenta": [str(julia)], "csrf_token": token})).status_code == 303
    assert Offices(engine).members(office.id) == [julia]

    off = await client.post("/oficinas/arequipa", data={"nombre": "DRTPE Arequipa", "regiones": ["arequipa"], "horario": "",
                                                       "activa": "no", "csrf_token": token})
    assert off.status_code == 303
    office = Offices(engine).by_slug("arequipa")
    assert not office.active and office.hours is None and office.regions == ("arequipa",)
    assert Offices(engine).route("soy de Arequipa").slug == "lima"
    assert "Inactiva" in (await client.get("/oficinas")).text
    assert (await client.get("/oficinas/nada")).status_code == 404
    assert (await client.post("/oficinas/nada", data={"nombre": "X", "csrf_token": token})).status_code == 404


async def test_bad_input_is_the_form_again_with_the_reason(client, engine):
    token = await login(client, "jefa@example.org")
    cases = [
        ({"codigo": "Arequipa Sur", "nombre": "Arequipa"}, "El código de la oficina"),
        ({"codigo": "lima", "nombre": "Otra"}, "Ya existe una oficina con el código"),
        ({"codigo": "cusco", "nombre": ""}, "Escriba el nombre de la oficina"),
        ({"codigo": "cusco", "nombre": "Cusco", "regiones": ["cusco", "atlantida"]}, "Región desconocida"),
        ({"codigo": "cusco", "nombre": "Cusco", "horario": "lunes a viernes de 8 a 4"}, "Horario no válido"),
        ({"codigo": "cusco", "nombre": "Cusco\x00", "horario": "lun-vie 25:00-26:00"}, "Horario no válido"),
    ]
    for data, message in cases:
        response = await client.post("/oficinas", data={**data, "csrf_token": token})
        assert response.status_code == 400, data
        assert message in response.text and 'role="alert"' in response.text, data
        assert f'value="{data["codigo"]}"' in response.text  # what was typed stays in the form
    assert [o.slug for o in Offices(engine).all()] == ["lima"]

    main = Offices(engine).main()
    refused = await client.post("/oficinas/lima", data={"nombre": main.name, "regiones": ["lima", "callao"], "activa": "no",
                                                       "csrf_token": token})
    assert refused.status_code == 400 and "no se puede desactivar" in refused.text
    bad_hours = await client.post("/oficinas/lima", data={"nombre": main.name, "regiones": ["lima"], "horario": "siempre",
                                                         "csrf_token": token})
    assert bad_hours.status_code == 400 and "Horario no válido" in bad_hours.text and 'value="siempre"' in bad_hours.text
    odd_state = await client.post("/oficinas/lima", data={"nombre": main.name, "activa": "quizas", "csrf_token": token})
    assert odd_state.status_code == 400
    assert Offices(engine).main() == main

    for chosen in (["999999"], ["abc"], ["²"], [str(user_id(engine, "revisor@example.org"))]):
        response = await client.post("/oficinas/lima/cuentas", data={"cuenta": chosen, "csrf_token": token})
        assert response.status_code == 400 and "Alguna de esas cuentas" in response.text, chosen
    assert len(Offices(engine).members(main.id)) == 0  # the accounts were seeded after the migration


# the command line --------------------------------------------------------------------------------

def run(monkeypatch, url, *argv, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["desk", *argv, "--url", url])


def test_offices_from_the_command_line(monkeypatch, capsys, engine):
    url = engine.url.render_as_string(hide_password=False)
    assert run(monkeypatch, url, "offices") == 0
    assert "Sede central (Lima)" in capsys.readouterr().out
    assert run(monkeypatch, url, "add-office", "--slug", "arequipa", "--name", "Dirección Regional de Trabajo de Arequipa",
               "--regions", "Arequipa, Moquegua", "--hours", "lun-vie 08:00-16:00") == 0
    assert "created office arequipa" in capsys.readouterr().out
    office = Offices(engine).by_slug("arequipa")
    assert office.regions == ("arequipa", "moquegua") and office.hours == "lun-vie 08:00-16:00"

    assert run(monkeypatch, url, "add-office", "--slug", "arequipa", "--name", "Otra") == 1
    assert "Ya existe una oficina" in capsys.readouterr().err
    assert run(monkeypatch, url, "add-office", "--slug", "cusco", "--name", "Cusco", "--regions", "Cusco, Narnia") == 1
    assert "Región desconocida: 'Narnia'" in capsys.readouterr().err
    assert run(monkeypatch, url, "add-office", "--slug", "cusco", "--name", "Cusco", "--hours", "8 a 4") == 1
    assert "Horario no válido" in capsys.readouterr().err
    assert run(monkeypatch, url, "update-office", "--slug", "lima", "--inactive") == 1
    assert "no se puede desactivar" in capsys.readouterr().err
    assert run(monkeypatch, url, "update-office", "--slug", "nada", "--name", "X") == 1
    assert "no office with code 'nada'" in capsys.readouterr().err

    assert run(monkeypatch, url, "update-office", "--slug", "arequipa", "--inactive", "--hours", "") == 0
    office = Offices(engine).by_slug("arequipa")
    assert not office.active and office.hours is None and office.name == "Dirección Regional de Trabajo de Arequipa"
    assert run(monkeypatch, url, "update-office", "--slug", "arequipa", "--active", "--regions", "Arequipa",
               "--name", "DRTPE Arequipa") == 0
    office = Offices(engine).by_slug("arequipa")
    assert office.active and office.regions == ("arequipa",) and office.name == "DRTPE Arequipa"
    capsys.readouterr()

    assert run(monkeypatch, url, "create-user", "--email", "nuevo@example.org", "--name", "Nuevo", "--role", "advisor",
               "--totp-at-login", stdin=PASSWORD + "\n") == 0
    assert "offices: lima" in capsys.readouterr().out
    assert [o.slug for o in Offices(engine).of_user(user_id(engine, "nuevo@example.org"))] == ["lima"]
    assert run(monkeypatch, url, "create-user", "--email", "aqp@example.org", "--name", "Aqp", "--role", "advisor",
               "--office", "arequipa", "--office", "lima", "--totp-at-login", stdin=PASSWORD + "\n") == 0
    assert [o.slug for o in Offices(engine).of_user(user_id(engine, "aqp@example.org"))] == ["lima", "arequipa"]
    assert run(monkeypatch, url, "create-user", "--email", "x@example.org", "--name", "X", "--role", "advisor",
               "--office", "narnia", stdin=PASSWORD + "\n") == 1
    assert "no office with code 'narnia'" in capsys.readouterr().err
    with engine.connect() as conn:  # not created when an office is wrong
        assert conn.execute(select(desk_users.c.id).where(desk_users.c.email == "x@example.org")).first() is None

    assert run(monkeypatch, url, "set-offices", "--email", "Nuevo@example.org", "--office", "arequipa") == 0
    assert "nuevo@example.org works in: arequipa" in capsys.readouterr().out
    assert [o.slug for o in Offices(engine).of_user(user_id(engine, "nuevo@example.org"))] == ["arequipa"]
    assert run(monkeypatch, url, "set-offices", "--email", "nadie@example.org", "--office", "lima") == 1
    assert "no account" in capsys.readouterr().err
    assert run(monkeypatch, url, "set-offices", "--email", "nuevo@example.org", "--office", "narnia") == 1
    assert run(monkeypatch, url, "offices") == 0
    listing = capsys.readouterr().out
    assert re.search(r"arequipa\s+active\s+2 accounts\s+regions: Arequipa", listing)
    assert re.search(r"lima\s+main\s+1 accounts", listing)

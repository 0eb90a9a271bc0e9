"""The supervisors' "Cuentas" page in-process (httpx over ASGI) and the store's rules behind it
(`Accounts.set_roles` / `set_enabled`), on SQLite and PostgreSQL: only supervisors get in; a supervisor
changes another account's roles and offices, disables it (its open session ends at once) and enables it
again; nobody disables or demotes themselves, the last active supervisor keeps the role; bad input is a
Spanish message with 400/403/404, never a 500."""

import datetime as dt
import logging
import re
import threading

import httpx
import pytest
from sqlalchemy import select, update

from bot.desk import staff
from bot.desk.accounts import AccountError, Accounts
from bot.desk.app import create_app
from bot.desk.schema import desk_sessions, desk_users
from bot.desk.sessions import Sessions
from bot.desk.settings import DeskSettings
from bot.offices.directory import Offices
from tests.databases import migrated_engine
from tests.desk_totp import PASSWORD, account_id, cheap_passwords, log_in, seed_accounts

USERS = {"asesora@example.org": ("Ana Asesora", "advisor", True), "jefa@example.org": ("Julia Supervisora", "supervisor", True),
         "jefa2@example.org": ("Sofía Supervisora", "supervisor", True), "revisor@example.org": ("Rolando Revisor", "reviewer", True),
         "nuevo@example.org": ("Nico Nuevo", "advisor", False)}  # no second factor yet: enrols at the first login
SELF_DISABLE = "No puede desactivar su propia cuenta"
SELF_DEMOTE = "No puede quitarse su propio rol de supervisión"
LAST = "Es la última cuenta de supervisión activa"


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_passwords(monkeypatch)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        seed_accounts(engine, USERS)
        yield engine


@pytest.fixture
def app(engine):
    return create_app(engine, DeskSettings())


def browser(app):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://desk.test")


@pytest.fixture
async def client(app):
    async with browser(app) as client:
        yield client


login, user_id = log_in, account_id


def account(engine, email):
    return Accounts(engine).by_id(user_id(engine, email))


async def test_only_supervisors_get_in(client, engine):
    ana = user_id(engine, "asesora@example.org")
    pages = ["/cuentas", f"/cuentas/{ana}"]
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    stranger = await client.post(f"/cuentas/{ana}/estado", data={"activa": "no"})
    assert stranger.status_code == 303 and stranger.headers["location"] == "/login"
    for email in ("asesora@example.org", "revisor@example.org"):
        client.cookies.clear()
        token = await login(client, email)
        for path in pages:
            refused = await client.get(path)
            assert refused.status_code == 403 and "no tiene el rol necesario" in refused.text, (email, path)
        for path, data in ((f"/cuentas/{ana}/roles", {"rol": ["advisor", "supervisor"]}), (f"/cuentas/{ana}/estado", {"activa": "no"}),
                           (f"/cuentas/{ana}/oficinas", {"oficina": []})):
            assert (await client.post(path, data={**data, "csrf_token": token})).status_code == 403, (email, path)
        assert 'href="/cuentas"' not in (await client.get("/")).text
    assert account(engine, "asesora@example.org").roles == {"advisor"} and account(engine, "asesora@example.org").active


async def test_the_list_shows_every_account(client, engine):
    lima = Offices(engine).main()
    Offices(engine).set_offices(user_id(engine, "asesora@example.org"), [lima.id])
    await login(client, "jefa@example.org")
    home = await client.get("/")
    assert 'href="/cuentas"' in home.text
    page = await client.get("/cuentas")
    assert page.status_code == 200
    for email, (name, _role, _factor) in USERS.items():
        assert f'href="/cuentas/{user_id(engine, email)}">{name}</a>' in page.text and email in page.text
    ana_row = re.search(r"Ana Asesora</a>.*?</tr>", page.text, re.S).group(0)
    assert "Asesor/a" in ana_row and "Sede central (Lima)" in ana_row and "Activa" in ana_row and "Configurado" in ana_row
    assert "nunca" in ana_row
    julia_row = re.search(r"Julia Supervisora</a>.*?</tr>", page.text, re.S).group(0)
    assert "(usted)" in julia_row and "Supervisor/a" in julia_row
    assert re.search(r"<td>\d\d/\d\d/\d{4} \d\d:\d\d</td>", julia_row)  # her login just now, Lima time
    assert "Sin configurar" in re.search(r"Nico Nuevo</a>.*?</tr>", page.text, re.S).group(0)
    assert "Revisor/a de sugerencias" in page.text
    assert "infomigra desk create-user" in page.text and "segundo factor" in page.text
    assert 'action="/cuentas"' not in page.text and 'method="post"' not in page.text.split("<main", 1)[-1]  # no creation form


async def test_a_supervisor_changes_roles_offices_and_state(app, client, engine):
    ana = user_id(engine, "asesora@example.org")
    lima = Offices(engine).main()
    arequipa = Offices(engine).create("arequipa", "DRTPE Arequipa", ["arequipa"])
    cusco = Offices(engine).create("cusco", "DRTPE Cusco", ["cusco"])
    Offices(engine).set_offices(ana, [cusco.id])
    Offices(engine).update(cusco.id, active=False)  # not on the page, and kept
    token = await login(client, "jefa@example.org")

    page = await client.get(f"/cuentas/{ana}")
    assert page.status_code == 200 and "Ana Asesora" in page.text and "asesora@example.org" in page.text
    assert re.search(r'name="rol" value="advisor" checked', page.text) and 'name="rol" value="supervisor">' in page.text
    assert f'name="oficina" value="{arequipa.id}">' in page.text and f'value="{cusco.id}"' not in page.text
    assert "También está en DRTPE Cusco" in page.text
    assert "infomigra desk create-user" in page.text

    roles = await client.post(f"/cuentas/{ana}/roles", data={"rol": ["advisor", "reviewer"], "csrf_token": token})
    assert roles.status_code == 303 and roles.headers["location"] == f"/cuentas/{ana}?hecho=roles"
    assert account(engine, "asesora@example.org").roles == {"advisor", "reviewer"}
    assert "Roles guardados" in (await client.get(roles.headers["location"])).text

    offices = await client.post(f"/cuentas/{ana}/oficinas", data={"oficina": [str(lima.id), str(arequipa.id)], "csrf_token": token})
    assert offices.status_code == 303 and offices.headers["location"] == f"/cuentas/{ana}?hecho=oficinas"
    assert {o.slug for o in Offices(engine).of_user(ana)} == {"lima", "arequipa", "cusco"}
    assert (await client.post(f"/cuentas/{ana}/oficinas", data={"csrf_token": token})).status_code == 303
    assert [o.slug for o in Offices(engine).of_user(ana)] == ["cusco"]  # none ticked: the inactive office stays

    async with browser(app) as ana_browser:  # Ana is working when she is disabled
        await login(ana_browser, "asesora@example.org")
        assert (await ana_browser.get("/")).status_code == 200
        off = await client.post(f"/cuentas/{ana}/estado", data={"activa": "no", "csrf_token": token})
        assert off.status_code == 303 and off.headers["location"] == f"/cuentas/{ana}?hecho=desactivada"
        assert not account(engine, "asesora@example.org").active
        following = await ana_browser.get("/cola")
        assert following.status_code == 303 and following.headers["location"].startswith("/login")
        assert (await ana_browser.get("/api/me")).status_code == 401
        with engine.connect() as conn:
            assert conn.execute(select(desk_sessions.c.id).where(desk_sessions.c.user_id == ana)).first() is None
        listing = await client.get("/cuentas")
        assert "Desactivada" in re.search(r"Ana Asesora</a>.*?</tr>", listing.text, re.S).group(0)
        assert "Cuenta desactivada" in (await client.get(off.headers["location"])).text

        on = await client.post(f"/cuentas/{ana}/estado", data={"activa": "si", "csrf_token": token})
        assert on.status_code == 303 and on.headers["location"] == f"/cuentas/{ana}?hecho=activada"
        assert account(engine, "asesora@example.org").active
        ana_browser.cookies.clear()
        await login(ana_browser, "asesora@example.org")  # she can log in again
        assert (await ana_browser.get("/")).status_code == 200


async def test_a_supervisor_can_be_made_and_unmade(client, engine):
    ana, nico, sofia = (user_id(engine, e) for e in ("asesora@example.org", "nuevo@example.org", "jefa2@example.org"))
    token = await login(client, "jefa@example.org")
    made = await client.post(f"/cuentas/{ana}/roles", data={"rol": ["advisor", "supervisor"], "csrf_token": token})
    assert made.status_code == 303 and account(engine, "asesora@example.org").roles == {"advisor", "supervisor"}
    unmade = await client.post(f"/cuentas/{sofia}/roles", data={"rol": "advisor", "csrf_token": token})
    assert unmade.status_code == 303 and account(engine, "jefa2@example.org").roles == {"advisor"}
    # supervision needs a second factor, which only an administrator gives on the command line
    page = await client.get(f"/cuentas/{nico}")
    assert "infomigra desk reset-totp --email nuevo@example.org" in page.text
    refused = await client.post(f"/cuentas/{nico}/roles", data={"rol": ["advisor", "supervisor"], "csrf_token": token})
    assert refused.status_code == 400 and "no tiene segundo factor" in refused.text and 'role="alert"' in refused.text
    assert account(engine, "nuevo@example.org").roles == {"advisor"}


async def test_nobody_locks_themselves_out(client, engine, monkeypatch):
    julia, sofia = user_id(engine, "jefa@example.org"), user_id(engine, "jefa2@example.org")
    token = await login(client, "jefa@example.org")
    own = await client.get(f"/cuentas/{julia}")
    assert own.status_code == 200 and "no puede desactivarla usted" in own.text and "Desactivar la cuenta" not in own.text
    for path, data, message in ((f"/cuentas/{julia}/estado", {"activa": "no"}, SELF_DISABLE),
                                (f"/cuentas/{julia}/roles", {"rol": ["advisor"]}, SELF_DEMOTE),
                                (f"/cuentas/{julia}/roles", {"rol": ["reviewer", "advisor"]}, SELF_DEMOTE)):
        response = await client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 400 and message in response.text and 'role="alert"' in response.text, data
    julia_now = account(engine, "jefa@example.org")
    assert julia_now.active and julia_now.roles == {"supervisor"}
    assert (await client.get("/cuentas")).status_code == 200  # still in
    more = await client.post(f"/cuentas/{julia}/roles", data={"rol": ["supervisor", "advisor"], "csrf_token": token})
    assert more.status_code == 303 and account(engine, "jefa@example.org").roles == {"supervisor", "advisor"}

    # Sofía demotes Julia at the very moment Julia demotes or disables Sofía: after Julia's request passed
    # its role check, her change finds Sofía the last active supervisor.
    found = staff._find

    async def meanwhile(request):
        with engine.begin() as conn:
            conn.execute(update(desk_users).where(desk_users.c.id == julia).values(roles="advisor"))
        return await found(request)

    monkeypatch.setattr(staff, "_find", meanwhile)
    for path, data in ((f"/cuentas/{sofia}/roles", {"rol": ["advisor"]}), (f"/cuentas/{sofia}/estado", {"activa": "no"})):
        with engine.begin() as conn:
            conn.execute(update(desk_users).where(desk_users.c.id == julia).values(roles="supervisor"))
        response = await client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 400 and LAST in response.text, data
        sofia_now = account(engine, "jefa2@example.org")
        assert sofia_now.active and sofia_now.roles == {"supervisor"}


async def test_bad_input_is_a_spanish_message_never_a_500(client, engine):
    ana = user_id(engine, "asesora@example.org")
    token = await login(client, "jefa@example.org")
    for path in ("/cuentas/abc", "/cuentas/999999", "/cuentas/-1", "/cuentas/1.5", "/cuentas/99999999999999999999", "/cuentas/%C2%B2"):
        response = await client.get(path)
        assert response.status_code == 404 and "Esa cuenta no existe" in response.text, path
        for action in ("roles", "oficinas", "estado"):
            posted = await client.post(f"{path}/{action}", data={"rol": "advisor", "activa": "no", "csrf_token": token})
            assert posted.status_code == 404 and "Esa cuenta no existe" in posted.text, (path, action)

    for data in ({"rol": ["advisor"]}, {"rol": ["advisor"], "csrf_token": "otro"}):
        forged = await client.post(f"/cuentas/{ana}/roles", data=data)
        assert forged.status_code == 403 and "El formulario caducó" in forged.text
    assert (await client.post(f"/cuentas/{ana}/estado", data={"activa": "no"})).status_code == 403
    assert account(engine, "asesora@example.org").active

    cases = [
        ("roles", {"rol": ["advisor", "admin"]}, "Rol desconocido: admin"),
        ("roles", {"rol": ["advisor supervisor"]}, "Rol desconocido"),
        ("roles", {}, "Indique al menos un rol"),
        ("roles", {"rol": ["", " "]}, "Indique al menos un rol"),
        ("oficinas", {"oficina": ["999999"]}, "Alguna de esas oficinas no existe o está inactiva"),
        ("oficinas", {"oficina": ["lima"]}, "Alguna de esas oficinas no existe"),
        ("oficinas", {"oficina": ["99999999999999999999"]}, "Alguna de esas oficinas no existe"),
        ("oficinas", {"oficina": ["\u00b2"]}, "Alguna de esas oficinas no existe"),
        ("estado", {}, "Elija si la cuenta queda activa"),
        ("estado", {"activa": "quizas"}, "Elija si la cuenta queda activa"),
    ]
    for action, data, message in cases:
        response = await client.post(f"/cuentas/{ana}/{action}", data={**data, "csrf_token": token})
        assert response.status_code == 400 and message in response.text and 'role="alert"' in response.text, data
    cusco = Offices(engine).create("cusco", "DRTPE Cusco", ["cusco"])
    Offices(engine).update(cusco.id, active=False)
    inactive = await client.post(f"/cuentas/{ana}/oficinas", data={"oficina": [str(cusco.id)], "csrf_token": token})
    assert inactive.status_code == 400 and "está inactiva" in inactive.text
    ana_now = account(engine, "asesora@example.org")
    assert ana_now.roles == {"advisor"} and ana_now.active and Offices(engine).of_user(ana) == []


async def test_every_change_is_logged_with_who_and_whom(client, engine, caplog):
    ana, julia = user_id(engine, "asesora@example.org"), user_id(engine, "jefa@example.org")
    token = await login(client, "jefa@example.org")
    caplog.set_level(logging.INFO, logger="bot.desk.staff")
    await client.post(f"/cuentas/{ana}/roles", data={"rol": ["advisor", "reviewer"], "csrf_token": token})
    await client.post(f"/cuentas/{ana}/oficinas", data={"oficina": [str(Offices(engine).main().id)], "csrf_token": token})
    await client.post(f"/cuentas/{ana}/estado", data={"activa": "no", "csrf_token": token})
    await client.post(f"/cuentas/{julia}/estado", data={"activa": "no", "csrf_token": token})  # refused: not logged
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.desk.staff"]
    assert lines == [f"desk audit: account {ana} roles set by account {julia} (advisor -> advisor reviewer)",
                     f"desk audit: account {ana} offices set by account {julia} (office ids [{Offices(engine).main().id}])",
                     f"desk audit: account {ana} disabled (sessions ended) by account {julia} (was active)"]
    assert not any(PASSWORD in line or "@" in line for line in lines)


# the store's rules -------------------------------------------------------------------------------

def test_set_roles_validates_and_keeps_a_supervisor(engine):
    accounts = Accounts(engine)
    ana, julia, sofia = (user_id(engine, e) for e in ("asesora@example.org", "jefa@example.org", "jefa2@example.org"))
    assert accounts.set_roles(ana, ["Reviewer", " advisor "], by=julia).roles == {"advisor", "reviewer"}
    with engine.connect() as conn:
        assert conn.execute(select(desk_users.c.roles).where(desk_users.c.id == ana)).scalar_one() == "advisor reviewer"
    for roles, message in ((["admin"], "Rol desconocido: admin"), ([], "Indique al menos un rol")):
        with pytest.raises(AccountError, match=message):
            accounts.set_roles(ana, roles, by=julia)
    with pytest.raises(AccountError, match="Esa cuenta no existe"):
        accounts.set_roles(999999, ["advisor"])
    with pytest.raises(AccountError, match=SELF_DEMOTE):
        accounts.set_roles(julia, ["advisor"], by=julia)
    with pytest.raises(AccountError, match="no tiene segundo factor"):
        accounts.set_roles(user_id(engine, "nuevo@example.org"), ["supervisor"], by=julia)

    assert accounts.set_roles(sofia, ["advisor"], by=julia).roles == {"advisor"}  # Julia remains
    with pytest.raises(AccountError, match=LAST):
        accounts.set_roles(julia, ["advisor"])  # the command side, or another account: Julia is the last one
    accounts.set_enabled(sofia, False, by=julia)
    with pytest.raises(AccountError, match="no tiene segundo factor"):
        accounts.set_roles(user_id(engine, "nuevo@example.org"), ["advisor", "supervisor"])
    assert accounts.set_roles(sofia, ["supervisor"], by=julia).roles == {"supervisor"}  # a disabled one counts for nothing
    with pytest.raises(AccountError, match=LAST):
        accounts.set_roles(julia, ["reviewer"], by=sofia)
    assert accounts.by_id(julia).roles == {"supervisor"}


def test_set_enabled_ends_sessions_and_keeps_a_supervisor(engine):
    accounts = Accounts(engine)
    sessions = Sessions(engine, dt.timedelta(hours=8), dt.timedelta(hours=12))
    ana, julia, sofia = (user_id(engine, e) for e in ("asesora@example.org", "jefa@example.org", "jefa2@example.org"))
    open_session = sessions.create(accounts.by_id(ana))
    assert not accounts.set_enabled(ana, False, by=julia).active
    assert sessions.get(open_session.token) is None and accounts.authenticate("asesora@example.org", PASSWORD) is None
    assert accounts.set_enabled(ana, True, by=julia).active
    assert accounts.authenticate("asesora@example.org", PASSWORD) is not None
    with pytest.raises(AccountError, match=SELF_DISABLE):
        accounts.set_enabled(julia, False, by=julia)
    with pytest.raises(AccountError, match="Esa cuenta no existe"):
        accounts.set_enabled(999999, True)
    assert not accounts.set_enabled(sofia, False, by=julia).active
    with pytest.raises(AccountError, match=LAST):
        accounts.set_enabled(julia, False)
    assert accounts.by_id(julia).active
    assert accounts.set_enabled(sofia, True).active  # enabling is always allowed


def test_two_supervisors_demoting_each_other_at_once_leave_one(engine):
    accounts = Accounts(engine)
    julia, sofia = user_id(engine, "jefa@example.org"), user_id(engine, "jefa2@example.org")

    def demote(start, outcomes, target, actor):
        start.wait()
        try:
            accounts.set_roles(target, ["advisor"], by=actor)
            outcomes.append("done")
        except AccountError as exc:
            outcomes.append(str(exc))

    for _round in range(5):
        start, outcomes = threading.Barrier(2), []
        threads = [threading.Thread(target=demote, args=(start, outcomes, sofia, julia)),
                   threading.Thread(target=demote, args=(start, outcomes, julia, sofia))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(o[:40] for o in outcomes) == sorted(["done", LAST[:40]])
        supervisors = [u for u in accounts.all() if u.active and "supervisor" in u.roles]
        assert len(supervisors) == 1
        accounts.set_roles(julia, ["supervisor"])
        accounts.set_roles(sofia, ["supervisor"])

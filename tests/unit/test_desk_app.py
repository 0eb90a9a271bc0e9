"""The desk application in-process (httpx over ASGI) against SQLite and PostgreSQL: login (password
and second factor), sessions, cookies, CSRF, throttling, roles, and that no route answers without a login.

The client speaks https (as the desk is served in production), so its cookies are Secure and
named with the __Host- prefix."""

import datetime as dt
import functools
import re

import httpx
import pyotp
import pytest
from sqlalchemy import func, insert, select
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from bot.desk import sessions as sessions_module
from bot.desk.access import requires
from bot.desk.accounts import Accounts
from bot.desk.app import check_guarded, create_app
from bot.desk.passwords import hash_password
from bot.desk.schema import desk_login_failures, desk_sessions, desk_users
from bot.desk.settings import DeskSettings, SettingsError
from bot.store.clock import now
from tests.databases import migrated_engine
from tests.desk_totp import cheap_passwords, enrolled, enrolment_secret, second_factor

PASSWORD = "clave-de-prueba-larga"
USERS = {"asesora@example.org": ("Ana Asesora", "advisor"), "revisor@example.org": ("Rolando Revisor", "reviewer"),
         "jefa@example.org": ("Julia Supervisora", "supervisor")}
BASE = "https://desk.test"
SESSION = "__Host-desk_session"


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_passwords(monkeypatch)


@functools.lru_cache(maxsize=1)
def stored_password() -> str:
    return hash_password(PASSWORD)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        with engine.begin() as conn:
            conn.execute(insert(desk_users), [
                {"email": email, "display_name": name, "password_hash": stored_password(), "roles": role, "active": True,
                 "created_at": now(), **enrolled()} for email, (name, role) in USERS.items()])
        yield engine


def make_app(engine, **settings):
    app = create_app(engine, DeskSettings(**settings))

    @requires("reviewer")
    async def reviewers_only(request):
        return JSONResponse({"ok": True, "method": request.method})

    app.router.routes.insert(0, Route("/api/prueba-revisores", reviewers_only, methods=["GET", "POST"]))
    return app


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


@pytest.fixture
async def client(engine):
    async with client_for(make_app(engine)) as client:
        yield client


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def password_step(client, email, password=PASSWORD, **extra) -> httpx.Response:
    page = await client.get("/login")
    return await client.post("/login", data={"email": email, "password": password, "csrf_token": form_token(page.text), **extra})


async def login(client, email, password=PASSWORD, **extra) -> httpx.Response:
    """Password, then (when it was right) a fresh code of the account's second factor."""
    return await second_factor(client, await password_step(client, email, password, **extra), email)


def guarded_routes(app):
    for route in app.routes:
        if isinstance(route, Route) and route.endpoint.desk_access != "public":
            for method in sorted(route.methods - {"HEAD"}):
                yield method, route.path


def test_every_route_has_an_access_rule(engine):
    app = create_app(engine, DeskSettings())
    check_guarded(app.routes)
    paths = {r.path for r in app.routes if isinstance(r, Route)}
    assert {"/", "/login", "/logout", "/api/me", "/cola", "/sugerencias"} <= paths
    public = [r.path for r in app.routes if isinstance(r, Route) and r.endpoint.desk_access == "public"]
    assert public == ["/login", "/login", "/login/codigo", "/login/codigo"]

    async def naked(request):
        return JSONResponse({})

    with pytest.raises(RuntimeError, match="no access rule"):
        check_guarded([Route("/api/olvidada", naked)])
    with pytest.raises(RuntimeError, match="mount"):
        check_guarded([Mount("/otra", routes=[])])


async def test_nothing_answers_without_a_login(engine, client):
    app = make_app(engine)
    checked = 0
    for method, path in guarded_routes(app):
        response = await client.request(method, path, data={"csrf_token": "x"})
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
            assert response.json()["error"] == "no_autenticado"
        else:
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login")
        checked += 1
    assert checked >= 6
    assert (await client.get("/cola")).headers["location"] == "/login?next=/cola"
    client.cookies.set(SESSION, "inventada")
    assert (await client.get("/api/me")).status_code == 401
    assert (await client.get("/")).headers["location"] == "/login?aviso=sesion"


async def test_login_home_and_logout(engine, client):
    page = await client.get("/login")
    assert page.status_code == 200 and 'lang="es"' in page.text and "Iniciar sesión" in page.text
    assert '<label for="email">' in page.text and 'autocomplete="current-password"' in page.text
    response = await login(client, "Asesora@Example.org")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION + "="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    home = await client.get("/")
    assert home.status_code == 200
    assert "Hola, Ana Asesora" in home.text and "asesora@example.org" in home.text and "Asesor/a" in home.text
    assert 'href="/cola"' in home.text and 'href="/sugerencias"' not in home.text
    me = (await client.get("/api/me")).json()
    assert me["email"] == "asesora@example.org" and me["roles"] == ["advisor"] and me["csrf_token"]
    assert dt.datetime.fromisoformat(me["session_expires_at"]) > now() + dt.timedelta(hours=7)
    out = await client.post("/logout", data={"csrf_token": form_token(home.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login?aviso=salida"
    assert (await client.get("/api/me")).status_code == 401
    assert "Ha cerrado la sesión." in (await client.get("/login?aviso=salida")).text
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(desk_sessions)).scalar_one() == 0


async def test_after_login_the_person_returns_where_they_were(client):
    page = await client.get("/login?next=/cola")
    assert 'name="next" value="/cola"' in page.text
    assert (await login(client, "jefa@example.org", next="/cola")).headers["location"] == "/cola"
    async with client_for(client._transport.app) as other:
        for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/api/me", "/login"):
            assert (await login(other, "jefa@example.org", next=target)).headers["location"] == "/"
            other.cookies.clear()


async def test_wrong_passwords_and_unknown_accounts_fail_alike(client):
    wrong = await login(client, "asesora@example.org", "clave-equivocada-123")
    unknown = await login(client, "nadie@example.org", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Correo electrónico o contraseña incorrectos." in response.text and 'role="alert"' in response.text
    assert 'value="nadie@example.org"' in unknown.text  # the address stays typed
    empty = await login(client, "", "")
    assert empty.status_code == 400 and "Escriba su correo electrónico y su contraseña." in empty.text
    assert (await client.get("/api/me")).status_code == 401


async def test_the_sixth_failed_attempt_is_refused_even_after_a_restart(engine, client):
    page = await client.get("/login")
    token = form_token(page.text)

    async def attempt(password, c=client):
        return await c.post("/login", data={"email": "asesora@example.org", "password": password, "csrf_token": token})

    assert [(await attempt(f"mala-clave-{i}")).status_code for i in range(5)] == [401] * 5
    blocked = await attempt("mala-clave-6")
    assert blocked.status_code == 429
    assert "Demasiados intentos fallidos" in blocked.text and "15 minutos" in blocked.text
    assert 14 * 60 < int(blocked.headers["retry-after"]) <= 15 * 60
    assert (await attempt(PASSWORD)).status_code == 429  # the right password waits too
    async with client_for(make_app(engine)) as restarted:
        restarted.cookies.update(client.cookies)
        assert (await attempt(PASSWORD, restarted)).status_code == 429
    assert (await login(client, "jefa@example.org")).status_code == 303  # other accounts are not locked out


async def test_too_many_failures_from_one_ip_are_refused(engine):
    async with client_for(make_app(engine, login_max_failures_per_ip=3)) as client:
        for email in ("a@example.org", "b@example.org", "c@example.org"):
            assert (await login(client, email, "mala-clave-123")).status_code == 401
        assert (await login(client, "jefa@example.org")).status_code == 429


async def test_the_login_form_needs_its_csrf_token(client):
    await client.get("/login")
    data = {"email": "asesora@example.org", "password": PASSWORD}
    assert (await client.post("/login", data=data)).status_code == 403
    assert (await client.post("/login", data={**data, "csrf_token": "falso"})).status_code == 403
    refused = await client.post("/login", data={**data, "csrf_token": "falso"})
    assert "El formulario caducó" in refused.text
    client.cookies.clear()  # a token without its cookie (another browser) is refused too
    assert (await client.post("/login", data={**data, "csrf_token": form_token(refused.text)})).status_code == 403
    page = await client.get("/login")
    cross = await client.post("/login", data={**data, "csrf_token": form_token(page.text)}, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    assert (await client.get("/api/me")).status_code == 401


async def test_state_changing_requests_need_the_session_csrf_token(client):
    await login(client, "revisor@example.org")
    token = (await client.get("/api/me")).json()["csrf_token"]
    assert (await client.get("/api/prueba-revisores")).json() == {"ok": True, "method": "GET"}
    for kwargs in ({}, {"headers": {"X-CSRF-Token": "otro"}}, {"data": {"csrf_token": "otro"}}, {"json": {"csrf_token": token}},
                   {"headers": {"X-CSRF-Token": token, "Origin": "https://evil.example"}},
                   {"headers": {"X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"}}):
        response = await client.post("/api/prueba-revisores", **kwargs)
        assert response.status_code == 403, kwargs
        assert response.json()["error"] == "csrf"
    assert (await client.post("/api/prueba-revisores", headers={"X-CSRF-Token": token})).status_code == 200
    assert (await client.post("/api/prueba-revisores", data={"csrf_token": token})).status_code == 200
    assert (await client.post("/api/prueba-revisores", headers={"X-CSRF-Token": token, "Origin": BASE})).status_code == 200
    refused = await client.post("/logout")
    assert refused.status_code == 403 and "El formulario caducó o no es válido" in refused.text
    assert (await client.get("/api/me")).status_code == 200  # still logged in


@pytest.mark.parametrize(("email", "queue", "suggestions", "api"), [
    ("asesora@example.org", 200, 403, 403), ("revisor@example.org", 403, 200, 200), ("jefa@example.org", 200, 200, 403)])
async def test_roles_open_their_sections_only(client, email, queue, suggestions, api):
    await login(client, email)
    assert (await client.get("/cola")).status_code == queue
    response = await client.get("/sugerencias")
    assert response.status_code == suggestions
    if suggestions == 403:
        assert "Su cuenta no tiene el rol necesario" in response.text
    else:
        assert "<h1>Sugerencias</h1>" in response.text  # the review (bot.desk.suggestions_review) replaced the placeholder
    api_response = await client.get("/api/prueba-revisores")
    assert api_response.status_code == api
    if api == 403:
        assert api_response.json()["error"] == "prohibido"


async def test_an_idle_session_expires(client, monkeypatch):
    await login(client, "asesora@example.org")
    assert (await client.get("/api/me")).status_code == 200
    monkeypatch.setattr(sessions_module, "now", lambda: now() + dt.timedelta(hours=8, minutes=1))
    assert (await client.get("/api/me")).status_code == 401
    expired = await client.get("/")
    assert expired.headers["location"] == "/login?aviso=sesion"
    assert "Su sesión terminó" in (await client.get(expired.headers["location"])).text


async def test_a_disabled_account_is_logged_out(engine, client):
    await login(client, "asesora@example.org")
    Accounts(engine).set_active("asesora@example.org", False)
    assert (await client.get("/api/me")).status_code == 401
    assert (await login(client, "asesora@example.org")).status_code == 401


async def test_secure_cookies_and_security_headers(engine):
    async with client_for(make_app(engine, cookie_secure=True)) as client:
        page = await client.get("/login")
        assert "Secure" in page.headers["set-cookie"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff" and page.headers["cache-control"] == "no-store"
        assert page.headers["strict-transport-security"]
        response = await login(client, "asesora@example.org")
        assert all("Secure" in c for c in response.headers.get_list("set-cookie"))
        css = await client.get("/static/desk.css")
        assert css.status_code == 200 and "--red" in css.text


async def test_bad_input_gets_a_4xx_never_a_500(engine, client):
    page = await client.get("/login")
    token = form_token(page.text)
    assert (await client.post("/login", content=b"\xff\xfe\x00garbage",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})).status_code < 500
    assert (await client.post("/login", files={"email": ("a.txt", b"x")}, data={"csrf_token": token})).status_code == 400
    assert (await client.post("/login", json={"email": "a", "password": "b"})).status_code == 403
    assert (await client.post("/login", data={"email": "x" * 5000, "password": "y" * 5000, "csrf_token": token})).status_code == 401
    too_big = await client.post("/login", content=b"a=" + b"x" * (1024 * 1024 + 10),
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert too_big.status_code == 413 and "demasiado grande" in too_big.text
    assert (await client.get("/no-existe")).status_code == 404
    missing = await client.get("/api/no-existe")
    assert missing.status_code == 404 and missing.json()["error"] == "no_encontrado"
    assert (await client.delete("/login")).status_code == 405
    assert (await login(client, "asesora@example.org")).status_code == 303
    lost = await client.get("/no-existe")
    assert lost.status_code == 404 and "Página no encontrada" in lost.text and "Cerrar sesión" in lost.text
    client.cookies.clear()
    client.cookies.set(SESSION, "%FF" * 300)
    assert (await client.get("/")).status_code == 303


# --- desk defaults: cookies, second factor, lockout ------------------------------------------------

def client_at(app, base: str, address: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 50000)), base_url=base)


@pytest.mark.parametrize(("base", "secure"), [("https://desk.test", True), ("http://desk.example.gob.pe", True),
                                              ("http://localhost:8010", False), ("http://127.0.0.1:8010", False),
                                              ("http://[::1]:8010", False)])
async def test_cookies_are_secure_with_the_host_prefix_except_on_plain_http_localhost(engine, base, secure):
    async with client_at(make_app(engine), base) as client:
        page = await client.get("/login")
        for cookie in page.headers.get_list("set-cookie"):
            assert cookie.startswith("__Host-") == secure and ("Secure" in cookie) == secure, cookie
            assert "Path=/" in cookie and "Domain" not in cookie
        if not secure:  # a browser keeps them: the whole login works over plain http on this machine
            response = await login(client, "asesora@example.org")
            assert response.status_code == 303 and response.headers["location"] == "/"
            assert any(c.startswith("desk_session=") and "Secure" not in c for c in response.headers.get_list("set-cookie"))
            assert (await client.get("/api/me")).status_code == 200


async def test_a_secure_desk_ignores_a_cookie_without_the_host_prefix(engine, client):
    await login(client, "asesora@example.org")
    token = client.cookies[SESSION]
    client.cookies.clear()
    client.cookies.set("desk_session", token)  # e.g. planted over http by a sibling domain
    assert (await client.get("/api/me")).status_code == 401
    client.cookies.set(SESSION, token)
    assert (await client.get("/api/me")).status_code == 200


def test_cookie_security_cannot_be_turned_off():
    with pytest.raises(SettingsError):
        DeskSettings.from_env({"DESK_COOKIE_SECURE": "0"})
    assert DeskSettings.from_env({}).cookie_secure is None and DeskSettings.from_env({"DESK_COOKIE_SECURE": "1"}).cookie_secure


async def test_a_right_password_alone_opens_nothing(client):
    response = await password_step(client, "asesora@example.org")
    assert response.status_code == 303 and response.headers["location"] == "/login/codigo"
    assert not any(c.startswith(SESSION) for c in response.headers.get_list("set-cookie"))
    assert (await client.get("/api/me")).status_code == 401
    assert (await client.get("/")).status_code == 303
    page = await client.get("/login/codigo")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text and "totp-secret" not in page.text
    wrong = await client.post("/login/codigo", data={"code": "000000", "csrf_token": form_token(page.text)})
    assert wrong.status_code == 401 and "El código no es correcto" in wrong.text
    assert (await client.get("/api/me")).status_code == 401


async def test_a_used_code_never_opens_a_second_session(engine, client):
    assert (await login(client, "asesora@example.org")).status_code == 303
    with engine.connect() as conn:
        secret, last = conn.execute(select(desk_users.c.totp_secret, desk_users.c.totp_last_step)
                                    .where(desk_users.c.email == "asesora@example.org")).one()
    used = pyotp.TOTP(secret).generate_otp(last)
    async with client_for(client._transport.app) as thief:
        assert (await password_step(thief, "asesora@example.org")).status_code == 303
        page = await thief.get("/login/codigo")
        replay = await thief.post("/login/codigo", data={"code": used, "csrf_token": form_token(page.text)})
        assert replay.status_code == 401 and (await thief.get("/api/me")).status_code == 401
    for earlier in range(last - 3, last):  # nor an older code still inside the drift window
        assert not Accounts(engine).use_code(Accounts(engine).by_email("asesora@example.org").id,
                                             pyotp.TOTP(secret).generate_otp(earlier))


async def test_wrong_codes_count_as_failed_logins_and_end_the_step(engine, client):
    await password_step(client, "asesora@example.org")
    token = form_token((await client.get("/login/codigo")).text)
    statuses = [(await client.post("/login/codigo", data={"code": f"{i:06d}", "csrf_token": token})).status_code for i in range(5)]
    assert statuses == [401, 401, 401, 401, 303]  # the fifth wrong code ends the half-done login
    assert (await client.get("/login/codigo")).headers["location"] == "/login?aviso=codigo"
    blocked = await password_step(client, "asesora@example.org")  # five failures from this address for this account
    assert blocked.status_code == 429


async def test_failures_from_elsewhere_never_lock_an_advisor_out(engine):
    app = make_app(engine)
    async with client_at(app, BASE, "203.0.113.66") as attacker:
        statuses = [(await password_step(attacker, "asesora@example.org", f"adivinando-{i}")).status_code for i in range(8)]
        assert statuses == [401] * 5 + [429] * 3
    async with client_at(app, BASE, "10.1.2.3") as advisor:
        response = await login(advisor, "asesora@example.org")
        assert response.status_code == 303 and response.headers["location"] == "/"
    with engine.connect() as conn:  # nothing is counted per account alone
        assert conn.execute(select(func.count()).select_from(desk_login_failures)).scalar_one() == 5 * 2


async def test_a_supervisor_without_a_second_factor_cannot_log_in(engine, client):
    with engine.begin() as conn:
        conn.execute(desk_users.update().where(desk_users.c.email == "jefa@example.org").values(totp_secret=None))
    refused = await password_step(client, "jefa@example.org")
    assert refused.status_code == 403 and "segundo factor" in refused.text
    assert (await client.get("/login/codigo")).status_code == 303
    assert (await client.get("/api/me")).status_code == 401


async def test_an_account_without_a_second_factor_enrols_at_its_next_login(engine, client):
    with engine.begin() as conn:
        conn.execute(desk_users.update().where(desk_users.c.email == "revisor@example.org").values(totp_secret=None))
    response = await password_step(client, "revisor@example.org")
    assert response.headers["location"] == "/login/codigo"
    page = await client.get("/login/codigo")
    assert "Active el segundo factor" in page.text and "otpauth://totp/" in page.text
    secret = enrolment_secret(page.text)
    assert (await client.get("/api/me")).status_code == 401  # nothing opens before the code
    wrong = await client.post("/login/codigo", data={"code": "123456", "csrf_token": form_token(page.text)})
    assert wrong.status_code == 401 and Accounts(engine).totp_secret("revisor@example.org") is None
    done = await client.post("/login/codigo", data={"code": pyotp.TOTP(secret).now(), "csrf_token": form_token(page.text)})
    assert done.status_code == 303 and (await client.get("/api/me")).status_code == 200
    assert Accounts(engine).totp_secret("revisor@example.org") == secret
    async with client_for(client._transport.app) as later:  # from now on: a code of that secret
        assert (await password_step(later, "revisor@example.org")).headers["location"] == "/login/codigo"
        assert "totp-secret" not in (await later.get("/login/codigo")).text

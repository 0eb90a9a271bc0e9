"""The advisor desk as a real process: `infomigra desk serve` on a free loopback port, a fresh
SQLite database, accounts made with `infomigra desk create-user`, and a real Chromium.

`running_desk` is reusable by the desk's later features; every account it makes has the second factor
that `create-user` printed, and `Desk.code(email)` gives a fresh code of it (`browser_login` and
`login(..., desk=desk)` log in through the real pages: password, then code)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from bot.desk.app import create_app
from bot.desk.settings import DeskSettings
from bot.store.db import get_engine
from tests.desk_totp import code_for, second_factor_sync
from tests.stack import _wait, free_port, stop_group

ROOT = Path(__file__).resolve().parents[2]
INFOMIGRA = str(ROOT / ".venv-svc" / "bin" / "infomigra")
SCREENSHOTS = ROOT / "results" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
PASSWORD = "una-clave-larga-de-prueba"
ACCOUNTS = {"ana.asesora@example.org": ("Ana Quispe Mamani", ["advisor", "supervisor"]),
            "rolando@example.org": ("Rolando Revisor", ["reviewer"])}


@dataclass
class Desk:
    url: str
    env: dict[str, str]
    log: Path
    secrets: dict[str, str]  # e-mail → the TOTP secret `create-user` printed

    def engine(self):  # noqa: ANN201
        return get_engine(self.env["DATABASE_URL"])

    def code(self, email: str) -> str:
        """A code of the account's second factor that the desk has not accepted yet."""
        return code_for(self.engine(), email)


SECRET_LINE = re.compile(r"^\s*secret: ([A-Z2-7 ]+)$", re.MULTILINE)


@contextmanager
def running_desk(work_dir: Path, accounts: dict[str, tuple[str, list[str]]] = ACCOUNTS,
                 extra_env: dict[str, str] | None = None) -> Iterator[Desk]:
    """The desk on a free loopback port with its own database under `work_dir`; every account has PASSWORD."""
    work_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{work_dir / 'desk.db'}", **(extra_env or {})}
    subprocess.run([INFOMIGRA, "db", "upgrade"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    secrets: dict[str, str] = {}
    for email, (name, roles) in accounts.items():
        role_args = [arg for role in roles for arg in ("--role", role)]
        created = subprocess.run([INFOMIGRA, "desk", "create-user", "--email", email, "--name", name, *role_args],
                                 cwd=ROOT, env=env, input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        secrets[email] = SECRET_LINE.search(created.stdout).group(1).replace(" ", "")
    port = free_port()
    log = work_dir / "desk.log"
    proc = subprocess.Popen([INFOMIGRA, "desk", "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait(f"http://127.0.0.1:{port}/login", proc, log, 30)
        yield Desk(f"http://127.0.0.1:{port}", env, log, secrets)
    finally:
        stop_group(proc)


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    with running_desk(tmp_path_factory.mktemp("desk")) as running:
        yield running


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client: httpx.Client, email: str, password: str, desk: Desk | None = None) -> httpx.Response:
    """The password step; with `desk`, also the code step when the password was right."""
    token = form_token(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    return second_factor_sync(client, response, desk.engine(), email) if desk else response


def browser_login(page, desk: Desk, email: str, password: str = PASSWORD) -> None:  # noqa: ANN001
    """Log in through the real pages in the browser: e-mail and password, then a fresh code."""
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Entrar").click()
    page.get_by_label("Código de verificación").fill(desk.code(email))
    page.get_by_role("button", name="Verificar").click()


def test_every_route_refuses_a_stranger(desk, tmp_path):
    app = create_app(get_engine(f"sqlite:///{tmp_path / 'routes.db'}"), DeskSettings())  # only to list the routes
    routes = [(method, route.path) for route in app.routes if getattr(route, "endpoint", None) is not None
              and route.endpoint.desk_access != "public" for method in sorted(route.methods - {"HEAD"})]
    assert ("GET", "/") in routes and ("GET", "/api/me") in routes and ("POST", "/logout") in routes
    with httpx.Client(base_url=desk.url, timeout=10) as client:
        for method, path in routes:
            response = client.request(method, path)
            if path.startswith("/api/"):
                assert response.status_code == 401 and response.json()["error"] == "no_autenticado", (method, path)
            else:
                assert response.status_code == 303 and response.headers["location"].startswith("/login"), (method, path)
        assert client.get("/login").status_code == 200


def test_wrong_passwords_fail_and_the_sixth_failure_gets_429(desk):
    with httpx.Client(base_url=desk.url, timeout=30) as client:
        for attempt in range(5):
            response = login(client, "rolando@example.org", f"equivocada-{attempt}")
            assert response.status_code == 401 and "Correo electrónico o contraseña incorrectos." in response.text
        sixth = login(client, "rolando@example.org", "equivocada-6")
        assert sixth.status_code == 429 and "Demasiados intentos fallidos" in sixth.text
        assert int(sixth.headers["retry-after"]) > 0
        assert login(client, "rolando@example.org", PASSWORD).status_code == 429


def test_posts_without_the_csrf_token_are_refused(desk):
    with httpx.Client(base_url=desk.url, timeout=30) as client:
        token = form_token(client.get("/login").text)
        client.cookies.clear()  # no login-form cookie: refused
        no_cookie = client.post("/login", data={"email": "ana.asesora@example.org", "password": PASSWORD, "csrf_token": token})
        assert no_cookie.status_code == 403
        half = login(client, "ana.asesora@example.org", PASSWORD)  # the password alone opens nothing
        assert half.status_code == 303 and half.headers["location"] == "/login/codigo"
        assert client.get("/api/me").status_code == 401
        assert second_factor_sync(client, half, desk.engine(), "ana.asesora@example.org").status_code == 303
        assert client.post("/logout").status_code == 403
        assert client.post("/logout", data={"csrf_token": "inventado"}).status_code == 403
        assert client.post("/logout", headers={"X-CSRF-Token": "inventado"}).status_code == 403
        me = client.get("/api/me")
        assert me.status_code == 200  # still logged in
        assert client.post("/logout", headers={"X-CSRF-Token": me.json()["csrf_token"]}).status_code == 303
        assert client.get("/api/me").status_code == 401


def test_an_advisor_logs_in_sees_the_home_and_logs_out_in_chromium(desk):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 800}, locale="es-PE").new_page()
            problems: list[str] = []
            # script errors and CSP refusals (a 401 answer to the wrong password is logged too: expected)
            page.on("console", lambda message: problems.append(message.text)
                    if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
            page.on("pageerror", lambda error: problems.append(str(error)))

            page.goto(f"{desk.url}/")
            assert page.url.endswith("/login")
            page.get_by_label("Correo electrónico").fill("ana.asesora@example.org")
            page.get_by_label("Contraseña").fill("no-es-la-clave")
            page.get_by_role("button", name="Entrar").click()
            page.get_by_role("alert").wait_for()
            assert "incorrectos" in page.get_by_role("alert").inner_text()
            page.screenshot(path=str(SCREENSHOTS / "desk-login.png"))

            page.get_by_label("Contraseña").fill(PASSWORD)
            page.get_by_role("button", name="Entrar").click()
            page.get_by_role("heading", name="Verificación en dos pasos").wait_for()
            assert page.url == f"{desk.url}/login/codigo"
            page.get_by_label("Código de verificación").fill("000000" if desk.code("ana.asesora@example.org") != "000000" else "111111")
            page.get_by_role("button", name="Verificar").click()
            page.get_by_role("alert").wait_for()
            assert "El código no es correcto" in page.get_by_role("alert").inner_text()
            page.screenshot(path=str(SCREENSHOTS / "desk-login-code.png"))
            page.get_by_label("Código de verificación").fill(desk.code("ana.asesora@example.org"))
            page.get_by_role("button", name="Verificar").click()
            page.get_by_role("heading", name="Hola, Ana Quispe Mamani").wait_for()
            assert page.url == f"{desk.url}/"
            assert "ana.asesora@example.org" in page.content()
            nav = page.get_by_role("navigation", name="Secciones")
            assert nav.get_by_role("link", name="Cola de conversaciones").is_visible()
            assert nav.get_by_role("link", name="Sugerencias").is_visible()  # a supervisor sees both
            cookies = {c["name"]: c for c in page.context.cookies()}
            assert cookies["desk_session"]["httpOnly"] and cookies["desk_session"]["sameSite"] == "Strict"
            assert not cookies["desk_session"]["secure"]  # served on http://127.0.0.1: plain name, not Secure
            assert page.evaluate("document.cookie") == ""  # not readable from JavaScript
            assert page.evaluate("typeof window.desk.api") == "function"
            me = page.evaluate("window.desk.api('/api/me').then(r => r.json())")
            assert me["email"] == "ana.asesora@example.org"
            page.screenshot(path=str(SCREENSHOTS / "desk-home.png"), full_page=True)

            page.get_by_role("button", name="Cerrar sesión").click()
            page.get_by_text("Ha cerrado la sesión.").wait_for()
            assert "/login" in page.url
            page.goto(f"{desk.url}/")
            assert page.url.endswith("/login")
            assert problems == []
        finally:
            browser.close()

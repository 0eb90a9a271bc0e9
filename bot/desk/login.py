"""/login, /login/codigo and /logout.

The login has two steps. POST /login checks the password; when it is right the account owes a
second-factor code, and a half-done login (bot.desk.challenges) is kept in its own short-lived
cookie. GET /login/codigo asks for the code — or, for an account without a factor that may enrol on
the web (not a supervisor: bot.desk.accounts), shows a new secret (otpauth URI and text) and asks
for a code from it. POST /login/codigo checks the code once (a used code never works again) and only
then starts a session.

The forms have their own CSRF token (a cookie and the same value in the form), since there is no
session yet. Order of checks on each POST: CSRF (403), throttle (429), credentials or code (401).
Wrong passwords and wrong codes count alike, per (address, account) and per address
(bot.desk.throttle); a complete login clears its (address, account) count.

Cookies are Secure with the __Host- prefix unless the desk is opened over http on this machine
(bot.desk.access.cookies_secure).
"""

from __future__ import annotations

import math
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.desk import totp
from bot.desk.access import (
    SESSION_COOKIE,
    client_ip,
    current_session,
    delete_cookie,
    public,
    read_cookie,
    requires,
    same_origin,
    set_cookie,
    tokens_match,
)
from bot.desk.challenges import CHALLENGE_TTL, Challenge
from bot.desk.services import Desk, desk_of

LOGIN_CSRF_COOKIE = "desk_login_csrf"
CHALLENGE_COOKIE = "desk_login_step"
NOTICES = {"salida": "Ha cerrado la sesión.", "sesion": "Su sesión terminó. Inicie sesión de nuevo.",
           "codigo": "El paso del código caducó o tuvo demasiados intentos. Inicie sesión de nuevo."}
NEEDS_ADMIN = ("Su cuenta de supervisión necesita el segundo factor (código de verificación) y aún no lo tiene. "
               "Pida al administrador del servicio que se lo active.")


def safe_next(value: object) -> str:
    """Where to go after logging in: only a path of this site."""
    if (isinstance(value, str) and value.startswith("/") and not value.startswith("//") and len(value) <= 500
            and "\\" not in value and value.isprintable() and not value.startswith(("/login", "/logout", "/api/"))):
        return value
    return "/"


def _field(form: object, name: str, limit: int) -> str:
    value = form.get(name)  # type: ignore[attr-defined]
    return value[:limit] if isinstance(value, str) else ""


def _csrf(request: Request) -> str:
    token = read_cookie(request, LOGIN_CSRF_COOKIE)
    return token if token and len(token) <= 100 else secrets.token_urlsafe(32)


def _page(request: Request, template: str, context: dict, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    token = _csrf(request)
    response = desk_of(request).templates.TemplateResponse(request, template, {"login_csrf": token, **context},
                                                           status_code=status, headers=headers)
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=4 * 3600)
    return response


def _render(request: Request, status: int = 200, *, error: str | None = None, email: str = "", next_path: str = "/",
            headers: dict[str, str] | None = None) -> Response:
    notice = NOTICES.get(request.query_params.get("aviso", ""))
    return _page(request, "login.html", {"error": error, "notice": None if error else notice, "email": email,
                                         "next_path": next_path}, status, headers)


def _render_code(request: Request, challenge: Challenge, status: int = 200, *, error: str | None = None,
                 headers: dict[str, str] | None = None) -> Response:
    context = {"error": error, "kind": challenge.kind, "email": challenge.user.email}
    if challenge.kind == "enrol" and challenge.secret:
        context.update(secret=totp.grouped(challenge.secret), uri=totp.provisioning_uri(challenge.secret, challenge.user.email))
    return _page(request, "login_code.html", context, status, headers)


def _too_many(wait: int) -> str:
    minutes = max(1, math.ceil(wait / 60))
    return (f"Demasiados intentos fallidos. Por seguridad, espere {minutes} "
            f"{'minuto' if minutes == 1 else 'minutos'} antes de volver a intentarlo.")


def _form_ok(request: Request, form: object) -> bool:
    return same_origin(request) and tokens_match(form.get("csrf_token"), read_cookie(request, LOGIN_CSRF_COOKIE))  # type: ignore[attr-defined]


@public
async def login_page(request: Request) -> Response:
    if await current_session(request):
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _render(request, next_path=safe_next(request.query_params.get("next")))


@public
async def login_submit(request: Request) -> Response:
    desk = desk_of(request)
    form = await request.form(max_files=0, max_fields=10)
    email, password = _field(form, "email", 300).strip(), _field(form, "password", 2000)
    next_path = safe_next(form.get("next"))
    if not _form_ok(request, form):
        return _render(request, 403, error="El formulario caducó. Vuelva a intentarlo.", email=email, next_path=next_path)
    ip = client_ip(request)
    wait = await desk.run(desk.throttle.retry_after, email, ip)
    if wait:
        return _render(request, 429, error=_too_many(wait), email=email, next_path=next_path, headers={"Retry-After": str(wait)})
    if not email or not password:
        return _render(request, 400, error="Escriba su correo electrónico y su contraseña.", email=email, next_path=next_path)
    user = await desk.run(desk.accounts.authenticate, email, password)
    if user is None:
        await desk.run(desk.throttle.failed, email, ip)
        return _render(request, 401, error="Correo electrónico o contraseña incorrectos.", email=email, next_path=next_path)
    if not user.totp and not user.may_enrol_on_the_web:
        return _render(request, 403, error=NEEDS_ADMIN, email=email, next_path=next_path)
    challenge = await desk.run(desk.challenges.create, user, "totp" if user.totp else "enrol", next_path)
    response = RedirectResponse("/login/codigo", status_code=303)
    set_cookie(response, request, CHALLENGE_COOKIE, challenge.token, max_age=int(CHALLENGE_TTL.total_seconds()))
    return response


async def _challenge(request: Request, desk: Desk) -> Challenge | None:
    return await desk.run(desk.challenges.get, read_cookie(request, CHALLENGE_COOKIE))


def _start_again(request: Request) -> Response:
    response = RedirectResponse("/login?aviso=codigo", status_code=303)
    delete_cookie(response, request, CHALLENGE_COOKIE)
    return response


@public
async def code_page(request: Request) -> Response:
    desk = desk_of(request)
    challenge = await _challenge(request, desk)
    if challenge is None:
        return _start_again(request)
    return _render_code(request, challenge)


@public
async def code_submit(request: Request) -> Response:
    desk = desk_of(request)
    form = await request.form(max_files=0, max_fields=10)
    challenge = await _challenge(request, desk)
    if challenge is None:
        return _start_again(request)
    if not _form_ok(request, form):
        return _render_code(request, challenge, 403, error="El formulario caducó. Vuelva a intentarlo.")
    email, ip = challenge.user.email, client_ip(request)
    wait = await desk.run(desk.throttle.retry_after, email, ip)
    if wait:
        return _render_code(request, challenge, 429, error=_too_many(wait), headers={"Retry-After": str(wait)})
    code = _field(form, "code", 20)
    if challenge.kind == "enrol":
        ok = bool(challenge.secret) and await desk.run(desk.accounts.confirm_enrolment, challenge.user.id, challenge.secret, code)
    else:
        ok = await desk.run(desk.accounts.use_code, challenge.user.id, code)
    if not ok:
        await desk.run(desk.throttle.failed, email, ip)
        if await desk.run(desk.challenges.failed, challenge.token) == 0:
            return _start_again(request)
        return _render_code(request, challenge, 401, error="El código no es correcto o ya se usó. Escriba el código que "
                                                           "muestra ahora su aplicación de autenticación.")
    await desk.run(desk.challenges.delete, challenge.token)
    await desk.run(desk.throttle.succeeded, email, ip)
    await desk.run(desk.accounts.record_login, challenge.user.id)
    session = await desk.run(desk.sessions.create, challenge.user)
    response = RedirectResponse(safe_next(challenge.next_path), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, session.token)
    delete_cookie(response, request, CHALLENGE_COOKIE)
    delete_cookie(response, request, LOGIN_CSRF_COOKIE)
    return response


@requires()
async def logout(request: Request) -> Response:
    desk = desk_of(request)
    await desk.run(desk.sessions.delete, request.state.desk_session.token)
    response = RedirectResponse("/login?aviso=salida", status_code=303)
    delete_cookie(response, request, SESSION_COOKIE)
    return response


def routes() -> list[BaseRoute]:
    return [
        Route("/login", login_page, methods=["GET"], name="login"),
        Route("/login", login_submit, methods=["POST"], name="login_submit"),
        Route("/login/codigo", code_page, methods=["GET"], name="login_code"),
        Route("/login/codigo", code_submit, methods=["POST"], name="login_code_submit"),
        Route("/logout", logout, methods=["POST"], name="logout"),
    ]

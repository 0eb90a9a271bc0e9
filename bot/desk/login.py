"""/login and /logout.

The login form has its own CSRF token (a cookie limited to /login and the same value in the form),
since there is no session yet. Order of checks on POST: CSRF (403), throttle (429), credentials
(401); a success clears the address's failures and starts a new session.
"""

from __future__ import annotations

import math
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.desk.access import SESSION_COOKIE, client_ip, current_session, public, requires, same_origin, tokens_match
from bot.desk.services import desk_of

LOGIN_CSRF_COOKIE = "desk_login_csrf"
NOTICES = {"salida": "Ha cerrado la sesión.", "sesion": "Su sesión terminó. Inicie sesión de nuevo."}


def safe_next(value: object) -> str:
    """Where to go after logging in: only a path of this site."""
    if (isinstance(value, str) and value.startswith("/") and not value.startswith("//") and len(value) <= 500
            and "\\" not in value and value.isprintable() and not value.startswith(("/login", "/logout", "/api/"))):
        return value
    return "/"


def _field(form: object, name: str, limit: int) -> str:
    value = form.get(name)  # type: ignore[attr-defined]
    return value[:limit] if isinstance(value, str) else ""


def _render(request: Request, status: int = 200, *, error: str | None = None, email: str = "", next_path: str = "/",
            headers: dict[str, str] | None = None) -> Response:
    desk = desk_of(request)
    token = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not token or len(token) > 100:
        token = secrets.token_urlsafe(32)
    notice = NOTICES.get(request.query_params.get("aviso", ""))
    response = desk.templates.TemplateResponse(
        request, "login.html",
        {"login_csrf": token, "error": error, "notice": None if error else notice, "email": email, "next_path": next_path},
        status_code=status, headers=headers,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=4 * 3600, path="/login", httponly=True, samesite="strict",
                        secure=desk.settings.cookie_secure)
    return response


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
    if not same_origin(request) or not tokens_match(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _render(request, 403, error="El formulario caducó. Vuelva a intentarlo.", email=email, next_path=next_path)
    ip = client_ip(request)
    wait = await desk.run(desk.throttle.retry_after, email, ip)
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        message = (f"Demasiados intentos fallidos. Por seguridad, espere {minutes} "
                   f"{'minuto' if minutes == 1 else 'minutos'} antes de volver a intentarlo.")
        return _render(request, 429, error=message, email=email, next_path=next_path, headers={"Retry-After": str(wait)})
    if not email or not password:
        return _render(request, 400, error="Escriba su correo electrónico y su contraseña.", email=email, next_path=next_path)
    user = await desk.run(desk.accounts.authenticate, email, password)
    if user is None:
        await desk.run(desk.throttle.failed, email, ip)
        return _render(request, 401, error="Correo electrónico o contraseña incorrectos.", email=email, next_path=next_path)
    await desk.run(desk.throttle.succeeded, email)
    session = await desk.run(desk.sessions.create, user)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, session.token, path="/", httponly=True, samesite="strict",
                        secure=desk.settings.cookie_secure)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login", httponly=True, samesite="strict", secure=desk.settings.cookie_secure)
    return response


@requires()
async def logout(request: Request) -> Response:
    desk = desk_of(request)
    await desk.run(desk.sessions.delete, request.state.desk_session.token)
    response = RedirectResponse("/login?aviso=salida", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=desk.settings.cookie_secure)
    return response


def routes() -> list[BaseRoute]:
    return [
        Route("/login", login_page, methods=["GET"], name="login"),
        Route("/login", login_submit, methods=["POST"], name="login_submit"),
        Route("/logout", logout, methods=["POST"], name="logout"),
    ]

"""Who may call what. Every route of the desk is wrapped by `requires` (login, optional roles, CSRF
on state-changing methods) or marked `public` (only the login page); bot.desk.app refuses to start
with a route that is neither.

- not logged in: 303 to /login for pages, 401 JSON under /api/;
- logged in without one of the roles: 403;
- POST/PUT/PATCH/DELETE without the session's CSRF token (form field `csrf_token` or header
  `X-CSRF-Token`), or from another origin: 403.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.desk.accounts import ROLES
from bot.desk.errors import error_response, is_api
from bot.desk.services import desk_of
from bot.desk.sessions import DeskSession

SESSION_COOKIE = "desk_session"  # the base name: "__Host-desk_session" when the cookie is Secure
SECURE_PREFIX = "__Host-"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PUBLIC = "public"
CSRF_MESSAGE = "El formulario caducó o no es válido. Vuelva a cargar la página e inténtelo de nuevo."

Endpoint = Callable[[Request], Awaitable[Response]]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def cookies_secure(request: Request) -> bool:
    """Secure cookies unless the desk is opened over plain http on this machine (localhost, 127.0.0.1,
    ::1), where browsers would not keep them; DESK_COOKIE_SECURE=1 makes them Secure there too."""
    forced = desk_of(request).settings.cookie_secure
    if forced is not None:
        return forced
    return not (request.url.scheme == "http" and (request.url.hostname or "").lower() in LOCAL_HOSTS)


def cookie_name(request: Request, base: str) -> str:
    """`__Host-<base>` for a Secure cookie (the browser then insists on Secure, Path=/ and no Domain),
    the plain name otherwise."""
    return SECURE_PREFIX + base if cookies_secure(request) else base


def set_cookie(response: Response, request: Request, base: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(cookie_name(request, base), value, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=cookies_secure(request))


def delete_cookie(response: Response, request: Request, base: str) -> None:
    response.delete_cookie(cookie_name(request, base), path="/", httponly=True, samesite="strict",
                           secure=cookies_secure(request))


def read_cookie(request: Request, base: str) -> str | None:
    """The cookie under the name this request's security calls for (never the other one)."""
    return request.cookies.get(cookie_name(request, base))


async def current_session(request: Request) -> DeskSession | None:
    """The request's live session (looked up once per request)."""
    if not hasattr(request.state, "desk_session"):
        desk = desk_of(request)
        request.state.desk_session = await desk.run(desk.sessions.get, read_cookie(request, SESSION_COOKIE))
        request.state.user = request.state.desk_session.user if request.state.desk_session else None
    return request.state.desk_session


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site."""
    if request.headers.get("sec-fetch-site", "same-origin") not in {"same-origin", "none"}:
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower() != ""


def tokens_match(supplied: object, expected: str | None) -> bool:
    return isinstance(supplied, str) and bool(expected) and hmac.compare_digest(supplied.encode(), expected.encode())


async def supplied_csrf(request: Request) -> object:
    header = request.headers.get("x-csrf-token")
    if header is not None:
        return header
    if request.headers.get("content-type", "").split(";")[0].strip().lower() in FORM_TYPES:
        return (await request.form()).get("csrf_token")
    return None


async def csrf_ok(request: Request, expected: str) -> bool:
    return same_origin(request) and tokens_match(await supplied_csrf(request), expected)


def login_redirect(request: Request) -> Response:
    target = "/login"
    if request.method in SAFE_METHODS and request.url.path != "/":
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target += "?next=" + quote(path, safe="/")
    if read_cookie(request, SESSION_COOKIE):
        target += ("&" if "?" in target else "?") + "aviso=sesion"
    return RedirectResponse(target, status_code=303)


def requires(*roles: str) -> Callable[[Endpoint], Endpoint]:
    """Login required; with roles, at least one of them; CSRF checked on state-changing methods."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            session = await current_session(request)
            if session is None:
                return error_response(request, 401) if is_api(request) else login_redirect(request)
            if roles and not session.user.has_any(roles):
                return error_response(request, 403, "Su cuenta no tiene el rol necesario para esta sección.")
            if request.method not in SAFE_METHODS and not await csrf_ok(request, session.csrf_token):
                return error_response(request, 403, CSRF_MESSAGE, code="csrf")
            return await endpoint(request)

        guarded.desk_access = frozenset(roles) or "login"  # type: ignore[attr-defined]
        return guarded

    return wrap


def public(endpoint: Endpoint) -> Endpoint:
    """A route anyone may open (the login page only); it must do its own CSRF checks."""
    endpoint.desk_access = PUBLIC  # type: ignore[attr-defined]
    return endpoint

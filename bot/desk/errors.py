"""Error answers: JSON under /api/, a Spanish page elsewhere; never a traceback."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger(__name__)

MESSAGES = {
    400: "La solicitud no es válida.",
    401: "Inicie sesión para continuar.",
    403: "No tiene permiso para hacer esto.",
    404: "No encontramos esta página.",
    405: "Esta dirección no admite esa operación.",
    413: "El envío es demasiado grande.",
    429: "Demasiadas solicitudes. Espere un momento e inténtelo de nuevo.",
    500: "Ocurrió un error inesperado. Inténtelo de nuevo en unos minutos.",
}
CODES = {400: "solicitud_invalida", 401: "no_autenticado", 403: "prohibido", 404: "no_encontrado",
         405: "metodo_no_permitido", 413: "demasiado_grande", 429: "demasiados_intentos", 500: "error_interno"}


def is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str | None = None, code: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    message = message or MESSAGES.get(status, MESSAGES[400 if status < 500 else 500])
    if is_api(request):
        return JSONResponse({"error": code or CODES.get(status, "error"), "message": message}, status_code=status, headers=headers)
    desk = request.app.state.desk
    return desk.templates.TemplateResponse(request, "error.html", {"status": status, "message": message},
                                           status_code=status, headers=headers)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers) if exc.headers else None
    if headers:
        headers.pop("content-length", None)
    if not is_api(request) and exc.status_code != 413:  # a logged-in person keeps the header and navigation
        from bot.desk.access import current_session

        await current_session(request)
    return error_response(request, exc.status_code, MESSAGES.get(exc.status_code), headers=headers)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("desk: unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    try:
        return error_response(request, 500)
    except Exception:  # the template itself failed: plain text, still in Spanish
        return Response(MESSAGES[500], status_code=500, media_type="text/plain; charset=utf-8")


HANDLERS = {HTTPException: http_exception, Exception: server_error}

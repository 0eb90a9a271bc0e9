"""The home page (who is logged in, the sections their roles open) and /api/me."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.desk.access import requires
from bot.desk.sections import sections_for
from bot.desk.services import desk_of


@requires()
async def home(request: Request) -> Response:
    user = request.state.user
    return desk_of(request).templates.TemplateResponse(request, "home.html", {"sections": sections_for(user)})


@requires()
async def me(request: Request) -> Response:
    session = request.state.desk_session
    return JSONResponse({**session.user.public(), "csrf_token": session.csrf_token,
                         "session_expires_at": session.expires_at.isoformat()})


def routes() -> list[BaseRoute]:
    return [Route("/", home, methods=["GET"], name="home"), Route("/api/me", me, methods=["GET"], name="api_me")]

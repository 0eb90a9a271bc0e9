"""The desk's web application: `create_app()` for uvicorn and for tests.

Features are modules with a `routes()` function, listed in FEATURES; a later feature (the queue,
the suggestions review) adds its module here and its templates extend "base.html". Every route must
be wrapped by bot.desk.access.requires or marked public, or the app refuses to start.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.desk import errors
from bot.desk.access import requires
from bot.desk.headers import BodyLimit, SecurityHeaders
from bot.desk.sections import SECTIONS, Section
from bot.desk.services import STATIC, Desk, desk_of
from bot.desk.settings import DeskSettings
from bot.store.db import get_engine

FEATURES: tuple[str, ...] = ("bot.desk.login", "bot.desk.home", "bot.desk.suggestions_review", "bot.desk.queue", "bot.desk.reports",
                             "bot.desk.erasure", "bot.desk.window", "bot.desk.offices", "bot.desk.staff")


def _placeholder(section: Section) -> Route:
    @requires(*section.roles)
    async def pending(request: Request) -> Response:
        return desk_of(request).templates.TemplateResponse(request, "pending.html", {"section": section})

    return Route(section.path, pending, methods=["GET"])


def check_guarded(routes: list[BaseRoute]) -> None:
    """Every route is wrapped by `requires` or marked `public`; only /static is mounted."""
    for route in routes:
        if isinstance(route, Mount):
            if route.path != "/static":
                raise RuntimeError(f"desk: unexpected mount {route.path}")
        elif not isinstance(route, Route) or getattr(route.endpoint, "desk_access", None) is None:
            raise RuntimeError(f"desk: route {getattr(route, 'path', route)} has no access rule (use requires() or public)")


def build_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for name in FEATURES:
        routes.extend(importlib.import_module(name).routes())
    served = {r.path for r in routes if isinstance(r, Route)}
    routes.extend(_placeholder(s) for s in SECTIONS if s.path not in served)
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    check_guarded(routes)
    return routes


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """A feature may run background work while the desk serves: its module's `lifespan(app)`."""
    async with contextlib.AsyncExitStack() as stack:
        for name in FEATURES:
            hook = getattr(importlib.import_module(name), "lifespan", None)
            if hook is not None:
                await stack.enter_async_context(hook(app))
        yield


def create_app(engine: Engine | None = None, settings: DeskSettings | None = None) -> Starlette:
    settings = settings or DeskSettings.from_env()
    app = Starlette(
        lifespan=_lifespan,
        routes=build_routes(),
        middleware=[Middleware(SecurityHeaders, hsts=settings.cookie_secure), Middleware(BodyLimit, limit=settings.max_body_bytes)],
        exception_handlers=errors.HANDLERS,
    )
    app.state.desk = Desk.build(engine or get_engine(), settings)
    return app


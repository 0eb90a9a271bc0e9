"""Erasure on request, from the desk (advisor or supervisor), and the daily retention job.

    GET  /datos-personales           search a person by phone, e-mail or conversation id
    POST /datos-personales/borrar    erase everything about one conversation id (confirmation required)

A person who asks by e-mail or phone (Ley 29733) gets the same erasure as "borrar mis datos" in the
chat: bot.privacy.erase.erase_person on our tables (audited in privacy_erasures with the desk
account), then the conversation itself through Rasa's HTTP API, with the queue's client and settings.
A contact left at the in-person window ("ventanilla:<contact>") has no conversation in Rasa.

`lifespan`: while the desk serves, bot.privacy.retention.daily_loop applies the retention periods
once a day (one process per day, whatever the number of desks and action servers, which run it too);
PRIVACY_RETENTION_JOB=off stops it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot import background
from bot.desk.access import requires
from bot.desk.services import desk_of
from bot.privacy import erase, retention

log = logging.getLogger(__name__)

ROLES = ("advisor", "supervisor")
PATH = "/datos-personales"


def _page(request: Request, status: int = 200, **context: object) -> Response:
    return desk_of(request).templates.TemplateResponse(request, "privacy/erase.html", {
        "query": "", "matches": None, "done": None, "error": None, **context}, status_code=status)


def _search(engine, query: str) -> list[erase.Match]:  # noqa: ANN001
    tracker = erase.tracker_engine()
    try:
        return erase.find_people(engine, query, tracker)
    finally:
        if tracker is not None:
            tracker.dispose()


@requires(*ROLES)
async def search_page(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()[:200]
    if not query:
        return _page(request)
    if len(query) < 5:
        return _page(request, query=query, error="Escriba al menos 5 caracteres: un teléfono, un correo o el id de la conversación.")
    desk = desk_of(request)
    matches = await desk.run(_search, desk.engine, query)
    return _page(request, query=query, matches=matches)


async def _forget_conversation(app: Starlette, sender_id: str) -> str:
    """Through the queue's client of Rasa's HTTP API (the same settings and credentials)."""
    handoff = getattr(app.state, "handoff", None)
    if handoff is not None:
        return await erase.forget_conversation(handoff.service.api, sender_id)
    from bot.desk.queue import build

    api = build(app).service.api
    try:
        return await erase.forget_conversation(api, sender_id)
    finally:
        await api.close()


@requires(*ROLES)
async def erase_now(request: Request) -> Response:
    form = await request.form()
    sender_id = str(form.get("sender_id", "")).strip()[:160]
    if not sender_id:
        return _page(request, error="Falta la conversación a borrar.", status=400)
    if form.get("confirm") != "si":
        return _page(request, query=sender_id, matches=[erase.Match(sender_id, erase.channel_of(sender_id), ())],
                     error="Marque la casilla de confirmación para borrar.", status=400)
    desk, user = desk_of(request), request.state.user
    result = await desk.run(lambda: erase.erase_person(desk.engine, sender_id, requested_by="desk", staff_id=user.id,
                                                       staff_email=user.email))
    if sender_id.startswith(erase.WINDOW_PREFIX):  # a walk-in contact: there is no conversation in Rasa
        conversation = "none"
    else:
        conversation = await _forget_conversation(request.app, sender_id)
    log.info("desk: personal data of a %s conversation erased by %s (%s; conversation: %s)",
             erase.channel_of(sender_id), user.email, result.counts(), conversation)
    return _page(request, done={"counts": result.counts(), "conversation": conversation})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Run the daily retention job while the desk serves."""
    if not retention.enabled():
        yield
        return
    engine = app.state.desk.engine
    async with background.running(lambda stop: retention.daily_loop(engine, stop)):
        yield


def routes() -> list[BaseRoute]:
    return [
        Route(PATH, search_page, methods=["GET"], name="privacy"),
        Route(f"{PATH}/borrar", erase_now, methods=["POST"], name="privacy_erase"),
    ]

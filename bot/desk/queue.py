"""The advisors' queue (section "Cola de conversaciones"): the queue, a conversation, supervision.

Pages (advisor or supervisor):
  GET  /cola                    the queue (priority first) and my conversations; refreshed every few seconds
  GET  /cola/{id}               a conversation: transcript, channel, last message of the person, reply box,
                                articles, notes, tags, transfer, give back, close
  GET  /cola/supervision        queue length, waits, load per advisor (supervisor)
API (JSON; POST needs the session's CSRF token in X-CSRF-Token):
  GET  /api/cola?oficina=ID                   the queue of my offices (a supervisor: every office, or the one
                                              chosen) and my conversations (also records that I am online)
  GET  /api/cola/estadisticas                 supervisor statistics
  GET  /api/cola/{id}?despues=N               a conversation and its messages after message N
  POST /api/cola/{id}/tomar                   take it
  POST /api/cola/{id}/responder  {"text", "article_id"?}  reply (delivered on the person's channel; the
                                              article inserted into it, if any, is recorded with it)
  POST /api/cola/{id}/nota       {"text"}     private note
  POST /api/cola/{id}/etiquetas  {"tags"}     set the tags
  POST /api/cola/{id}/transferir {"advisor_id"}
  POST /api/cola/{id}/oficina {"office_id"}   move it to another office's queue (bot/offices)
  POST /api/cola/{id}/devolver                give it back to the queue
  POST /api/cola/{id}/cerrar                  close: the assistant resumes and asks for a rating
  GET  /api/cola/{id}/sugeridos               the articles the assistant would answer the person's last message
                                              with (Rasa's understanding + the knowledge search), to insert
  GET  /api/articulos?q=…                     articles of the knowledge base to insert into a reply

The handoff worker (deliveries, timeouts, resuming, WhatsApp's 24-hour rule) runs inside the desk
process (`lifespan`), every HANDOFF_WORKER_SECONDS (1).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import background, countries, knowledge
from bot.desk.access import requires
from bot.desk.errors import error_response
from bot.desk.services import desk_of
from bot.handoff.rasa_api import RasaApi, RasaRefused, RasaUnavailable
from bot.handoff.schema import MAX_TAGS, NOTE_MAX, TEXT_MAX
from bot.handoff.service import HandoffService, run_worker
from bot.handoff.settings import HandoffSettings, HandoffSettingsError
from bot.handoff.store import HandoffError, HandoffStore, Message, Ticket
from bot.knowledge.model import LINES
from bot.knowledge.suggest import suggest
from bot.mail.door import ATTACHMENT_NOTE, SUBJECT_LABEL, MailDoor
from bot.mail.settings import MailSettings, MailSettingsError
from bot.offices.directory import Office, Offices
from bot.store.clock import now
from bot.store.leader import Leadership
from bot.text import whole_number
from bot.window.store import WindowStore
from bot.window.whatsapp import WindowSettingsError, WindowWhatsApp
from bot.window.whatsapp import template_sid as whatsapp_template

logger = logging.getLogger(__name__)

STAFF = ("advisor", "supervisor")
CHANNELS = {"web": "Web", "whatsapp": "WhatsApp", "telegram": "Telegram", "rest": "API", "correo": "Correo"}
REASONS = {"asked": "Lo pidió", "unsure": "El asistente no entendió", "safety": "Seguridad"}
STATUSES = {"waiting": "En cola", "active": "En atención", "closing": "Cerrando (respuesta retenida)", "closed": "Cerrada"}
DELIVERIES = {"pending": "Enviando…", "sending": "Enviando…", "held": "Retenido (WhatsApp, fuera de las 24 h)",
              "sent": "Entregado al canal", "failed": "No se pudo entregar"}
ROLES = {"person": "Persona", "bot": "Asistente", "advisor": "Asesor/a", "note": "Nota privada", "system": "Aviso"}
MAX_QUERY = 200


@dataclass
class HandoffDesk:
    """The handoff objects of one desk process (on app.state.handoff)."""

    store: HandoffStore
    service: HandoffService
    settings: HandoffSettings
    window: WindowWhatsApp | None = None  # the window's articles to WhatsApp (bot/window/whatsapp.py)

    @cached_property
    def kb(self) -> Any:
        from bot import knowledge

        return knowledge.load()


class Unavailable(Exception):
    """The handoff's settings are wrong: the queue answers 503 with the reason; the rest of the desk works."""


def handoff_of(request: Request) -> HandoffDesk:
    app = request.app
    if getattr(app.state, "handoff", None) is None:
        try:
            app.state.handoff = build(app)
        except HandoffSettingsError as exc:
            raise Unavailable(str(exc)) from None
    return app.state.handoff


def available(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except Unavailable as exc:
            return error_response(request, 503, f"La cola no está disponible por un error de configuración: {exc}")

    return guarded


def build(app: Starlette, api: RasaApi | None = None) -> HandoffDesk:
    engine = app.state.desk.engine
    settings = HandoffSettings.from_env()
    store = HandoffStore(engine)
    api = api or RasaApi(settings.rasa_url, settings.rasa_jwt_secret)
    if not api.configured:
        logger.warning("desk: RASA_JWT_SECRET is not set: replies cannot be delivered and chats cannot be resumed")
    window = window_whatsapp(engine, api)
    service = HandoffService(store, api, settings, mail_door(engine, settings), rounds=[window.deliver_waiting])
    return HandoffDesk(store, service, settings, window)


def window_whatsapp(engine, api: RasaApi) -> WindowWhatsApp:  # noqa: ANN001
    """The window's sending to WhatsApp; without a valid template it sends only within the 24 hours."""
    try:
        template = whatsapp_template()
    except WindowSettingsError as exc:
        logger.error("desk: the window sends to WhatsApp only within 24 hours of the person's message: %s", exc)
        template = None
    return WindowWhatsApp(WindowStore(engine), api, template, knowledge.load)


def mail_door(engine, settings: HandoffSettings) -> MailDoor | None:
    """The service's mailbox in this desk's queue (MAIL_* variables, bot/mail/settings.py), or None when off."""
    try:
        mail = MailSettings.from_env()
    except MailSettingsError as exc:
        logger.error("desk: the e-mail door is off: %s", exc)
        return None
    if mail is None:
        return None
    logger.info("desk: e-mails of %s are read into the queue", mail.address)
    return MailDoor(mail, engine, knowledge.load(), settings.hours)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Run the handoff worker while the desk serves."""
    if getattr(app.state, "handoff", None) is None:
        try:
            app.state.handoff = build(app)
        except HandoffSettingsError as exc:
            logger.error("desk: the queue is unavailable (%s); the rest of the desk works", exc)
            yield
            return
    handoff: HandoffDesk = app.state.handoff
    every = float(os.environ.get("HANDOFF_WORKER_SECONDS", "1") or 1)
    try:
        leader = Leadership(handoff.store.engine, "handoff-worker")  # one desk process works the queue at a time
        async with background.running(lambda stop: run_worker(handoff.service, max(0.2, every), stop, leader)):
            yield
    finally:
        await handoff.service.api.close()


# --- JSON shapes -----------------------------------------------------------------------------------
def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _masked(sender_id: str) -> str:
    """The person's id as advisors see it: enough to tell two people apart, not their number."""
    _, _, rest = sender_id.partition(":")
    rest = rest or sender_id
    return "···" + rest[-4:] if len(rest) > 4 else rest


def ticket_json(ticket: Ticket, at: dt.datetime, position: int | None = None,
                offices: dict[int, Office] | None = None) -> dict[str, Any]:
    office = (offices or {}).get(ticket.office_id) if ticket.office_id is not None else None
    return {
        "id": ticket.id,
        "office_id": ticket.office_id,
        "office_label": office.name if office else "—",
        "channel": ticket.channel,
        "channel_label": CHANNELS.get(ticket.channel, ticket.channel),
        "person": _masked(ticket.sender_id),
        "line": ticket.line,
        "line_label": LINES.get(ticket.line or "", "—"),
        "country": ticket.country,
        "country_label": countries.name(ticket.country) if ticket.country and ticket.country != countries.OTHER else
        ("Otro país" if ticket.country == countries.OTHER else "—"),
        "reason": ticket.reason,
        "reason_label": REASONS.get(ticket.reason, ticket.reason),
        "priority": ticket.priority,
        "status": ticket.status,
        "status_label": STATUSES.get(ticket.status, ticket.status),
        "created_at": _iso(ticket.created_at),
        "waiting_seconds": max(0, int((at - ticket.created_at).total_seconds())),
        "position": position,
        "preview": (ticket.preview or "")[:160],
        "advisor_id": ticket.advisor_id,
        "advisor_name": ticket.advisor_name,
        "accepted": ticket.accepted_at is not None,
        "owes_reply": ticket.owes_reply,
        "tags": ticket.tags,
        "last_person_at": _iso(ticket.last_person_at),
    }


# What identifies a person beyond their conversation (a shared contact card's name and number): only
# supervisors see it, as with the e-mail address a person leaves and the contact of a suggestion.
PERSONAL_ATTACHMENT_KEYS = frozenset({"first_name", "phone_number"})


def _attachments(message: Message, contacts: bool) -> list[dict[str, Any]]:
    items = message.attachments or []
    if contacts:
        return items
    return [{k: v for k, v in item.items() if k not in PERSONAL_ATTACHMENT_KEYS} if isinstance(item, dict) else item
            for item in items]


def message_json(message: Message, kb: Any, contacts: bool = False) -> dict[str, Any]:
    """A message as the desk shows it; `contacts` (supervisors) keeps a shared contact card's name and number."""
    article = kb.get(message.article_id) if message.article_id else None
    return {
        "id": message.id,
        "role": message.role,
        "role_label": ROLES.get(message.role, message.role),
        "text": message.text,
        "kind": message.kind,
        "article_id": message.article_id,
        "article_title": article.title if article else None,
        "attachments": _attachments(message, contacts),
        "author_name": message.author_name,
        "created_at": _iso(message.created_at),
        "delivery": message.delivery,
        "delivery_label": DELIVERIES.get(message.delivery or "", ""),
        "error": message.error if message.delivery == "failed" else None,
    }


class BadInput(HandoffError):
    """A request the desk cannot read or accept as sent (400), not a conflict with the ticket's state."""


def _is_supervisor(request: Request) -> bool:
    return request.state.user.has_any(("supervisor",))


def _bad(request: Request, message: str, status: int = 400) -> Response:
    return error_response(request, status, message)


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[…" nested past Python's limit
        raise BadInput("El cuerpo de la solicitud no es JSON válido.") from None
    if not isinstance(data, dict):
        raise BadInput("Se espera un objeto JSON.")
    return data


def _ticket_id(request: Request) -> int:
    ticket_id = whole_number(str(request.path_params["ticket_id"]), 12)
    if ticket_id is None:
        raise HandoffError("Esa conversación no existe.")
    return ticket_id


def _may_view(request: Request, ticket: Ticket) -> bool:
    return ticket.status == "waiting" or ticket.advisor_id == request.state.user.id or _is_supervisor(request)


async def _viewable(request: Request) -> Ticket | Response:
    """The ticket of the URL with its transcript, or the 404/403 page that says why not."""
    handoff = handoff_of(request)
    try:
        ticket = await handoff.service.run(handoff.store.detailed, _ticket_id(request))
    except HandoffError:
        ticket = None
    if ticket is None:
        return error_response(request, 404, "Esa conversación no existe.")
    if not _may_view(request, ticket):
        return error_response(request, 403, "Esta conversación la atiende otra persona.")
    return ticket


# --- pages -------------------------------------------------------------------------------------------
def _my_offices(handoff: HandoffDesk, user_id: int) -> list[Office]:
    """The offices whose queue an advisor works (theirs, else the main one); [] when the service has no offices."""
    offices = Offices(handoff.store.engine)
    ids = offices.queue_of(user_id)
    return [o for o in offices.all() if o.id in ids] if ids is not None else []


def _schedules(handoff: HandoffDesk, offices: list[Office]) -> list[tuple[str, str]]:
    """(office, hours) for the queue's heading; the service's hours alone without offices."""
    default = handoff.settings.hours
    if not offices:
        return [("", default.describe())]
    directory = Offices(handoff.store.engine)
    return [(o.name, directory.hours(o.id, default).describe()) for o in offices]


@requires(*STAFF)
@available
async def queue_page(request: Request) -> Response:
    handoff = handoff_of(request)
    supervisor = _is_supervisor(request)
    mine = await handoff.service.run(_my_offices, handoff, request.state.user.id)
    return desk_of(request).templates.TemplateResponse(request, "queue/index.html", {
        "rasa_ready": handoff.service.api.configured, "schedules": await handoff.service.run(_schedules, handoff, mine),
        "offices": mine, "is_supervisor": supervisor})


@requires(*STAFF)
@available
async def conversation_page(request: Request) -> Response:
    ticket = await _viewable(request)
    if isinstance(ticket, Response):
        return ticket
    return desk_of(request).templates.TemplateResponse(request, "queue/conversation.html", {
        "ticket": ticket_json(ticket, now()), "is_supervisor": _is_supervisor(request)})


@requires("supervisor")
@available
async def supervision_page(request: Request) -> Response:
    return desk_of(request).templates.TemplateResponse(request, "queue/supervision.html", {})


# --- API ---------------------------------------------------------------------------------------------
def _positions(tickets: list[Ticket], main_id: int | None) -> list[int]:
    """Each waiting ticket's place in its own office's queue (the list is in queue order; routed to none: the main one's)."""
    seen: dict[int | None, int] = {}
    places = []
    for ticket in tickets:
        office = main_id if ticket.office_id is None else ticket.office_id
        seen[office] = seen.get(office, 0) + 1
        places.append(seen[office])
    return places


@requires(*STAFF)
@available
async def api_queue(request: Request) -> Response:
    handoff = handoff_of(request)
    store, run, user = handoff.store, handoff.service.run, request.state.user
    supervisor = _is_supervisor(request)
    directory = Offices(store.engine)
    every = {o.id: o for o in await run(directory.all)}
    main_id = next((o.id for o in every.values() if o.is_main), None)
    chosen = (request.query_params.get("oficina") or "").strip()
    if supervisor:  # every office, or the one chosen
        office_id = whole_number(chosen, 12)
        if chosen and office_id not in every:
            return _bad(request, "Esa oficina no existe.")
        office_ids: list[int | None] | None = [office_id] if office_id is not None else None
        if office_id is not None and every[office_id].is_main:
            office_ids.append(None)  # what was routed to no office is the main office's
    else:
        office_ids = await run(directory.queue_of, user.id)
    at = now()
    await run(store.seen, user.id, at)
    waiting = await run(store.waiting, office_ids)
    mine = await run(store.open_tickets, user.id)
    others = [t for t in await run(store.open_tickets) if t.advisor_id != user.id] if supervisor else []
    closed = await run(store.recently_closed, user.id, at - dt.timedelta(hours=12), 10)
    online = await run(store.online, handoff.settings.online_window, at)
    watched = [every[i] for i in office_ids if i in every] if office_ids is not None else list(every.values())
    hours = await run(lambda: [directory.hours(o.id, handoff.settings.hours) for o in watched] or [handoff.settings.hours])
    return JSONResponse({
        "now": _iso(at),
        "waiting": [ticket_json(t, at, place, every) for t, place in zip(waiting, _positions(waiting, main_id), strict=True)],
        "mine": [ticket_json(t, at, offices=every) for t in mine],
        "others": [ticket_json(t, at, offices=every) for t in others],
        "closed": [ticket_json(t, at, offices=every) for t in closed],
        "online": len(online),
        "office_open": any(h.is_open(at) for h in hours),
        "offices": [{"id": o.id, "name": o.name} for o in every.values() if o.active] if supervisor else
                   [{"id": o.id, "name": o.name} for o in watched],
        "several_offices": len(every) > 1,
        "rasa_ready": handoff.service.api.configured,
    })


@requires("supervisor")
@available
async def api_stats(request: Request) -> Response:
    handoff = handoff_of(request)
    at = now()
    local = handoff.settings.hours.local(at)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    stats = await handoff.service.run(handoff.store.stats, midnight, handoff.settings.online_window, at)
    return JSONResponse({"now": _iso(at), "since": _iso(midnight), **stats})


@requires(*STAFF)
@available
async def api_ticket(request: Request) -> Response:
    handoff = handoff_of(request)
    store, run = handoff.store, handoff.service.run
    try:
        after = int(request.query_params.get("despues", "0") or 0)
    except ValueError:
        return _bad(request, "'despues' debe ser un número.")
    ticket = await _viewable(request)
    if isinstance(ticket, Response):
        return ticket
    user = request.state.user
    if ticket.advisor_id == user.id and ticket.accepted_at is None and ticket.status == "active":
        ticket = await run(store.accept, ticket.id, user.id)  # a transferred chat is opened: it is accepted
        ticket = await run(store.detailed, ticket.id) or ticket
    if after <= 0 and ticket.is_open:  # opening a conversation: anything Rasa has that we missed is added
        await handoff.service.reconcile(ticket)
    at = now()
    messages = await run(store.messages, ticket.id, max(0, after))
    supervisor = _is_supervisor(request)
    every = {o.id: o for o in await run(Offices(store.engine).all)}
    data: dict[str, Any] = {"ticket": ticket_json(ticket, at, await run(store.position, ticket), every),
                            "messages": [message_json(m, handoff.kb, contacts=supervisor) for m in messages]}
    if after <= 0:
        accounts = desk_of(request).accounts
        advisors = [u for u in await run(accounts.all) if u.active and "advisor" in u.roles and u.id != ticket.advisor_id]
        earlier = await run(store.history, ticket.sender_id, ticket.id)
        data.update(
            advisors=[{"id": u.id, "name": u.name} for u in advisors],
            offices=[{"id": o.id, "name": o.name} for o in every.values() if o.active and o.id != ticket.office_id],
            history=[{"id": t.id, "created_at": _iso(t.created_at), "status_label": STATUSES.get(t.status), "rating": t.rating}
                     for t in earlier],
            # the person's e-mail address: supervisors only (advisors answer on the person's channel)
            contact_email=ticket.contact_email if supervisor else None,
            contact_hidden=bool(ticket.contact_email) and not supervisor,
        )
    inbound = await run(store.last_inbound, ticket.sender_id)
    data["last_inbound_at"] = _iso(inbound or ticket.last_person_at)
    data["whatsapp_window_open"] = bool(inbound and at - inbound < dt.timedelta(hours=24)) if ticket.channel == "whatsapp" else None
    data["mine"] = ticket.advisor_id == user.id
    return JSONResponse(data)


def _action(kind: str):  # noqa: ANN202
    @requires(*STAFF)
    @available
    async def act(request: Request) -> Response:
        handoff = handoff_of(request)
        service, user = handoff.service, request.state.user
        supervisor = _is_supervisor(request)
        try:
            ticket_id = _ticket_id(request)
            body = await _body(request) if kind in ("responder", "nota", "etiquetas", "transferir", "oficina") else {}
            if kind == "tomar":
                await service.take(ticket_id, user.id, user.name)
            elif kind == "responder":
                text = body.get("text")
                if not isinstance(text, str) or not text.strip():
                    raise BadInput("Escriba la respuesta.")
                if len(text) > TEXT_MAX:
                    raise BadInput(f"La respuesta es demasiado larga (máximo {TEXT_MAX} caracteres).")
                article_id = body.get("article_id")
                if article_id is not None and (not isinstance(article_id, str) or handoff.kb.get(article_id) is None):
                    raise BadInput("Ese artículo no existe en la base de conocimiento.")
                message = await service.reply(ticket_id, user.id, user.name, text, supervisor, article_id=article_id)
                return JSONResponse({"ok": True, "delivery": message.delivery,
                                     "delivery_label": DELIVERIES.get(message.delivery or "", "")})
            elif kind == "nota":
                text = body.get("text")
                if not isinstance(text, str) or not text.strip():
                    raise BadInput("Escriba la nota.")
                if len(text) > NOTE_MAX:
                    raise BadInput(f"La nota es demasiado larga (máximo {NOTE_MAX} caracteres).")
                ticket = await service.run(handoff.store.get, ticket_id)
                if ticket is None or not _may_view(request, ticket):
                    raise HandoffError("No puede anotar en esta conversación.")
                await service.run(handoff.store.add_note, ticket_id, text, user.id, user.name)
            elif kind == "etiquetas":
                tags = body.get("tags")
                if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                    raise BadInput("Las etiquetas deben ser una lista de textos.")
                if len(tags) > MAX_TAGS:
                    raise BadInput(f"Como máximo {MAX_TAGS} etiquetas.")
                await service.run(handoff.store.require_owner, ticket_id, user.id, supervisor)
                return JSONResponse({"ok": True, "tags": await service.run(handoff.store.set_tags, ticket_id, tags, user.id)})
            elif kind == "transferir":
                target = body.get("advisor_id")
                if not isinstance(target, int) or isinstance(target, bool):
                    raise BadInput("Elija a quién transferir la conversación.")
                to = await service.run(desk_of(request).accounts.by_id, target)
                if to is None or not to.active or "advisor" not in to.roles:
                    raise BadInput("Esa persona no es un asesor activo.")
                await service.transfer(ticket_id, user.id, to.id, to.name, supervisor)
            elif kind == "oficina":
                target = body.get("office_id")
                if not isinstance(target, int) or isinstance(target, bool):
                    raise BadInput("Elija a qué oficina derivar la conversación.")
                office = await service.run(Offices(handoff.store.engine).get, target)
                if office is None or not office.active:
                    raise BadInput("Esa oficina no existe o no está activa.")
                await service.move_to_office(ticket_id, office.id, office.name, user.id, supervisor)
            elif kind == "devolver":
                await service.give_back(ticket_id, user.id, supervisor)
            elif kind == "cerrar":
                ticket = await service.close(ticket_id, user.id, supervisor)
                return JSONResponse({"ok": True, "status": ticket.status, "status_label": STATUSES.get(ticket.status)})
        except HandoffError as exc:
            status = 400 if isinstance(exc, BadInput) else 404 if "no existe" in str(exc) else 409
            return error_response(request, status, str(exc))
        return JSONResponse({"ok": True})

    act.__name__ = f"api_{kind}"
    return act


def article_json(article: Any) -> dict[str, Any]:
    """An article to insert into a reply: its whole text within a reply's limit (the sources and date always in)."""
    from bot.knowledge.render import whole_text

    return {"id": article.id, "title": article.title, "line": LINES.get(article.line, article.line),
            "reviewed": article.last_reviewed.isoformat(),
            "text": whole_text(article, TEXT_MAX)}


@requires(*STAFF)
@available
async def api_articles(request: Request) -> Response:
    handoff = handoff_of(request)
    query = (request.query_params.get("q") or "").strip()[:MAX_QUERY]
    if not query:
        return JSONResponse({"articles": []})
    kb = handoff.kb
    hits = await handoff.service.run(kb.search, query, 6)
    articles = [article_json(a) for a in (kb.get(hit.article_id) for hit in hits) if a is not None]
    return JSONResponse({"articles": articles})


ATTACHMENT_LINE = ATTACHMENT_NOTE.partition("{")[0]


def _words_of(message: Message) -> str:
    """What a person wrote, as the understanding should read it: an e-mail's labels and attachment lines left out."""
    lines = [line.removeprefix(SUBJECT_LABEL) for line in (message.text or "").splitlines() if not line.startswith(ATTACHMENT_LINE)]
    return "\n".join(lines).strip()


@requires(*STAFF)
@available
async def api_suggested(request: Request) -> Response:
    """The articles the assistant would answer the person's last message with, best first."""
    handoff = handoff_of(request)
    ticket = await _viewable(request)
    if isinstance(ticket, Response):
        return ticket
    messages = await handoff.service.run(handoff.store.messages, ticket.id)
    last = next((m for m in reversed(messages) if m.role == "person"), None)
    text = _words_of(last) if last else ""
    if not text.strip():
        return JSONResponse({"message_id": None, "articles": [], "understood": None})
    parsed, understood = None, "assistant"
    try:
        parsed = await handoff.service.api.parse(text[:2000])
    except (RasaUnavailable, RasaRefused) as exc:
        logger.warning("desk: suggestions without Rasa's understanding: %s", exc)
        understood = "search"
    found = await handoff.service.run(suggest, handoff.kb, text, parsed)
    articles = []
    for item in found:
        article = handoff.kb.get(item.article_id)
        if article is not None:
            articles.append({**article_json(article), "why": item.why})
    return JSONResponse({"message_id": last.id if last else None, "articles": articles, "understood": understood})


def routes() -> list[BaseRoute]:
    actions = ("tomar", "responder", "nota", "etiquetas", "transferir", "oficina", "devolver", "cerrar")
    return [
        Route("/cola", queue_page, methods=["GET"], name="queue"),
        Route("/cola/supervision", supervision_page, methods=["GET"], name="supervision"),
        Route("/cola/{ticket_id}", conversation_page, methods=["GET"], name="conversation"),
        Route("/api/cola", api_queue, methods=["GET"], name="api_queue"),
        Route("/api/cola/estadisticas", api_stats, methods=["GET"], name="api_stats"),
        Route("/api/cola/{ticket_id}", api_ticket, methods=["GET"], name="api_ticket"),
        Route("/api/cola/{ticket_id}/sugeridos", api_suggested, methods=["GET"], name="api_suggested"),
        *[Route(f"/api/cola/{{ticket_id}}/{kind}", _action(kind), methods=["POST"], name=f"api_{kind}") for kind in actions],
        Route("/api/articulos", api_articles, methods=["GET"], name="api_articles"),
    ]


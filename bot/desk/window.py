"""The in-person window (section "Ventanilla", directive 5.5): an advisor at a window records a walk-in
consultation in under a minute and hands the person the articles, printed or by e-mail.

Pages (advisor or supervisor):
  GET  /ventanilla                  the form (line of action, country, topics, articles, referral, contact
                                    with consent) and today's consultations of this advisor
  GET  /ventanilla/articulos/{article}  one article of the knowledge base, whole, to read with the person
  GET  /ventanilla/{id}             one consultation: what was recorded, the sheet, sending by e-mail
  GET  /ventanilla/{id}/hoja        the print-friendly sheet of its articles (A4; the browser prints it or saves a PDF)
API (JSON; POST needs the session's CSRF token in X-CSRF-Token):
  GET  /api/ventanilla/articulos?q=…            search the knowledge base
  GET  /api/ventanilla/registros                today's consultations of this advisor
  POST /api/ventanilla/registros                record one {line, country?, topics, articles, referred,
                                                referred_to?, email?, whatsapp?, consent}
  GET  /api/ventanilla/registros/{id}           one consultation
  POST /api/ventanilla/registros/{id}/correo    send its articles to the address the person gave (retry: again)
  POST /api/ventanilla/registros/{id}/whatsapp  send its articles to the number the person gave: at once when
                                                they wrote to the service's WhatsApp in the last 24 hours,
                                                else an approved template first (bot/window/whatsapp.py)
  POST /api/ventanilla/registros/{id}/borrar    delete a consultation recorded by mistake

A consultation is seen by the advisor who recorded it and by supervisors. The office of the window is the
advisor's office (bot/offices: their first one, else the main office).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import countries
from bot.desk.access import requires
from bot.desk.errors import error_response
from bot.desk.queue import Unavailable, handoff_of
from bot.desk.services import desk_of
from bot.knowledge.model import LINES
from bot.mail.mailbox import MailError
from bot.mail.settings import MailSettingsError
from bot.offices.directory import Offices
from bot.store.clock import now
from bot.text import whole_number
from bot.window import mailing
from bot.window.store import Visit, WindowInputError, WindowStore, articles_of, parse_entry, scrub
from bot.window.whatsapp import WhatsAppNotSent, WindowSettingsError, template_sid

logger = logging.getLogger(__name__)

STAFF = ("advisor", "supervisor")
PATH = "/ventanilla"
API = "/api/ventanilla"
MAX_QUERY = 200
WHATSAPP_NOTE = ("WhatsApp: si la persona escribe «hola» al WhatsApp de INFOMIGRA{number} ahora, la información le llega "
                 "al momento. Si no nos escribió en las últimas 24 horas, se le envía primero un mensaje aprobado por "
                 "WhatsApp y la información sale en cuanto responda.")
WHATSAPP_NO_TEMPLATE = ("WhatsApp: pida a la persona que escriba «hola» al WhatsApp de INFOMIGRA{number} ahora y luego pulse "
                        "«Enviar por WhatsApp». Sin ese mensaje no se le puede escribir: esta mesa no tiene una plantilla "
                        "aprobada por WhatsApp (WINDOW_WHATSAPP_TEMPLATE_SID).")
MAIL_OFF = "El correo del servicio no está configurado en esta mesa (variables MAIL_SMTP_HOST y MAIL_ADDRESS): entregue la hoja impresa."


# --- what every request needs --------------------------------------------------------------------------
def _kb(request: Request) -> Any:
    app = request.app
    if getattr(app.state, "window_kb", None) is None:
        from bot import knowledge

        app.state.window_kb = knowledge.load()
    return app.state.window_kb


async def _kb_ready(request: Request) -> Any:
    if getattr(request.app.state, "window_kb", None) is None:
        await desk_of(request).run(_kb, request)
    return request.app.state.window_kb


def _store(request: Request) -> WindowStore:
    return WindowStore(desk_of(request).engine)


def mail_state() -> tuple[Any, str | None]:
    """(SMTP settings, None) when the window can send e-mail; (None, why not) otherwise."""
    try:
        settings = mailing.smtp_settings()
    except MailSettingsError as exc:
        logger.error("desk: the window cannot send e-mail: %s", exc)
        return None, f"El correo del servicio está mal configurado ({exc}): entregue la hoja impresa."
    return (settings, None) if settings is not None else (None, MAIL_OFF)


def whatsapp_note(env: Any = None) -> str:
    """What the advisor is told about sending to WhatsApp, with the service's number when this desk knows it."""
    import os

    env = os.environ if env is None else env
    number = (env.get("TWILIO_WHATSAPP_NUMBER") or "").strip().removeprefix("whatsapp:")
    number = f" ({number})" if number else ""
    try:
        template = template_sid(env)
    except WindowSettingsError:
        template = None
    return (WHATSAPP_NOTE if template else WHATSAPP_NO_TEMPLATE).format(number=number)


def _is_supervisor(request: Request) -> bool:
    return request.state.user.has_any(("supervisor",))


def _today_start(at: dt.datetime) -> dt.datetime:
    from bot.suggestions import dates

    local = at.astimezone(dates.LIMA)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _visit_id(request: Request) -> int | None:
    return whole_number(str(request.path_params["visit_id"]), 12)


async def _viewable(request: Request) -> Visit | Response:
    """The consultation of the URL, or the 404/403 answer that says why not."""
    visit_id = _visit_id(request)
    visit = await desk_of(request).run(_store(request).get, visit_id) if visit_id is not None else None
    if visit is None:
        return error_response(request, 404, "Esa atención no existe.")
    if visit.advisor_id != request.state.user.id and not _is_supervisor(request):
        return error_response(request, 403, "Esa atención la registró otra persona.")
    return visit


def _country_label(slug: str | None) -> str:
    if not slug:
        return "—"
    return "Otro país" if slug == countries.OTHER else countries.name(slug)


def _clock(at: dt.datetime | None) -> str | None:
    if at is None:
        return None
    from bot.suggestions import dates

    return at.astimezone(dates.LIMA).strftime("%d/%m/%Y %H:%M")


def visit_json(visit: Visit, kb: Any, mail_ready: bool) -> dict[str, Any]:
    articles = [{"id": a.id, "title": a.title, "url": article_url(a.id)} for a in articles_of(visit, kb)]
    return {
        "id": visit.id,
        "reference": visit.reference,
        "created_at": visit.created_at.isoformat(),
        "created_label": _clock(visit.created_at),
        "office": visit.office,
        "line": visit.line,
        "line_label": LINES.get(visit.line, visit.line),
        "country": visit.country,
        "country_label": _country_label(visit.country),
        "topics": list(visit.topics),
        "articles": articles,
        "referred": visit.referred,
        "referred_to": visit.referred_to,
        "email": visit.contact_email,
        "whatsapp": visit.contact_whatsapp,
        "consent_at": visit.consent_at.isoformat() if visit.consent_at else None,
        "contact_erased": visit.contact_erased_at is not None,
        "emailed_at": visit.emailed_at.isoformat() if visit.emailed_at else None,
        "emailed_label": _clock(visit.emailed_at),
        "whatsapp_sent_label": _clock(visit.whatsapp_sent_at),
        "whatsapp_waiting_label": _clock(visit.whatsapp_waiting_since),
        "email_error": visit.email_error,
        "whatsapp_error": visit.whatsapp_error,
        "can_email": bool(mail_ready and visit.contact_email and articles),
        "can_whatsapp": bool(visit.contact_whatsapp and articles and visit.whatsapp_sent_at is None
                             and visit.whatsapp_waiting_since is None),
        "sheet_url": f"{PATH}/{visit.id}/hoja",
        "url": f"{PATH}/{visit.id}",
    }


def _country_options() -> list[tuple[str, str]]:
    first = [(slug, countries.name(slug)) for slug in countries.DESTINATIONS]
    rest = sorted(((slug, name) for slug, name in countries.NAMES.items() if slug not in countries.DESTINATIONS),
                  key=lambda item: item[1])
    return [*first, *rest, (countries.OTHER, "Otro país")]


def _topic_options(kb: Any) -> list[tuple[str, str]]:
    options = []
    for topic in sorted(kb.topics):
        overview = kb.get(topic)
        options.append((topic, overview.title if overview else topic))
    return options


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise WindowInputError("El cuerpo de la solicitud no es JSON válido.") from None
    if not isinstance(data, dict):
        raise WindowInputError("Se espera un objeto JSON.")
    return data


def office_of(engine, user_id: int) -> str | None:  # noqa: ANN001
    """The name of the office whose window the advisor serves: their first active office, else the main office."""
    offices = Offices(engine)
    mine = [o for o in offices.of_user(user_id) if o.active]
    office = mine[0] if mine else offices.main()
    return office.name if office else None


# --- pages ---------------------------------------------------------------------------------------------
@requires(*STAFF)
async def window_page(request: Request) -> Response:
    kb = await _kb_ready(request)
    _, mail_off = mail_state()
    office = await desk_of(request).run(office_of, desk_of(request).engine, request.state.user.id)
    return desk_of(request).templates.TemplateResponse(request, "window/index.html", {
        "lines": list(LINES.items()), "countries": _country_options(), "topics": _topic_options(kb),
        "office": office, "mail_off": mail_off, "whatsapp_note": whatsapp_note()})


@requires(*STAFF)
async def visit_page(request: Request) -> Response:
    visit = await _viewable(request)
    if isinstance(visit, Response):
        return visit
    kb = await _kb_ready(request)
    settings, mail_off = mail_state()
    return desk_of(request).templates.TemplateResponse(request, "window/visit.html", {
        "visit": visit_json(visit, kb, settings is not None), "mail_off": mail_off, "whatsapp_note": whatsapp_note()})


@requires(*STAFF)
async def article_page(request: Request) -> Response:
    kb = await _kb_ready(request)
    article = kb.get(str(request.path_params["article_id"])[:200])
    if article is None:
        return error_response(request, 404, "Ese artículo no está en la base de conocimiento.")
    return desk_of(request).templates.TemplateResponse(request, "window/article.html", {
        "article": mailing.sheet_article(article), "line": LINES.get(article.line, article.line)})


def article_url(article_id: str) -> str:
    return f"{PATH}/articulos/{article_id}"


@requires(*STAFF)
async def sheet_page(request: Request) -> Response:
    visit = await _viewable(request)
    if isinstance(visit, Response):
        return visit
    kb = await _kb_ready(request)
    return desk_of(request).templates.TemplateResponse(request, "window/sheet.html", {
        "sheet": mailing.sheet(visit, articles_of(visit, kb)), "ministry": mailing.MINISTRY, "visit_url": f"{PATH}/{visit.id}"})


# --- API -----------------------------------------------------------------------------------------------
@requires(*STAFF)
async def api_articles(request: Request) -> Response:
    query = (request.query_params.get("q") or "").strip()[:MAX_QUERY]
    if not query:
        return JSONResponse({"articles": []})
    kb = await _kb_ready(request)
    hits = await desk_of(request).run(kb.search, query, 8)
    articles = []
    for article in (kb.get(hit.article_id) for hit in hits):
        if article is not None:
            articles.append({"id": article.id, "title": article.title, "summary": article.summary, "url": article_url(article.id),
                             "line": LINES.get(article.line, article.line), "reviewed": article.last_reviewed.strftime("%d/%m/%Y")})
    return JSONResponse({"articles": articles})


@requires(*STAFF)
async def api_list(request: Request) -> Response:
    kb = await _kb_ready(request)
    settings, _ = mail_state()
    at = now()
    visits = await desk_of(request).run(lambda: _store(request).recent(request.state.user.id, _today_start(at)))
    return JSONResponse({"visits": [visit_json(v, kb, settings is not None) for v in visits]})


@requires(*STAFF)
async def api_record(request: Request) -> Response:
    kb = await _kb_ready(request)
    try:
        entry = parse_entry(await _body(request), kb)
    except WindowInputError as exc:
        return error_response(request, 400, str(exc))
    user = request.state.user
    engine = desk_of(request).engine
    visit = await desk_of(request).run(lambda: _store(request).record(entry, user.id, office_of(engine, user.id)))
    settings, _ = mail_state()
    return JSONResponse({"ok": True, "visit": visit_json(visit, kb, settings is not None)}, status_code=201)


@requires(*STAFF)
async def api_visit(request: Request) -> Response:
    visit = await _viewable(request)
    if isinstance(visit, Response):
        return visit
    settings, _ = mail_state()
    return JSONResponse({"visit": visit_json(visit, await _kb_ready(request), settings is not None)})


@requires(*STAFF)
async def api_send_email(request: Request) -> Response:
    visit = await _viewable(request)
    if isinstance(visit, Response):
        return visit
    kb = await _kb_ready(request)
    articles = articles_of(visit, kb)
    if not visit.contact_email:
        return error_response(request, 400, "Esta atención no tiene un correo al que enviar (o ya se borró).")
    if not articles:
        return error_response(request, 400, "Esta atención no tiene artículos que enviar.")
    settings, mail_off = mail_state()
    if settings is None:
        return error_response(request, 503, mail_off, code="correo_no_configurado")
    desk, store, user = desk_of(request), _store(request), request.state.user
    try:
        await desk.run(mailing.send_sheet, settings, visit, articles)
    except MailError as exc:
        detail = scrub(str(exc), [visit.contact_email])
        logger.warning("desk: the articles of %s were not sent: %s", visit.reference, detail)
        await desk.run(lambda: store.failed(visit.id, "correo", detail, user.id))
        return error_response(request, 502, "No se pudo enviar el correo: el servidor de correo no lo aceptó o no respondió "
                                            f"({detail}). No se envió nada; puede volver a intentarlo.", code="envio_fallido")
    await desk.run(lambda: store.sent(visit.id, "correo", user.id))
    visit = await desk.run(store.get, visit.id) or visit
    logger.info("desk: the articles of %s were sent by e-mail", visit.reference)
    return JSONResponse({"ok": True, "visit": visit_json(visit, kb, True)})


@requires(*STAFF)
async def api_send_whatsapp(request: Request) -> Response:
    visit = await _viewable(request)
    if isinstance(visit, Response):
        return visit
    try:
        window = handoff_of(request).window
    except Unavailable as exc:
        return error_response(request, 503, f"WhatsApp no está disponible por un error de configuración: {exc}")
    if window is None:
        return error_response(request, 503, "WhatsApp no está disponible en esta mesa.")
    try:
        outcome = await window.send(visit, request.state.user.id)
    except WhatsAppNotSent as exc:
        return error_response(request, exc.status, str(exc), code=exc.code)
    settings, _ = mail_state()
    visit = await desk_of(request).run(_store(request).get, visit.id) or visit
    return JSONResponse({"ok": True, "outcome": outcome, "visit": visit_json(visit, await _kb_ready(request), settings is not None)})


@requires(*STAFF)
async def api_erase(request: Request) -> Response:
    visit = await _viewable(request)
    if isinstance(visit, Response):
        return visit
    await desk_of(request).run(_store(request).erase, visit.id)
    logger.info("desk: the window consultation %s was deleted by %s", visit.reference, request.state.user.email)
    return JSONResponse({"ok": True})


def routes() -> list[BaseRoute]:
    return [
        Route(PATH, window_page, methods=["GET"], name="window"),
        Route(f"{PATH}/articulos/{{article_id:path}}", article_page, methods=["GET"], name="window_article"),
        Route(f"{PATH}/{{visit_id}}", visit_page, methods=["GET"], name="window_visit"),
        Route(f"{PATH}/{{visit_id}}/hoja", sheet_page, methods=["GET"], name="window_sheet"),
        Route(f"{API}/articulos", api_articles, methods=["GET"], name="api_window_articles"),
        Route(f"{API}/registros", api_list, methods=["GET"], name="api_window_list"),
        Route(f"{API}/registros", api_record, methods=["POST"], name="api_window_record"),
        Route(f"{API}/registros/{{visit_id}}", api_visit, methods=["GET"], name="api_window_visit"),
        Route(f"{API}/registros/{{visit_id}}/correo", api_send_email, methods=["POST"], name="api_window_email"),
        Route(f"{API}/registros/{{visit_id}}/whatsapp", api_send_whatsapp, methods=["POST"], name="api_window_whatsapp"),
        Route(f"{API}/registros/{{visit_id}}/borrar", api_erase, methods=["POST"], name="api_window_erase"),
    ]

"""The review of "la voz del migrante" in the desk (roles reviewer and supervisor).

    GET  /sugerencias                          list: filters (estado, tipo, pais, tema, desde, hasta), pages, newest first
    GET  /sugerencias/exportar?formato=csv|json  the store's export of the current filters (contact for supervisors only)
    GET  /sugerencias/{referencia}             detail: text, contact, status, tags, notes, history, reply
    POST /sugerencias/{referencia}/estado      a status change the workflow allows
    POST /sugerencias/{referencia}/etiquetas   add a tag; …/etiquetas/quitar removes one
    POST /sugerencias/{referencia}/notas       a private staff note
    POST /sugerencias/{referencia}/respuesta   a reply on the person's channel (bot.desk.suggestions_reply)

Every change is a POST with the session's CSRF token (bot.desk.access) recorded with the staff account;
after a change the browser is sent back to the detail page (?hecho=… says what was done).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from bot import countries
from bot.desk.access import requires
from bot.desk.errors import error_response
from bot.desk.services import desk_of
from bot.desk.suggestions_download import MEDIA_TYPES, stream_export
from bot.desk.suggestions_reply import REPLY_MAX, RasaEndpoint, ReplyError, deliver, reply_text
from bot.knowledge.model import LINES
from bot.store import clock
from bot.suggestions import dates
from bot.suggestions.schema import KINDS, STATUSES, TOPIC_MAX, suggestions
from bot.suggestions.scrub import scrub
from bot.suggestions.service import (
    NOTE_MAX,
    TAG_MAX,
    TRANSITIONS,
    Page,
    Suggestion,
    SuggestionNotFound,
    TransitionError,
    add_note,
    add_tag,
    change_status,
    get,
    history,
    list_suggestions,
    normalize_tag,
    remove_tag,
)
from bot.suggestions.validation import clean_text
from bot.text import whole_number

log = logging.getLogger(__name__)

ROLES = ("reviewer", "supervisor")
CONTACT_ROLE = "supervisor"  # only this role sees a person's contact: pages, exports, anywhere in the desk
PER_PAGE = 25
PAGE_LAST = 100_000
EXCERPT = 160
CSV_BOM = "\ufeff".encode()  # spreadsheets then read the file as UTF-8

STATUS_LABELS = {"new": "Nueva", "in_review": "En revisión", "forwarded": "Derivada", "answered": "Respondida",
                 "archived": "Archivada"}
KIND_LABELS = {"sugerencia": "Sugerencia", "inquietud": "Inquietud", "queja": "Queja", "reconocimiento": "Reconocimiento"}
CHANNEL_LABELS = {"whatsapp": "WhatsApp", "telegram": "Telegram", "web": "Web (chat del portal)", "rest": "REST (API)"}


def sees_contacts(request: Request) -> bool:
    return request.state.user.has_any([CONTACT_ROLE])


def as_seen_by(request: Request, suggestion: Suggestion) -> Suggestion:
    """A suggestion as the logged-in account may see it: for anyone but a supervisor, without its
    contact, and with e-mail addresses, phone numbers and document numbers in its text and notes
    replaced by marks (bot.suggestions.scrub)."""
    if sees_contacts(request):
        return suggestion
    notes = tuple({**n, "text": scrub(str(n.get("text", "")))} if isinstance(n, dict) else n for n in suggestion.notes)
    return replace(suggestion, contact=None, text=scrub(suggestion.text) or "", notes=notes)


def transition_label(current: str, target: str) -> str:
    """The text of the button that moves a suggestion from `current` to `target`."""
    if target == "in_review":
        return "Volver a «En revisión»" if current != "new" else "Pasar a «En revisión»"
    return {"forwarded": "Marcar como derivada", "answered": "Marcar como respondida", "archived": "Archivar"}[target]


def country_label(slug: str) -> str:
    return "Otro país" if slug == countries.OTHER else countries.NAMES.get(slug, slug)


def topic_label(topic: str) -> str:
    return LINES.get(topic, topic)


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)


def local_time(value: dt.datetime | None) -> str:
    """"03/05/2026 10:15" in Peru."""
    return value.astimezone(dates.LIMA).strftime("%d/%m/%Y %H:%M") if value else ""


def excerpt(text: str, size: int = EXCERPT) -> str:
    line = " ".join(text.split())
    return line if len(line) <= size else line[: size - 1].rstrip() + "…"


VIEW = {"status_labels": STATUS_LABELS, "kind_labels": KIND_LABELS, "country_label": country_label,
        "topic_label": topic_label, "channel_label": channel_label, "local_time": local_time, "excerpt": excerpt,
        "transition_label": transition_label, "note_time": lambda note: _instant(note.get("at"))}


# filters -----------------------------------------------------------------------------------------

FILTER_KEYS = ("estado", "tipo", "pais", "tema", "desde", "hasta")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
YEARS = (2000, 2100)  # the dates a filter accepts


@dataclass(frozen=True)
class ListFilters:
    status: str | None = None
    kind: str | None = None
    country: str | None = None
    topic: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    page: int = 1

    def criteria(self) -> dict[str, Any]:
        return {"status": self.status, "kind": self.kind, "country": self.country, "topic": self.topic,
                "since": self.since, "until": self.until}

    def params(self) -> dict[str, str]:
        values = {"estado": self.status, "tipo": self.kind, "pais": self.country, "tema": self.topic,
                  "desde": self.since.isoformat() if self.since else None,
                  "hasta": self.until.isoformat() if self.until else None}
        return {k: v for k, v in values.items() if v}

    def query(self, page: int | None = None) -> str:
        """The list's query string with these filters (and a page, when it is not the first)."""
        params = self.params()
        if page and page > 1:
            params["pagina"] = str(page)
        return urlencode(params)

    @property
    def active(self) -> bool:
        return bool(self.params())


def _text(params: QueryParams, name: str, limit: int) -> str:
    """A one-line value without control characters (PostgreSQL refuses NUL), at most `limit` characters."""
    raw = (params.get(name) or "")[: limit * 4]
    return " ".join("".join(ch if ch.isprintable() else " " for ch in raw).split())[:limit]


def _day(raw: str) -> dt.date:
    match = _DMY.match(raw)
    if match:
        return dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    return dt.date.fromisoformat(raw)


def parse_filters(params: QueryParams) -> tuple[ListFilters, list[str]]:
    """The list's filters from a query string, and what was wrong with it (Spanish sentences)."""
    errors: list[str] = []
    status, kind = _text(params, "estado", 20) or None, _text(params, "tipo", 20) or None
    if status and status not in STATUSES:
        errors.append("El estado elegido no existe.")
        status = None
    if kind and kind not in KINDS:
        errors.append("El tipo elegido no existe.")
        kind = None
    days: dict[str, dt.date | None] = {}
    for name, label in (("desde", "Desde"), ("hasta", "Hasta")):
        raw = _text(params, name, 20)
        try:
            days[name] = _day(raw) if raw else None
            if days[name] and not YEARS[0] <= days[name].year <= YEARS[1]:
                raise ValueError("out of range")
        except ValueError:
            errors.append(f"La fecha «{label}» no es válida: use el formato día/mes/año.")
            days[name] = None
    if days["desde"] and days["hasta"] and days["hasta"] < days["desde"]:
        errors.append("La fecha «Hasta» es anterior a la fecha «Desde».")
    raw_page = _text(params, "pagina", 10) or "1"
    page = whole_number(raw_page) or 0
    if not 1 <= page <= PAGE_LAST:
        errors.append("El número de página no es válido.")
        page = 1
    found = ListFilters(status=status, kind=kind, country=_text(params, "pais", 40) or None,
                        topic=_text(params, "tema", TOPIC_MAX) or None, since=days["desde"], until=days["hasta"], page=page)
    return found, errors


def safe_back(raw: object) -> str:
    """The list's query string to go back to, keeping only the filters and the page."""
    if not isinstance(raw, str) or len(raw) > 1000:
        return ""
    kept = [(k, v[:200]) for k, v in parse_qsl(raw) if k in (*FILTER_KEYS, "pagina")]
    return urlencode(kept)


# reads -------------------------------------------------------------------------------------------

def filter_choices(engine: Engine) -> dict[str, list[tuple[str, str]]]:
    """The countries and topics that occur, as (value, label) pairs for the filter's menus."""
    with engine.connect() as conn:
        found_countries = conn.execute(select(suggestions.c.country).distinct()).scalars().all()
        found_topics = conn.execute(select(suggestions.c.topic).distinct().limit(300)).scalars().all()
    topics = [(slug, title) for slug, title in LINES.items() if slug in found_topics]
    topics += sorted(((t, t) for t in found_topics if t not in LINES), key=lambda pair: pair[1].lower())
    return {"countries": sorted(((c, country_label(c)) for c in found_countries), key=lambda pair: pair[1]),
            "topics": topics}


def _list(engine: Engine, filters: ListFilters) -> tuple[Page, dict[str, list[tuple[str, str]]]]:
    page = list_suggestions(engine, limit=PER_PAGE, offset=(filters.page - 1) * PER_PAGE, **filters.criteria())
    return page, filter_choices(engine)


REPLY_NOTE = "Respuesta enviada a la persona"


def reply_note(channel: str, sent: str) -> str:
    return f"{REPLY_NOTE} por {channel_label(channel)}:\n\n{sent}"


def is_reply_note(note: dict[str, Any]) -> bool:
    return str(note.get("text", "")).startswith(REPLY_NOTE + " por ")


def _instant(value: object) -> dt.datetime | None:
    try:
        return clock.aware(dt.datetime.fromisoformat(str(value)))
    except ValueError:
        return None


ERASURE_REASONS = {"requested by the person": "a pedido de la persona"}


@dataclass
class HistoryEntry:
    at: dt.datetime
    text: str
    who: str


def history_entries(suggestion: Suggestion, events: list[dict[str, Any]]) -> list[HistoryEntry]:
    """The events of a suggestion in Spanish, oldest first."""
    replies = {_instant(n.get("at")) for n in suggestion.notes if is_reply_note(n)}
    entries = []
    for event in events:
        action, detail = event["action"], event.get("detail") or ""
        who = event.get("staff_email") or event.get("staff_id") or ""
        if action == "created":
            text, who = f"Recibida por {channel_label(suggestion.channel)}", who or "La persona"
        elif action == "status":
            text = (f"Estado: «{STATUS_LABELS.get(event['from_status'], event['from_status'])}» → "
                    f"«{STATUS_LABELS.get(event['to_status'], event['to_status'])}»")
        elif action == "tag_added":
            text = f"Etiqueta añadida: «{detail}»"
        elif action == "tag_removed":
            text = f"Etiqueta quitada: «{detail}»"
        elif action == "note_added":
            text = "Respuesta enviada a la persona" if event["at"] in replies else "Nota interna añadida"
        elif action == "erased":
            reason = ERASURE_REASONS.get(detail) or ("por el plazo de conservación" if detail.startswith("retention") else detail)
            text, who = f"Datos personales borrados ({reason})", who or "Sistema"
        else:
            text = action
        entries.append(HistoryEntry(at=event["at"], text=text, who=who or "—"))
    return entries


# channels whose conversations cannot receive a message later (Rasa would accept it and drop it)
NO_PUSH_CHANNELS = frozenset({"rest", "cmdline", "inspector"})


def reply_blocked(suggestion: Suggestion) -> str | None:
    """Why the person cannot get a reply on their channel (Spanish), or None when they can."""
    if suggestion.personal_data_erased_at:
        return "los datos personales de esta sugerencia se borraron."
    if not suggestion.contact:
        return "la persona no dejó un contacto para recibir respuesta."
    if not suggestion.sender_id:
        return "no se conoce la conversación de la persona."
    if suggestion.channel in NO_PUSH_CHANNELS:
        return (f"la persona escribió por {channel_label(suggestion.channel)}, que no recibe mensajes después de la "
                "conversación. Puede escribirle al contacto que dejó.")
    return None


# pages -------------------------------------------------------------------------------------------

NOTICES = {
    "estado": "Estado actualizado.",
    "etiqueta": "Etiqueta añadida.",
    "etiqueta_quitada": "Etiqueta quitada.",
    "nota": "Nota guardada.",
    "respuesta": "Respuesta enviada a la persona y registrada; la sugerencia quedó como «Respondida».",
    "respuesta_sin_estado": "Respuesta enviada a la persona y registrada (el estado no cambió).",
}


@dataclass
class Drafts:
    """What the staff had typed when a form came back with an error."""

    tag: str = ""
    note: str = ""
    reply: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # form name → message


def _render_list(request: Request, filters: ListFilters, errors: list[str], page: Page | None,
                 choices: dict[str, list[tuple[str, str]]], status: int = 200, reference: str = "") -> Response:
    pages = max(1, -(-page.total // PER_PAGE)) if page else 1
    if page is not None:
        page = replace(page, items=[as_seen_by(request, s) for s in page.items])
    context = {**VIEW, "filters": filters, "errors": errors, "page": page, "choices": choices, "pages": pages,
               "statuses": STATUSES, "kinds": KINDS, "reference": reference, "back": filters.query(filters.page)}
    return desk_of(request).templates.TemplateResponse(request, "suggestions/list.html", context, status_code=status)


@requires(*ROLES)
async def list_page(request: Request) -> Response:
    desk = desk_of(request)
    typed = _text(request.query_params, "ref", 40)
    if typed:
        found = await desk.run(get, desk.engine, typed) if whole_number(typed) is None else None
        if found:
            return RedirectResponse(f"/sugerencias/{found.reference}", status_code=303)
        filters, _ = parse_filters(QueryParams(""))
        page, choices = await desk.run(_list, desk.engine, filters)
        return _render_list(request, filters, [f"No hay ninguna sugerencia con la referencia «{typed}»."], page, choices,
                            status=404, reference=typed)
    filters, errors = parse_filters(request.query_params)
    if errors:
        choices = await desk.run(filter_choices, desk.engine)
        return _render_list(request, filters, errors, None, choices, status=400)
    page, choices = await desk.run(_list, desk.engine, filters)
    return _render_list(request, filters, [], page, choices)


async def _suggestion(request: Request) -> Suggestion | None:
    desk = desk_of(request)
    key = str(request.path_params["reference"])
    if whole_number(key) is not None:  # the store takes digits as an id; the desk's addresses carry references only
        return None
    return await desk.run(get, desk.engine, key)


def _not_found(request: Request) -> Response:
    return error_response(request, 404, "No encontramos esa sugerencia. Quizá la referencia está mal escrita.")


def _render_detail(request: Request, suggestion: Suggestion, events: list[dict[str, Any]], *, status: int = 200,
                   error: str | None = None, drafts: Drafts | None = None, back: str = "") -> Response:
    endpoint = RasaEndpoint.from_env()
    notice = None if error else NOTICES.get(request.query_params.get("hecho", ""))
    blocked = reply_blocked(suggestion)
    has_contact = bool(suggestion.contact)
    suggestion = as_seen_by(request, suggestion)  # a reviewer's page never gets a contact
    context = {
        **VIEW, "s": suggestion, "history": history_entries(suggestion, events), "error": error, "notice": notice,
        "has_contact": has_contact,
        "drafts": drafts or Drafts(), "back": back, "reply_blocked": blocked,
        "replies_configured": endpoint.configured, "reply_max": REPLY_MAX, "note_max": NOTE_MAX, "tag_max": TAG_MAX,
        "reply_preview": reply_text(suggestion.reference, ""), "is_reply_note": is_reply_note,
        "transitions": TRANSITIONS[suggestion.status],
    }
    return desk_of(request).templates.TemplateResponse(request, "suggestions/detail.html", context, status_code=status)


async def _detail_response(request: Request, suggestion: Suggestion, **kwargs: Any) -> Response:
    desk = desk_of(request)
    events = await desk.run(history, desk.engine, suggestion.id)
    return _render_detail(request, suggestion, events, **kwargs)


@requires(*ROLES)
async def detail_page(request: Request) -> Response:
    suggestion = await _suggestion(request)
    if suggestion is None:
        return _not_found(request)
    return await _detail_response(request, suggestion, back=safe_back(request.query_params.get("volver")))


# changes -----------------------------------------------------------------------------------------

def _field(form: FormData, name: str, limit: int = 10_000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _staff(request: Request) -> dict[str, Any]:
    user = request.state.user
    return {"staff_id": user.id, "staff_email": user.email}


def _done(suggestion: Suggestion, what: str, back: str) -> Response:
    target = f"/sugerencias/{suggestion.reference}?hecho={what}"
    if back:
        target += "&volver=" + quote(back, safe="")
    return RedirectResponse(target + "#resultado", status_code=303)


async def _change(request: Request, fn: Any, *args: Any) -> Suggestion:
    desk = desk_of(request)
    return await desk.run(functools.partial(fn, desk.engine, *args, **_staff(request)))


@requires(*ROLES)
async def status_change(request: Request) -> Response:
    suggestion = await _suggestion(request)
    if suggestion is None:
        return _not_found(request)
    form = await request.form()
    back = safe_back(form.get("volver"))
    target = _field(form, "estado", 20)
    if target not in STATUSES:
        return await _detail_response(request, suggestion, status=400, back=back, error="Elija un estado válido.")
    if target not in TRANSITIONS[suggestion.status]:
        now, wanted = STATUS_LABELS[suggestion.status], STATUS_LABELS[target]
        message = (f"Una sugerencia «{now}» no puede pasar a «{wanted}»." if target != suggestion.status
                   else f"La sugerencia ya está «{now}».")
        return await _detail_response(request, suggestion, status=409, back=back, error=message)
    try:
        suggestion = await _change(request, change_status, suggestion.id, target)
    except (TransitionError, SuggestionNotFound):
        fresh = await _suggestion(request)
        if fresh is None:
            return _not_found(request)
        return await _detail_response(request, fresh, status=409, back=back,
                                      error="Otra persona cambió el estado mientras tanto. Revise el estado actual.")
    return _done(suggestion, "estado", back)


@requires(*ROLES)
async def tag_add(request: Request) -> Response:
    return await _tag(request, add=True)


@requires(*ROLES)
async def tag_remove(request: Request) -> Response:
    return await _tag(request, add=False)


async def _tag(request: Request, add: bool) -> Response:
    suggestion = await _suggestion(request)
    if suggestion is None:
        return _not_found(request)
    form = await request.form()
    back = safe_back(form.get("volver"))
    typed = _field(form, "etiqueta", 200)
    try:
        tag = normalize_tag(typed)
    except ValueError:
        message = f"Una etiqueta tiene entre 1 y {TAG_MAX} caracteres."
        return await _detail_response(request, suggestion, status=400, back=back, error=message,
                                      drafts=Drafts(tag=typed, errors={"tag": message}))
    if not add and tag not in suggestion.tags:
        return await _detail_response(request, suggestion, status=409, back=back,
                                      error=f"La sugerencia ya no tiene la etiqueta «{tag}».")
    try:
        suggestion = await _change(request, add_tag if add else remove_tag, suggestion.id, tag)
    except SuggestionNotFound:
        return _not_found(request)
    return _done(suggestion, "etiqueta" if add else "etiqueta_quitada", back)


@requires(*ROLES)
async def note_add(request: Request) -> Response:
    suggestion = await _suggestion(request)
    if suggestion is None:
        return _not_found(request)
    form = await request.form()
    back = safe_back(form.get("volver"))
    typed = _field(form, "nota", NOTE_MAX * 2)
    body = clean_text(typed)
    if not body or len(body) > NOTE_MAX:
        message = f"Una nota tiene entre 1 y {NOTE_MAX:,} caracteres.".replace(",", ".")
        return await _detail_response(request, suggestion, status=400, back=back, error=message,
                                      drafts=Drafts(note=typed[:NOTE_MAX * 2], errors={"note": message}))
    try:
        suggestion = await _change(request, add_note, suggestion.id, body)
    except SuggestionNotFound:
        return _not_found(request)
    return _done(suggestion, "nota", back)


# On a delivered reply the suggestion moves to "answered" along the workflow.
PATH_TO_ANSWERED: dict[str, tuple[str, ...]] = {"new": ("in_review", "answered"), "in_review": ("answered",),
                                                "forwarded": ("in_review", "answered")}


def record_reply(engine: Engine, suggestion: Suggestion, note: str, staff_id: int, staff_email: str) -> bool:
    """Keep what was sent as a note, then move the suggestion to "answered" when the workflow leads there
    (new and forwarded pass through "in review"); False when the status stayed as it was."""
    add_note(engine, suggestion.id, note, staff_id=staff_id, staff_email=staff_email)
    current = suggestion.status
    for step in PATH_TO_ANSWERED.get(current, ()):
        try:
            change_status(engine, suggestion.id, step, staff_id=staff_id, staff_email=staff_email)
        except TransitionError:  # someone changed it meanwhile: leave it as they left it
            return False
        current = step
    return current == "answered"


@requires(*ROLES)
async def reply_send(request: Request) -> Response:
    desk = desk_of(request)
    suggestion = await _suggestion(request)
    if suggestion is None:
        return _not_found(request)
    form = await request.form()
    back = safe_back(form.get("volver"))
    typed = _field(form, "respuesta", REPLY_MAX * 4)
    body = clean_text(typed)

    def refuse(status: int, message: str) -> Any:
        drafts = Drafts(reply=typed[:REPLY_MAX * 2], errors={"reply": message})
        return _detail_response(request, suggestion, status=status, back=back, drafts=drafts, error=message)

    blocked = reply_blocked(suggestion)
    if blocked:
        return await refuse(409, f"No se puede responder a esta sugerencia: {blocked}")
    if not body or len(body) > REPLY_MAX:
        return await refuse(400, f"La respuesta tiene entre 1 y {REPLY_MAX:,} caracteres.".replace(",", "."))
    sent = reply_text(suggestion.reference, body)
    note = reply_note(suggestion.channel, sent)
    if any(n.get("text") == note for n in suggestion.notes):
        return await refuse(409, "Esta misma respuesta ya se envió a la persona (vea las notas).")
    try:
        await deliver(RasaEndpoint.from_env(), suggestion.sender_id or "", suggestion.reference, sent,
                      channel=suggestion.channel)
    except ReplyError as exc:
        return await refuse(exc.status, exc.message)
    user = request.state.user
    try:
        answered = await desk.run(record_reply, desk.engine, suggestion, note, user.id, user.email)
    except Exception:
        log.exception("desk: a reply to %s was delivered but could not be recorded", suggestion.reference)
        return error_response(request, 500, "La respuesta se envió a la persona, pero no se pudo registrar en la sugerencia. "
                                            "Añada una nota con el texto enviado y avise al equipo técnico.")
    log.info("desk: %s replied to %s on %s", user.email, suggestion.reference, suggestion.channel)
    return _done(suggestion, "respuesta" if answered else "respuesta_sin_estado", back)


# export ------------------------------------------------------------------------------------------

@requires(*ROLES)
async def export_download(request: Request) -> Response:
    desk = desk_of(request)
    fmt = _text(request.query_params, "formato", 10)
    if fmt not in MEDIA_TYPES:
        return error_response(request, 400, "Elija el formato de la exportación: CSV o JSON.")
    filters, errors = parse_filters(request.query_params)
    if errors:
        return error_response(request, 400, " ".join(errors))
    user = request.state.user
    include_contact = user.has_any([CONTACT_ROLE])
    criteria = replace(filters, page=1).criteria()
    log.info("desk: %s exports suggestions as %s (filters %s, contact %s)", user.email, fmt, filters.params() or "none",
             "included" if include_contact else "left out")
    stamp = clock.now().astimezone(dates.LIMA).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        stream_export(desk.engine, fmt, include_contact=include_contact, criteria=criteria,
                      prefix=CSV_BOM if fmt == "csv" else b""),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="sugerencias-{stamp}.{fmt}"'},
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/sugerencias", list_page, methods=["GET"], name="suggestions"),
        Route("/sugerencias/exportar", export_download, methods=["GET"], name="suggestions_export"),
        Route("/sugerencias/{reference}", detail_page, methods=["GET"], name="suggestion"),
        Route("/sugerencias/{reference}/estado", status_change, methods=["POST"], name="suggestion_status"),
        Route("/sugerencias/{reference}/etiquetas", tag_add, methods=["POST"], name="suggestion_tag_add"),
        Route("/sugerencias/{reference}/etiquetas/quitar", tag_remove, methods=["POST"], name="suggestion_tag_remove"),
        Route("/sugerencias/{reference}/notas", note_add, methods=["POST"], name="suggestion_note"),
        Route("/sugerencias/{reference}/respuesta", reply_send, methods=["POST"], name="suggestion_reply"),
    ]

"""The offices, for supervisors: the ministry in Lima and the regional offices that join (bot/offices).

    GET  /oficinas                    the offices (regions, hours, advisors) and the form for a new one
    POST /oficinas                    create an office (code, name, regions, hours)
    GET  /oficinas/{codigo}           one office: its name, regions, hours and state, and its accounts
    POST /oficinas/{codigo}           save the name, regions, hours, active (the main office stays active)
    POST /oficinas/{codigo}/cuentas   which active advisors and supervisors belong to it

HTML forms with the session's CSRF token (bot.desk.access), as the other pages; after a change the
browser goes to the office's page (?hecho=… says what was done). Input the office cannot take is the
form again with the reason, status 400.
"""

from __future__ import annotations

import logging
import os

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.desk.access import requires
from bot.desk.accounts import Accounts, DeskUser
from bot.desk.errors import error_response
from bot.desk.services import desk_of
from bot.offices import regions
from bot.offices.directory import HOURS_EXAMPLE, Office, OfficeError, Offices
from bot.offices.hours import DEFAULT_HOURS, HoursError, OfficeHours
from bot.text import whole_number

log = logging.getLogger(__name__)

ROLE = "supervisor"
PATH = "/oficinas"
MEMBER_ROLES = ("advisor", "supervisor")
DONE = {"creada": "Oficina creada. Indique ahora qué cuentas trabajan en ella.", "guardada": "Cambios guardados.",
        "cuentas": "Cuentas de la oficina guardadas."}
FIELD_LIMIT = 400


def _field(form: FormData, name: str, limit: int = FIELD_LIMIT) -> str:
    """A one-line value without control characters (PostgreSQL refuses NUL)."""
    raw = str(form.get(name) or "")[: limit * 4]
    return " ".join("".join(ch if ch.isprintable() else " " for ch in raw).split())[:limit]


def _region_choices(form: FormData) -> list[str]:
    return [" ".join(str(v).split())[:60] for v in form.getlist("regiones") if str(v).strip()]


def describe_hours(spec: str | None) -> str:
    """ "de lunes a viernes de 8:30 a 16:30" for a spec; the spec itself if it cannot be read."""
    try:
        return OfficeHours.parse(spec or DEFAULT_HOURS).describe("es")
    except HoursError:
        return spec or ""


def service_hours() -> str:
    return os.environ.get("HANDOFF_OFFICE_HOURS", "").strip() or DEFAULT_HOURS


def members_of(user: DeskUser) -> bool:
    """The accounts an office can have: active advisors and supervisors."""
    return user.active and user.has_any(MEMBER_ROLES)


def _served(offices: list[Office]) -> dict[str, list[str]]:
    """Region slug → the active offices serving it (shown beside the regions' checkboxes)."""
    served: dict[str, list[str]] = {}
    for office in offices:
        if office.active:
            for region in office.regions:
                served.setdefault(region, []).append(office.name)
    return served


def _overview(engine) -> dict:  # noqa: ANN001
    directory = Offices(engine)
    offices = directory.all()
    return {"offices": offices, "counts": directory.member_counts(), "served": _served(offices)}


def _office_page(engine, office: Office) -> dict:  # noqa: ANN001
    directory = Offices(engine)
    accounts = [u for u in Accounts(engine).all() if members_of(u)]
    others = {u.id: [o.name for o in directory.of_user(u.id) if o.id != office.id] for u in accounts}
    return {"office": office, "accounts": accounts, "members": set(directory.members(office.id)), "others": others,
            "served": _served(directory.all())}


def _view(**context: object) -> dict:
    return {"region_names": regions.REGIONS, "region_label": regions.name, "describe_hours": describe_hours,
            "service_hours": service_hours(), "hours_example": HOURS_EXAMPLE, "error": None, "done": None, **context}


async def _list(request: Request, status: int = 200, form: dict | None = None, error: str | None = None) -> Response:
    desk = desk_of(request)
    context = await desk.run(_overview, desk.engine)
    blank = {"slug": "", "name": "", "regions": [], "hours": ""}
    return desk.templates.TemplateResponse(request, "offices/index.html", _view(**context, form=form or blank, error=error),
                                           status_code=status)


async def _detail(request: Request, office: Office, status: int = 200, form: dict | None = None,
                  error: str | None = None) -> Response:
    desk = desk_of(request)
    context = await desk.run(_office_page, desk.engine, office)
    shown = form or {"name": office.name, "regions": list(office.regions), "hours": office.hours or "", "active": office.active}
    done = DONE.get(request.query_params.get("hecho", "")) if status == 200 else None
    return desk.templates.TemplateResponse(request, "offices/office.html", _view(**context, form=shown, error=error, done=done),
                                           status_code=status)


async def _find(request: Request) -> Office | None:
    desk = desk_of(request)
    slug = request.path_params["slug"][:60]
    return await desk.run(Offices(desk.engine).by_slug, slug)


@requires(ROLE)
async def list_page(request: Request) -> Response:
    return await _list(request)


@requires(ROLE)
async def create(request: Request) -> Response:
    form = await request.form()
    values = {"slug": _field(form, "codigo", 60), "name": _field(form, "nombre"), "regions": _region_choices(form),
              "hours": _field(form, "horario")}
    desk, user = desk_of(request), request.state.user
    try:
        office = await desk.run(lambda: Offices(desk.engine).create(values["slug"], values["name"], values["regions"],
                                                                    values["hours"]))
    except OfficeError as exc:
        return await _list(request, 400, form=values, error=str(exc))
    log.info("desk: office %s created by %s", office.slug, user.email)
    return RedirectResponse(f"{PATH}/{office.slug}?hecho=creada", status_code=303)


@requires(ROLE)
async def office_page(request: Request) -> Response:
    office = await _find(request)
    if office is None:
        return error_response(request, 404, "Esa oficina no existe.")
    return await _detail(request, office)


@requires(ROLE)
async def save(request: Request) -> Response:
    office = await _find(request)
    if office is None:
        return error_response(request, 404, "Esa oficina no existe.")
    form = await request.form()
    state = _field(form, "activa", 10)
    active = {"si": True, "no": False}.get(state)
    values = {"name": _field(form, "nombre"), "regions": _region_choices(form), "hours": _field(form, "horario"),
              "active": office.active if active is None else active}
    desk, user = desk_of(request), request.state.user
    try:
        if state and active is None:
            raise OfficeError("Elija si la oficina está activa o no.")
        saved = await desk.run(lambda: Offices(desk.engine).update(office.id, name=values["name"], region_list=values["regions"],
                                                                   hours=values["hours"], active=active))
    except OfficeError as exc:
        return await _detail(request, office, 400, form=values, error=str(exc))
    log.info("desk: office %s changed by %s", saved.slug, user.email)
    return RedirectResponse(f"{PATH}/{saved.slug}?hecho=guardada", status_code=303)


@requires(ROLE)
async def save_members(request: Request) -> Response:
    office = await _find(request)
    if office is None:
        return error_response(request, 404, "Esa oficina no existe.")
    form = await request.form()
    chosen = [str(v).strip() for v in form.getlist("cuenta")]
    desk, user = desk_of(request), request.state.user
    try:
        if not all(whole_number(v, 11) is not None for v in chosen):
            raise OfficeError("Alguna de esas cuentas no existe o está desactivada.")
        eligible = [u.id for u in await desk.run(desk.accounts.all) if members_of(u)]
        await desk.run(lambda: Offices(desk.engine).set_members(office.id, [int(v) for v in chosen], among=eligible))
    except OfficeError as exc:
        return await _detail(request, office, 400, error=str(exc))
    log.info("desk: accounts of office %s set by %s (%d)", office.slug, user.email, len(set(chosen)))
    return RedirectResponse(f"{PATH}/{office.slug}?hecho=cuentas", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route(PATH, list_page, methods=["GET"], name="offices"),
        Route(PATH, create, methods=["POST"], name="offices_create"),
        Route(PATH + "/{slug}", office_page, methods=["GET"], name="office"),
        Route(PATH + "/{slug}", save, methods=["POST"], name="office_save"),
        Route(PATH + "/{slug}/cuentas", save_members, methods=["POST"], name="office_members"),
    ]

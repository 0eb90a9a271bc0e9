"""The staff's accounts, for supervisors: who has which roles, works in which offices, and may log in.

    GET  /cuentas                   every account: name, e-mail, roles, offices, state, second factor, last login
    GET  /cuentas/{id}              one account and its three forms
    POST /cuentas/{id}/roles        its roles (checkboxes of bot.desk.accounts.ROLES, at least one)
    POST /cuentas/{id}/oficinas     its offices (checkboxes of the active offices; inactive ones it has are kept)
    POST /cuentas/{id}/estado       enable or disable it (disabling ends its sessions at once)

No account is created here, and no second factor is shown or changed: an administrator does both with
`infomigra desk create-user` (which prints the second factor's secret) and `reset-totp` on the server, so
a stolen supervisor's password alone never makes an account nor enrols a phone (bot.desk.accounts).

The rules that keep the desk manageable live in `Accounts.set_roles` / `set_enabled`: a supervisor
cannot disable their own account nor take away their own supervision, and the last active supervisor
keeps both. Every change is logged at INFO with the acting account's id and the target's ("desk audit:
…"); the desk has no audit table for accounts (privacy_erasures records erasures only).

HTML forms with the session's CSRF token, as the other pages; after a change the browser goes to the
account's page (?hecho=… says what was done); a refused change is the page again with the reason (400).
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.desk.access import requires
from bot.desk.accounts import ROLE_LABELS, ROLES, AccountError, Accounts, DeskUser
from bot.desk.errors import error_response
from bot.desk.services import desk_of
from bot.offices.directory import OfficeError, Offices
from bot.suggestions.dates import LIMA
from bot.text import whole_number

log = logging.getLogger(__name__)

ROLE = "supervisor"
PATH = "/cuentas"
CREATE_COMMAND = "infomigra desk create-user --email … --name … --role advisor [--office …]"
DONE = {"roles": "Roles guardados.", "oficinas": "Oficinas guardadas.",
        "desactivada": "Cuenta desactivada: sus sesiones abiertas terminaron.", "activada": "Cuenta activada."}
ROLE_HINTS = {"advisor": "atiende la cola, la ventanilla y los pedidos de datos personales",
              "supervisor": "además ve contactos, informes, oficinas y cuentas; necesita segundo factor",
              "reviewer": "revisa las sugerencias"}
NOT_FOUND = "Esa cuenta no existe."


def lima_time(value) -> str:  # noqa: ANN001
    return value.astimezone(LIMA).strftime("%d/%m/%Y %H:%M") if value else ""


def _overview(engine) -> dict:  # noqa: ANN001
    directory = Offices(engine)
    accounts = Accounts(engine).all()
    return {"accounts": accounts, "offices": {u.id: [o.name for o in directory.of_user(u.id)] for u in accounts}}


def _account_page(engine, account: DeskUser) -> dict:  # noqa: ANN001
    directory = Offices(engine)
    return {"account": account, "offices": directory.all(active_only=True),
            "mine": {o.id for o in directory.of_user(account.id)},
            "kept": [o.name for o in directory.of_user(account.id) if not o.active]}


def _view(**context: object) -> dict:
    return {"roles": ROLES, "labels": ROLE_LABELS, "role_hints": ROLE_HINTS, "lima_time": lima_time,
            "create_command": CREATE_COMMAND, "error": None, "done": None, **context}


async def _find(request: Request) -> DeskUser | None:
    user_id = whole_number(str(request.path_params["user_id"]), 9)  # an int column: longer names none
    if user_id is None:
        return None
    desk = desk_of(request)
    return await desk.run(desk.accounts.by_id, user_id)


async def _detail(request: Request, account: DeskUser, status: int = 200, error: str | None = None) -> Response:
    desk = desk_of(request)
    context = await desk.run(_account_page, desk.engine, account)
    done = DONE.get(request.query_params.get("hecho", "")) if status == 200 else None
    return desk.templates.TemplateResponse(request, "staff/account.html", _view(**context, error=error, done=done),
                                           status_code=status)


def _audit(request: Request, what: str, account: DeskUser, detail: str) -> None:
    actor = request.state.user
    log.info("desk audit: account %d %s by account %d (%s)", account.id, what, actor.id, detail)


@requires(ROLE)
async def list_page(request: Request) -> Response:
    desk = desk_of(request)
    context = await desk.run(_overview, desk.engine)
    return desk.templates.TemplateResponse(request, "staff/index.html", _view(**context))


@requires(ROLE)
async def account_page(request: Request) -> Response:
    account = await _find(request)
    if account is None:
        return error_response(request, 404, NOT_FOUND)
    return await _detail(request, account)


@requires(ROLE)
async def save_roles(request: Request) -> Response:
    account = await _find(request)
    if account is None:
        return error_response(request, 404, NOT_FOUND)
    chosen = [str(v)[:40] for v in (await request.form()).getlist("rol")]
    desk, actor = desk_of(request), request.state.user
    try:
        saved = await desk.run(lambda: desk.accounts.set_roles(account.id, chosen, by=actor.id))
    except AccountError as exc:
        return await _detail(request, account, 400, error=str(exc))
    _audit(request, "roles set", saved, f"{' '.join(sorted(account.roles))} -> {' '.join(sorted(saved.roles))}")
    return RedirectResponse(f"{PATH}/{account.id}?hecho=roles", status_code=303)


@requires(ROLE)
async def save_offices(request: Request) -> Response:
    account = await _find(request)
    if account is None:
        return error_response(request, 404, NOT_FOUND)
    chosen = [whole_number(str(v), 9) for v in (await request.form()).getlist("oficina")]
    desk = desk_of(request)
    try:
        wanted = await desk.run(Offices(desk.engine).set_active_offices, account.id, chosen)
    except OfficeError as exc:
        return await _detail(request, account, 400, error=str(exc))
    _audit(request, "offices set", account, f"office ids {wanted}")
    return RedirectResponse(f"{PATH}/{account.id}?hecho=oficinas", status_code=303)


@requires(ROLE)
async def save_state(request: Request) -> Response:
    account = await _find(request)
    if account is None:
        return error_response(request, 404, NOT_FOUND)
    active = {"si": True, "no": False}.get(str((await request.form()).get("activa") or "")[:10])
    desk, actor = desk_of(request), request.state.user
    try:
        if active is None:
            raise AccountError("Elija si la cuenta queda activa o desactivada.")
        saved = await desk.run(lambda: desk.accounts.set_enabled(account.id, active, by=actor.id))
    except AccountError as exc:
        return await _detail(request, account, 400, error=str(exc))
    _audit(request, "enabled" if active else "disabled (sessions ended)", saved, f"was {'active' if account.active else 'disabled'}")
    return RedirectResponse(f"{PATH}/{account.id}?hecho={'activada' if active else 'desactivada'}", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route(PATH, list_page, methods=["GET"], name="staff"),
        Route(PATH + "/{user_id}", account_page, methods=["GET"], name="staff_account"),
        Route(PATH + "/{user_id}/roles", save_roles, methods=["POST"], name="staff_roles"),
        Route(PATH + "/{user_id}/oficinas", save_offices, methods=["POST"], name="staff_offices"),
        Route(PATH + "/{user_id}/estado", save_state, methods=["POST"], name="staff_state"),
    ]

"""The monthly reports in the desk (role supervisor only).

    GET  /informes                    the last 12 months and any other month with a report: generated when, links
    GET  /informes/{YYYY-MM}          the report itself (its own HTML file, served with a strict CSP of its own)
    GET  /informes/{YYYY-MM}/html     the same file, as a download
    GET  /informes/{YYYY-MM}/csv      every table of the report as CSV files, in one ZIP
    POST /informes/{YYYY-MM}/generar  build (or rebuild) the month's report now (bot.report), then back to the list

Reports live in REPORTS_DIR (default var/reports), one folder per month, as `infomigra report` writes
them; Rasa's conversations are read from TRACKER_DATABASE_URL or the tracker store of endpoints.yml.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.desk.access import requires
from bot.desk.errors import error_response
from bot.desk.services import desk_of
from bot.report.build import month_name
from bot.report.html import style_hashes
from bot.report.output import html_name, reports_dir, zip_csv
from bot.report.tracker import TrackerStoreError
from bot.store import clock
from bot.suggestions import dates

log = logging.getLogger(__name__)

ROLE = "supervisor"
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
RECENT = 12
NOT_FOUND = "No hay un informe de ese mes. Genérelo desde la lista de informes."
BUSY = "Ya se está generando un informe. Espere un momento e inténtelo de nuevo."
_building = threading.Lock()


def _current_month() -> dt.date:
    return clock.now().astimezone(dates.LIMA).date().replace(day=1)


def _month(request: Request) -> str | None:
    """The month of the path, if it is a valid month that has begun."""
    value = str(request.path_params.get("month", ""))
    if not MONTH.match(value):
        return None
    return value if dates.parse_month(value) <= _current_month() else None


def _folder(month: str) -> Path:
    return reports_dir() / month


def _html(month: str) -> Path:
    return _folder(month) / html_name(month)


def _entries(done: str | None = None) -> list[dict]:
    current = _current_month()
    months = {f"{dates.add_months(current, -i):%Y-%m}" for i in range(RECENT)}
    if reports_dir().is_dir():
        months |= {p.name for p in reports_dir().iterdir() if p.is_dir() and MONTH.match(p.name) and _html(p.name).exists()}
    entries = []
    for month in sorted(months, reverse=True):
        path = _html(month)
        built = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).astimezone(dates.LIMA) if path.exists() else None
        entries.append({"month": month, "label": month_name(dates.parse_month(month)).capitalize(),
                        "current": month == f"{current:%Y-%m}", "built": built, "done": month == done})
    return entries


def _list(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    done = request.query_params.get("hecho")
    context = {"entries": _entries(done if done and MONTH.match(done) else None), "error": error}
    return desk_of(request).templates.TemplateResponse(request, "reports.html", context, status_code=status)


@requires(ROLE)
async def list_page(request: Request) -> Response:
    return _list(request)


@requires(ROLE)
async def view(request: Request) -> Response:
    month = _month(request)
    if month is None or not _html(month).exists():
        return error_response(request, 404, NOT_FOUND)
    html = await desk_of(request).run(_html(month).read_text, "utf-8")
    # The report is a document of its own: inline styles (allowed by their hash) and data: images, no scripts.
    styles = " ".join(style_hashes(html)) or "'none'"
    policy = f"default-src 'none'; style-src {styles}; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    return Response(html, media_type="text/html; charset=utf-8", headers={"content-security-policy": policy})


@requires(ROLE)
async def download_html(request: Request) -> Response:
    month = _month(request)
    if month is None or not _html(month).exists():
        return error_response(request, 404, NOT_FOUND)
    return FileResponse(_html(month), media_type="text/html; charset=utf-8", filename=html_name(month))


@requires(ROLE)
async def download_csv(request: Request) -> Response:
    month = _month(request)
    if month is None or not _html(month).exists():
        return error_response(request, 404, NOT_FOUND)
    data = await desk_of(request).run(zip_csv, _folder(month))
    return Response(data, media_type="application/zip",
                    headers={"content-disposition": f'attachment; filename="informe-{month}-tablas.zip"'})


def _generate(month: str, engine) -> None:  # noqa: ANN001
    from bot.report.cli import generate

    if not _building.acquire(blocking=False):
        raise BlockingIOError(BUSY)
    try:
        generate(month, _folder(month), engine=engine)
    finally:
        _building.release()


@requires(ROLE)
async def build(request: Request) -> Response:
    month = _month(request)
    if month is None:
        return error_response(request, 404, "Ese mes no es válido o todavía no empezó.")
    desk = desk_of(request)
    try:
        await desk.run(_generate, month, desk.engine)
    except BlockingIOError:
        return _list(request, error=BUSY, status=409)
    except TrackerStoreError as exc:
        log.warning("desk: report %s: %s", month, exc)
        return _list(request, error="No se pudo leer las conversaciones del asistente (tracker store). "
                                    "Revise TRACKER_DATABASE_URL o endpoints.yml.", status=503)
    except (SQLAlchemyError, OSError) as exc:
        log.exception("desk: report %s failed", month, exc_info=exc)
        return _list(request, error="No se pudo generar el informe. Inténtelo de nuevo en unos minutos.", status=503)
    user = request.state.user
    log.info("desk: report %s generated by %s", month, user.email)
    return RedirectResponse(f"/informes?hecho={month}#m-{month}", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/informes", list_page, methods=["GET"], name="reports"),
        Route("/informes/{month}", view, methods=["GET"], name="report"),
        Route("/informes/{month}/html", download_html, methods=["GET"], name="report_html"),
        Route("/informes/{month}/csv", download_csv, methods=["GET"], name="report_csv"),
        Route("/informes/{month}/generar", build, methods=["POST"], name="report_build"),
    ]

"""Every door of the service in one desk, end to end with real servers: a supervisor adds a regional office
in Chromium (/oficinas) and gives it an advisor; an e-mail naming that region lands in that office's
queue and not in Lima's (Dovecot, the desk's worker, aiosmtpd for the acknowledgement with the office's
hours); a walk-in is recorded at the window; and the month's report, generated in the desk, shows the
e-mails and the window beside the chats, by office.

Screenshots: results/screenshots/offices-*.png, every-door-report.png.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from bot.store.clock import now
from bot.suggestions import dates
from tests.e2e.test_desk_login import browser_login, running_desk
from tests.e2e.test_handoff_web import SCREENSHOTS, browser, desk_client, watch  # noqa: F401 (fixture)
from tests.mail_servers import imap_server, mail_env, smtp_server
from tests.unit.test_mail_mailbox import deliver

pytestmark = pytest.mark.e2e

ACCOUNTS = {"julia.supervisora@example.org": ("Julia Supervisora", ["advisor", "supervisor"]),
            "ana.asesora@example.org": ("Ana Quispe Mamani", ["advisor"]),
            "beto.cusco@example.org": ("Beto Ramos", ["advisor"])}
CUSCO = "Dirección Regional de Trabajo del Cusco"


@pytest.fixture
def service(tmp_path):
    """The desk with the e-mail door on real servers and the reports in a folder; yields (desk, imap, smtp)."""
    with imap_server() as imap, smtp_server() as smtp:
        database = f"sqlite:///{tmp_path / 'desk' / 'desk.db'}"
        env = {**mail_env(imap, smtp), "DATABASE_URL": database, "TRACKER_DATABASE_URL": database,
               "REPORTS_DIR": str(tmp_path / "reports"), "HANDOFF_WORKER_SECONDS": "0.5",
               "HANDOFF_OFFICE_HOURS": "lun-dom 00:00-24:00"}
        with running_desk(tmp_path / "desk", ACCOUNTS, env) as desk:
            yield desk, imap, smtp


def waiting_subjects(client) -> set[str]:
    return {t["preview"].split("\n")[0] for t in client.get("/api/cola").json()["waiting"]}


def eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)
    return value


def test_a_regional_office_its_queue_an_email_a_walk_in_and_the_report_of_every_door(service, browser):  # noqa: F811
    desk, imap, smtp = service
    errors: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = watch(browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-PE").new_page(), errors)
    page.goto(f"{desk.url}/oficinas")
    browser_login(page, desk, "julia.supervisora@example.org")
    expect(page.get_by_role("heading", name="Oficinas", exact=True)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Sede central"))).to_contain_text("Principal")

    page.get_by_label("Código").fill("cusco")
    page.get_by_label("Nombre").fill(CUSCO)
    page.get_by_role("checkbox", name="Cusco").check()
    page.get_by_role("checkbox", name="Apurímac").check()
    page.get_by_label("Horario de atención").fill("lun-vie 07:30-15:30")
    page.get_by_role("button", name="Crear oficina").click()
    expect(page.get_by_role("heading", name=CUSCO)).to_be_visible()
    page.get_by_role("checkbox", name=re.compile("Beto Ramos")).check()
    page.get_by_role("button", name="Guardar cuentas").click()
    expect(page.get_by_role("checkbox", name=re.compile("Beto Ramos"))).to_be_checked()
    page.goto(f"{desk.url}/oficinas")
    row = page.get_by_role("row", name=re.compile(CUSCO))
    expect(row).to_contain_text("Apurímac, Cusco")
    expect(row).to_contain_text("de lunes a viernes de 7:30 a 15:30")
    page.screenshot(path=str(SCREENSHOTS / "offices-list.png"), full_page=True)

    deliver(imap, "Buenas, soy de Andahuaylas y quiero volver al Perú con mis ahorros. ¿Qué beneficios hay?",
            subject="Retorno al Perú")
    deliver(imap, "Trabajo en Santiago de Chile y mi empleador no me paga las horas extra.", subject="Horas extra")
    acks = eventually(lambda: smtp.received if len(smtp.received) == 2 else None)
    hours = {m["Subject"].split(" [")[0]: m.get_body(("plain",)).get_content() for m in acks}
    assert "de lunes a viernes de 7:30 a 15:30" in hours["Re: Retorno al Perú"]  # the Cusco office's own hours
    assert "de lunes a viernes de 7:30 a 15:30" not in hours["Re: Horas extra"]

    with desk_client(desk, "ana.asesora@example.org") as ana, desk_client(desk, "beto.cusco@example.org") as beto:
        assert waiting_subjects(ana) == {"Asunto: Horas extra"}  # Lima's queue only
        assert waiting_subjects(beto) == {"Asunto: Retorno al Perú", "Asunto: Horas extra"}  # Cusco and Lima
        walk_in = ana.post("/api/ventanilla/registros", json={"line": "retorno", "topics": ["ahorros"],
                                                              "articles": ["retorno/ley-incentivos"]})
        assert walk_in.status_code == 201, walk_in.text
        assert walk_in.json()["visit"]["office"] == "Sede central (Lima)"  # the window of the advisor's office

    page.goto(f"{desk.url}/cola")
    page.get_by_label("Oficina").select_option(label=CUSCO)
    waiting = page.locator("#q-waiting tbody tr")
    expect(waiting).to_have_count(1)
    expect(waiting.first).to_contain_text("Retorno al Perú")
    expect(waiting.first.locator(".q-office-name")).to_have_text(CUSCO)

    month = now().astimezone(dates.LIMA).strftime("%Y-%m")
    page.goto(f"{desk.url}/informes")
    report_row = page.locator(f"#m-{month}")
    report_row.get_by_role("button", name="Generar").click()
    expect(report_row).to_contain_text("recién generado", timeout=60_000)
    report_row.get_by_role("link", name="Ver").click()
    doors = page.locator("#t-puertas tbody")
    expect(doors.get_by_role("row", name=re.compile("Correo electrónico"))).to_contain_text("<5")  # two, hidden as small
    expect(doors.get_by_role("row", name=re.compile(r"Ventanilla \(presencial\)"))).to_contain_text("<5")
    expect(doors.get_by_role("row", name=re.compile("WhatsApp")).locator("td").nth(1)).to_have_text("0")
    by_office = page.locator("#t-puertas-por-oficina tbody")
    expect(by_office.get_by_role("row", name=re.compile(CUSCO))).to_be_visible()
    expect(by_office.get_by_role("row", name=re.compile("Sede central"))).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "every-door-report.png"), full_page=True)
    assert errors == []

"""The Ventanilla end to end, every part real: the desk (`infomigra desk serve`) with the service's SMTP
settings pointing at aiosmtpd (tests/mail_servers.py), and an advisor at a window in Chromium: records a
walk-in through the form (an article searched and picked, consent ticked, an e-mail given), opens the
sheet, prints it to PDF (A4) and sends the articles by e-mail, which the server first refuses (451) and
takes when the advisor tries again.

Output: results/window/hoja-<reference>.pdf and results/screenshots/window-*.png.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from playwright.sync_api import expect

from tests.e2e.test_desk_login import INFOMIGRA, browser_login, running_desk
from tests.e2e.test_handoff_web import SCREENSHOTS, browser, watch  # noqa: F401 (fixture)
from tests.mail_servers import SERVICE_ADDRESS, smtp_server
from tests.stack import ROOT

pytestmark = pytest.mark.e2e

ACCOUNTS = {"ana.asesora@example.org": ("Ana Quispe Mamani", ["advisor"])}
TITLE = "Trabajar en España: visados y permisos"
EMAIL = "rosa.ventanilla@example.pe"
OFFICE = "Ventanilla Lima Centro"
SERVICE_NUMBER = "+51999888777"
PDFS = ROOT / "results" / "window"


@pytest.fixture
def window_desk(tmp_path):
    """The desk sending through a real SMTP server (the e-mail door itself off); yields (desk, smtp)."""
    with smtp_server() as smtp:
        env = {"MAIL_SMTP_HOST": smtp.host, "MAIL_SMTP_PORT": str(smtp.port), "MAIL_SMTP_SECURITY": "none",
               "MAIL_SMTP_USER": "", "MAIL_ADDRESS": SERVICE_ADDRESS, "MAIL_TIMEOUT_SECONDS": "10", "MAIL_IMAP_HOST": "",
               "INFOMIGRA_CONTACT_EMAIL": SERVICE_ADDRESS,
               # WhatsApp without an approved template: the articles go only to a person who wrote in the last 24 h
               "WINDOW_WHATSAPP_TEMPLATE_SID": "", "TWILIO_WHATSAPP_NUMBER": f"whatsapp:{SERVICE_NUMBER}",
               "RASA_URL": "http://127.0.0.1:9", "RASA_JWT_SECRET": "s" * 32}
        with running_desk(tmp_path / "desk", ACCOUNTS, env) as desk:
            for command in (["add-office", "--slug", "lima-centro", "--name", OFFICE, "--regions", "Lima"],
                            ["set-offices", "--email", "ana.asesora@example.org", "--office", "lima-centro"]):
                subprocess.run([INFOMIGRA, "desk", *command], cwd=ROOT, env=desk.env, check=True, capture_output=True)
            yield desk, smtp


def test_a_walk_in_is_recorded_printed_to_pdf_and_emailed(window_desk, browser):  # noqa: F811
    desk, smtp = window_desk
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 860}, locale="es-PE")
    page = watch(context.new_page(), errors)
    page.goto(f"{desk.url}/ventanilla")
    browser_login(page, desk, "ana.asesora@example.org")
    expect(page.get_by_role("heading", name="Ventanilla", exact=True)).to_be_visible()
    expect(page.get_by_text(OFFICE)).to_be_visible()

    page.get_by_label("Línea de acción").select_option("emigrar")
    page.get_by_label("País").select_option("espana")
    page.get_by_label("Tema: uno de la base de conocimiento o una etiqueta libre").fill("contrato de trabajo")
    page.get_by_role("button", name="Añadir tema").click()
    expect(page.get_by_role("list", name="Temas elegidos")).to_contain_text("contrato de trabajo")
    page.get_by_label("Buscar en la base de conocimiento").fill("contrato de trabajo en España")
    with context.expect_page() as reading:  # the advisor opens the article to read it with the person
        page.get_by_role("link", name=f"Abrir el artículo: {TITLE}").click()
    article = watch(reading.value, errors)
    expect(article.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(article.get_by_text("Actualizado:")).to_be_visible()
    article.close()
    page.get_by_role("button", name=f"Elegir el artículo: {TITLE}").click()
    expect(page.get_by_role("list", name="Artículos elegidos")).to_contain_text(TITLE)
    expect(page.get_by_role("button", name=f"Elegido: {TITLE}")).to_be_disabled()
    email_box = page.get_by_label("Correo electrónico")
    expect(email_box).to_be_disabled()  # no contact without consent
    page.get_by_label("La persona acepta que guardemos su correo o WhatsApp para enviarle esta información").check()
    email_box.fill(EMAIL)
    page.get_by_role("button", name="Registrar atención").click()

    done = page.get_by_role("region", name="Atención registrada")
    expect(done).to_be_visible()
    reference = done.locator("#w-done-reference").inner_text()
    assert re.fullmatch(r"VE-\d{4}-[2-9A-Z]{5}", reference)
    expect(page.get_by_role("table").get_by_role("link", name=reference)).to_be_visible()  # today's consultations
    expect(email_box).to_have_value("")  # the form is ready for the next person
    expect(done.get_by_role("button", name="Enviar por WhatsApp")).to_be_hidden()  # no number given
    expect(done.get_by_text("escriba «hola» al WhatsApp de INFOMIGRA")).to_be_hidden()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "window-recorded.png"), full_page=True)

    # the sheet, printed to PDF as the browser's print dialog would (A4, print styles)
    with context.expect_page() as opened:
        done.get_by_role("link", name="Abrir hoja para imprimir").click()
    sheet = watch(opened.value, errors)
    expect(sheet.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(sheet.get_by_text(f"Referencia: {reference}")).to_be_visible()
    expect(sheet.get_by_role("button", name="Imprimir o guardar como PDF")).to_be_visible()
    PDFS.mkdir(parents=True, exist_ok=True)
    pdf = PDFS / f"hoja-{reference}.pdf"
    sheet.pdf(path=str(pdf), format="A4", print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert TITLE in flat and reference in flat and "Actualizado:" in flat and OFFICE in flat
    assert f"Correo: {SERVICE_ADDRESS}" in flat
    assert "Cerrar sesión" not in flat and "Imprimir o guardar" not in flat  # nothing of the desk on paper
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+59\d\.\d+ x 84\d\.\d+ pts \(A4\)", info), info

    # by e-mail: the server refuses the first try, the advisor tries again
    smtp.refuse_next = 1
    send = done.get_by_role("button", name="Enviar por correo")
    send.click()
    status = done.get_by_role("status")
    expect(status).to_contain_text("No se pudo enviar el correo")
    expect(status).to_contain_text("puede volver a intentarlo")
    assert smtp.received == []
    done.get_by_role("button", name="Reintentar envío por correo").click()
    expect(status).to_contain_text("Enviado por correo el")
    [message] = smtp.received  # the desk answers once the server took it
    assert message["To"] == EMAIL and reference in message["Subject"]
    assert smtp.envelopes == [(SERVICE_ADDRESS, [EMAIL])]
    body = " ".join(message.get_body(("plain",)).get_content().split())
    assert TITLE in body and reference in body and "Actualizado:" in body
    assert TITLE in message.get_body(("html",)).get_content()
    expect(page.get_by_role("table").locator("tr", has_text=reference)).to_contain_text("Enviado")
    page.screenshot(path=str(SCREENSHOTS / "window-emailed.png"), full_page=True)

    # a walk-in who gives a WhatsApp number and has not written to the service: the advisor is told what to do
    page.get_by_label("Línea de acción").select_option("retorno")
    page.get_by_label("Buscar en la base de conocimiento").fill("contrato de trabajo en España")
    page.get_by_role("button", name=f"Elegir el artículo: {TITLE}").click()
    page.get_by_label("La persona acepta que guardemos su correo o WhatsApp para enviarle esta información").check()
    page.get_by_role("textbox", name="WhatsApp").fill("987 001 188")
    page.get_by_role("button", name="Registrar atención").click()
    expect(done.get_by_role("button", name="Enviar por correo")).to_be_hidden()
    note = done.locator("#w-whatsapp-note")
    expect(note).to_contain_text(f"escriba «hola» al WhatsApp de INFOMIGRA ({SERVICE_NUMBER})")
    done.get_by_role("button", name="Enviar por WhatsApp").click()
    expect(status).to_contain_text("no ha escrito al WhatsApp del servicio en las últimas 24 horas")
    expect(done.get_by_role("button", name="Enviar por WhatsApp")).to_be_enabled()  # to try again once they wrote
    expect(page.get_by_role("table").locator("tr").nth(1)).to_contain_text("Pendiente")
    page.screenshot(path=str(SCREENSHOTS / "window-whatsapp.png"), full_page=True)
    assert errors == []
    context.close()

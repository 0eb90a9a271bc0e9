"""The suggestions review in a real Chromium against the real desk process (`infomigra desk serve`, see
tests/e2e/test_desk_login.py::running_desk): a reviewer logs in, filters, opens a suggestion, moves it
to "en revisión", tags it, writes a note, reads the history and answers the person (through a local
stand-in for Rasa's events endpoint); the pages are checked at desktop and phone widths."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from playwright.sync_api import expect, sync_playwright

from bot.store.db import get_engine
from bot.suggestions import service
from tests.e2e.test_desk_login import CHROMIUM_ARGS, SCREENSHOTS, browser_login, running_desk
from tests.fakes.rasa_events import FakeRasa

TOKEN = "token-de-prueba-del-navegador"
ACCOUNTS = {"rolando@example.org": ("Rolando Revisor", ["reviewer"])}
UTC = dt.timezone.utc
# (channel, sender, kind, country, city, topic, text, contact, days ago)
SUGGESTIONS = [
    ("whatsapp", "whatsapp:+34612345678", "queja", "espana", "Madrid", "exterior",
     "Llevo un mes llamando al consulado en Madrid para renovar mi pasaporte y nadie contesta. "
     "Por correo me dicen que espere, pero mi contrato depende de tener el documento vigente.", "+34612345678", 0),
    ("telegram", "telegram:4242", "sugerencia", "espana", "Barcelona", "exterior",
     "Sería útil que el asistente explique cómo inscribirse en el registro de peruanos en el exterior.", None, 1),
    ("web", "web:5b1f0c9e-7a55-4d8e-9a57-0c7d2f1f9a10", "queja", "espana", "Valencia", "retorno",
     "Quiero volver al Perú el próximo año y no encuentro información clara sobre el bono de retorno laboral.",
     "maria.q@correo.pe", 2),
    ("whatsapp", "whatsapp:+56987654321", "inquietud", "chile", "Santiago", "exterior",
     "¿Qué hago si mi empleador no me paga las horas extra? Tengo contrato pero no sé a quién acudir.", None, 3),
    ("web", "web:1d9a3c44-0a3b-4a7e-8f7e-3c1e0b5d2a77", "reconocimiento", "italia", "Milán", "info",
     "Gracias por la orientación: pude validar mi título gracias a la información del panel.", None, 4),
    ("whatsapp", "whatsapp:+14155550123", "queja", "eeuu", "Paterson", "seguridad",
     "Una agencia me pidió dinero por una visa de trabajo que nunca llegó. Quiero denunciarla.", "+14155550123", 5),
    ("telegram", "telegram:777", "queja", "espana", None, "Atención en el consulado",
     "En la oficina consular de Sevilla no atienden los sábados y trabajo toda la semana.", None, 6),
]


def seed(database_url: str) -> list[str]:
    engine = get_engine(database_url)
    refs = []
    base = dt.datetime.now(UTC).replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    for n, (channel, sender, kind, country, city, topic, text, contact, days) in enumerate(SUGGESTIONS):
        at = base - dt.timedelta(days=days, minutes=37 * n)
        ref, _ = service.submit(engine, client_key=f"e2e-{n}", channel=channel, sender_id=sender, kind=kind, country=country,
                                city=city, topic=topic, text=text, contact=contact, consent_at=at, now=at)
        refs.append(ref)
    service.add_tag(engine, service.get(engine, refs[5]).id, "fraude")
    service.add_tag(engine, service.get(engine, refs[5]).id, "urgente")
    service.change_status(engine, service.get(engine, refs[4]).id, "in_review")
    engine.dispose()
    return refs


@pytest.fixture(scope="module")
def rasa():
    with FakeRasa(TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def desk(tmp_path_factory, rasa):
    with running_desk(tmp_path_factory.mktemp("desk-suggestions"), ACCOUNTS,
                      extra_env={"RASA_URL": rasa.url, "RASA_JWT_SECRET": TOKEN}) as running:
        running.refs = seed(running.env["DATABASE_URL"])
        yield running


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def test_a_reviewer_filters_opens_moves_tags_notes_and_answers_in_chromium(desk, rasa):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    refs = desk.refs
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-PE")
            page = context.new_page()
            problems: list[str] = []  # script errors and CSP refusals
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))

            page.goto(f"{desk.url}/sugerencias")
            assert "/login" in page.url
            browser_login(page, desk, "rolando@example.org")
            expect(page.get_by_role("heading", name="Sugerencias", exact=True)).to_be_visible()
            assert page.url == f"{desk.url}/sugerencias"
            rows = page.locator("table.sg-table tbody tr")
            expect(rows).to_have_count(len(SUGGESTIONS))
            expect(page.get_by_role("status").filter(has_text="Mostrando")).to_have_text("Mostrando 1–7 de 7")

            # filter: complaints from Spain
            page.get_by_label("País").select_option(label="España")
            page.get_by_label("Tipo").select_option(label="Queja")
            page.get_by_role("button", name="Filtrar").click()
            expect(rows).to_have_count(3)
            assert "pais=espana" in page.url and "tipo=queja" in page.url
            shown = [rows.nth(i).locator("th a").inner_text() for i in range(3)]
            assert shown == [refs[0], refs[2], refs[6]]  # newest first
            expect(page.get_by_text("con los filtros elegidos")).to_be_visible()
            csv_link = page.get_by_role("link", name="CSV")
            expect(csv_link).to_have_attribute("href", "/sugerencias/exportar?formato=csv&tipo=queja&pais=espana")
            expect(page.get_by_label("País")).to_have_value("espana")
            download = page.request.get(desk.url + csv_link.get_attribute("href"))  # streamed by the real server
            assert download.status == 200 and download.headers["content-type"] == "text/csv; charset=utf-8"
            exported = list(csv.DictReader(io.StringIO(download.body().decode("utf-8-sig"))))
            assert [r["reference"] for r in exported] == [refs[0], refs[2], refs[6]]  # in the order they were stored
            assert "contact" not in exported[0]  # a reviewer's export leaves the contact out
            assert no_horizontal_scroll(page)
            page.screenshot(path=str(SCREENSHOTS / "desk-suggestions-list.png"), full_page=True)

            # open the newest one
            page.get_by_role("link", name=refs[0]).click()
            expect(page.get_by_role("heading", level=1)).to_contain_text(refs[0])
            expect(page.locator(".sg-text")).to_contain_text("Llevo un mes llamando al consulado en Madrid")
            facts = page.locator(".sg-facts")
            expect(facts).not_to_contain_text("+34612345678")  # contacts: supervisors only
            expect(facts).to_contain_text("Dejó un contacto (solo lo ve supervisión)")
            assert "+34612345678" not in page.content() and "maria.q@correo.pe" not in page.content()
            expect(facts).to_contain_text("Madrid")
            expect(facts).to_contain_text("WhatsApp")
            expect(page.get_by_role("button", name="Archivar")).to_have_count(0)  # not allowed from "nueva"

            page.get_by_role("button", name="Pasar a «En revisión»").click()
            expect(page.get_by_role("status").filter(has_text="Estado actualizado.")).to_be_visible()
            expect(page.locator(".sg-title .sg-status")).to_have_text("En revisión")
            expect(page.get_by_role("button", name="Marcar como derivada")).to_be_visible()

            page.get_by_label("Nueva etiqueta").fill("Consulado")
            page.get_by_role("button", name="Añadir").click()
            expect(page.get_by_role("status").filter(has_text="Etiqueta añadida.")).to_be_visible()
            expect(page.get_by_role("button", name="Quitar la etiqueta consulado")).to_be_visible()
            page.get_by_label("Nueva etiqueta").fill("pasaporte")
            page.get_by_label("Nueva etiqueta").press("Enter")
            expect(page.get_by_role("button", name="Quitar la etiqueta pasaporte")).to_be_visible()

            page.get_by_label("Nueva nota").fill("Consultado con la oficina consular: atenderán su caso el lunes.")
            expect(page.locator(".sg-counter").last).to_contain_text("caracteres")
            page.get_by_role("button", name="Guardar nota").click()
            expect(page.get_by_role("status").filter(has_text="Nota guardada.")).to_be_visible()
            expect(page.locator(".sg-notes")).to_contain_text("atenderán su caso el lunes")

            history = page.locator(".sg-history")
            expect(history).to_contain_text("Recibida por WhatsApp")
            expect(history).to_contain_text("Estado: «Nueva» → «En revisión»")
            expect(history).to_contain_text("Etiqueta añadida: «consulado»")
            expect(history).to_contain_text("Nota interna añadida")
            expect(history).to_contain_text("rolando@example.org")
            assert no_horizontal_scroll(page)
            page.screenshot(path=str(SCREENSHOTS / "desk-suggestions-detail.png"), full_page=True)

            # answer the person: a confirmation first, then Rasa's events endpoint gets the reply
            page.get_by_label("Texto de la respuesta").fill("Hola: el consulado le atenderá el lunes a las 9:00. Lleve su DNI.")
            page.once("dialog", lambda dialog: dialog.dismiss())
            page.get_by_role("button", name="Enviar respuesta").click()
            page.wait_for_timeout(300)
            assert rasa.requests == []  # dismissed: nothing sent
            page.once("dialog", lambda dialog: dialog.accept())
            page.get_by_role("button", name="Enviar respuesta").click()
            expect(page.get_by_role("status").filter(has_text="Respuesta enviada a la persona y registrada")).to_be_visible()
            expect(page.locator(".sg-title .sg-status")).to_have_text("Respondida")
            assert len(rasa.requests) == 1
            call = rasa.requests[0]
            assert call["path"] == "/conversations/whatsapp:+34612345678/tracker/events"
            assert "token" not in call["query"] and call["query"]["output_channel"] == ["whatsapp"]  # the person's channel (60916b3)
            assert call["jwt"]["user"]["role"] == "admin"  # a JWT signed with RASA_JWT_SECRET, as Bearer
            assert call["body"]["text"].startswith(f"Respuesta a tu mensaje {refs[0]} ")
            assert call["body"]["metadata"] == {"source": "desk", "suggestion": refs[0]}
            expect(page.locator(".sg-history")).to_contain_text("Respuesta enviada a la persona")

            page.get_by_role("link", name="← Volver a la lista").click()
            assert "pais=espana" in page.url and "tipo=queja" in page.url
            expect(rows).to_have_count(3)
            expect(rows.first.locator(".sg-status")).to_have_text("Respondida")
            expect(rows.first.locator(".sg-tag")).to_have_text(["consulado", "pasaporte"])

            # phone width: one column, no sideways scrolling
            phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-PE", storage_state=context.storage_state())
            small = phone.new_page()
            small.on("pageerror", lambda error: problems.append(str(error)))
            small.goto(f"{desk.url}/sugerencias")
            expect(small.locator("table.sg-table tbody tr")).to_have_count(len(SUGGESTIONS))
            assert no_horizontal_scroll(small)
            small.screenshot(path=str(SCREENSHOTS / "desk-suggestions-phone-list.png"), full_page=True)
            small.goto(f"{desk.url}/sugerencias/{refs[5]}")
            expect(small.get_by_role("button", name="Pasar a «En revisión»")).to_be_visible()
            assert no_horizontal_scroll(small)
            small.screenshot(path=str(SCREENSHOTS / "desk-suggestions-phone-detail.png"), full_page=True)
            phone.close()
            assert problems == []
        finally:
            browser.close()

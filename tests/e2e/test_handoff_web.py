"""The handoff end to end with every process real: Rasa and the action server (running_stack), the
desk (`infomigra desk serve`, with its handoff worker) on the same database, and Chromium twice: the
person on the web widget of the demo page, the advisor logged into the desk in another context.

Screenshots: results/screenshots/handoff-*.png.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import update

from bot.handoff import messages as say
from bot.handoff.schema import handoff_messages
from bot.handoff.store import HandoffStore
from bot.store.clock import now
from bot.store.db import get_engine
from tests.e2e.test_desk_login import CHROMIUM_ARGS, PASSWORD, browser_login, login, running_desk
from tests.stack import ROOT, _wait, running_stack, stop_group

pytestmark = pytest.mark.e2e

SCREENSHOTS = ROOT / "results" / "screenshots"
TITLE = "PERÚ INFOMIGRA"
# The assistant's answer to a greeting (domain.yml, utter_saludo), in words the widget's own opening
# message ("Soy el asistente virtual…") does not share: a locator on the shared words matches both.
GREETING_REPLY = "el servicio de información para migrantes"
ACCOUNTS = {"ana.asesora@example.org": ("Ana Quispe Mamani", ["advisor", "supervisor"]),
            "beto@example.org": ("Beto Ramos", ["advisor"])}
ALWAYS_OPEN = "lun-dom 00:00-24:00"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    """Rasa + actions + desk on one database; yields (stack, desk, store, env of Rasa)."""
    work = tmp_path_factory.mktemp("handoff-web")
    database = f"sqlite:///{work / 'infomigra.db'}"
    env = {"DATABASE_URL": database, "WEB_SESSION_SECRET": secrets.token_urlsafe(32), "HANDOFF_OFFICE_HOURS": ALWAYS_OPEN}
    with running_stack(work / "stack", env) as stack:
        desk_env = {"DATABASE_URL": database, "RASA_URL": stack.rasa_url, "RASA_JWT_SECRET": stack.jwt_secret,
                    "HANDOFF_WORKER_SECONDS": "0.5", "HANDOFF_OFFICE_HOURS": ALWAYS_OPEN}
        with running_desk(work / "desk", ACCOUNTS, desk_env) as desk:
            restarted: list[subprocess.Popen] = []
            yield stack, desk, HandoffStore(get_engine(database)), env, restarted
            for proc in restarted:
                stop_group(proc)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def watch(page, errors: list[str]):
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}")
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    return page


def person_page(browser, stack, errors):
    page = watch(browser.new_context(viewport={"width": 420, "height": 860}, locale="es-PE").new_page(), errors)
    page.goto(f"{stack.rasa_url}/webhooks/web/demo")
    page.get_by_role("button", name=f"Abrir el chat de {TITLE}").click()
    expect(page.locator(".imw-conn")).to_have_text("En línea", timeout=15_000)
    return page


def sender_of(page) -> str:
    return "web:" + page.evaluate("localStorage.getItem('infomigra-chat-token')").split(".")[0]


def handed_over(browser, stack, asking: str):
    """A person on the widget who asked for an advisor and was told to wait: (page, sender, errors)."""
    errors: list[str] = []
    person = person_page(browser, stack, errors)
    write(person, asking)
    expect(person.get_by_role("button", name="Volver al asistente")).to_be_visible(timeout=30_000)
    return person, sender_of(person), errors


def write(page, text: str) -> None:
    box = page.get_by_role("textbox", name="Escribe tu mensaje")
    box.fill(text)
    box.press("Enter")


def advisor_page(browser, desk, errors, email="ana.asesora@example.org"):
    page = watch(browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-PE").new_page(), errors)
    page.goto(f"{desk.url}/cola")
    browser_login(page, desk, email)  # password, then a code of the account's second factor
    expect(page.get_by_role("heading", name="Cola de conversaciones")).to_be_visible()
    return page


@contextmanager
def desk_client(desk, email="ana.asesora@example.org") -> Iterator[httpx.Client]:
    with httpx.Client(base_url=desk.url, timeout=30) as client:
        assert login(client, email, PASSWORD, desk=desk).status_code == 303
        client.headers["X-CSRF-Token"] = client.get("/api/me").json()["csrf_token"]
        yield client


def due_now(store: HandoffStore, ticket_id: int) -> None:
    """Make the ticket's messages waiting for a retry due now (the desk retries them at its next tick)."""
    with store.engine.begin() as conn:
        conn.execute(update(handoff_messages).where(handoff_messages.c.ticket_id == ticket_id,
                                                    handoff_messages.c.delivery == "pending")
                     .values(next_attempt_at=now()))


def eventually(check, timeout: float = 20.0, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(every)


def test_a_person_on_the_widget_and_an_advisor_in_the_desk(system, browser):
    stack, desk, store, _, _ = system
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    advisor = advisor_page(browser, desk, errors)
    expect(advisor.locator("#q-waiting-empty")).to_be_visible()

    person = person_page(browser, stack, errors)
    write(person, "q papeles necesito pa trabajar en españa")
    expect(person.get_by_role("button", name="Ver más")).to_be_visible(timeout=30_000)  # an article first (its first part)
    write(person, "quiero hablar con una persona")
    expect(person.locator(".imw-bot").filter(has_text="en la cola")).to_be_visible(timeout=30_000)
    expect(person.get_by_role("button", name="Volver al asistente")).to_be_visible()
    sender = sender_of(person)
    tracker = stack.tracker(sender)
    assert tracker["paused"] and tracker["slots"]["handoff"] is True

    write(person, "Estoy en Madrid y no me pagan hace dos meses. Mi correo es ana.perez@example.com")
    expect(person.locator(".imw-bot").filter(has_text="Recibido")).to_be_visible(timeout=15_000)
    expect(person.locator(".imw-bot").filter(has_text="anotamos tu correo ana.perez@example.com")).to_be_visible(timeout=15_000)

    # the queue shows it without a reload
    row = advisor.locator("#q-waiting tbody tr").first
    expect(row).to_contain_text("Web", timeout=15_000)
    expect(row).to_contain_text("Seguridad")  # "no me pagan hace dos meses", written while waiting, raised it
    expect(row).to_contain_text("España")
    expect(row).to_contain_text("no me pagan")
    advisor.screenshot(path=str(SCREENSHOTS / "handoff-queue.png"), full_page=True)
    row.get_by_role("button", name=re.compile("Tomar")).click()
    expect(advisor.get_by_role("heading", name=re.compile(r"Conversación \d+"))).to_be_visible()
    log = advisor.get_by_role("log", name="Transcripción de la conversación")
    expect(log).to_contain_text("q papeles necesito pa trabajar en españa")
    expect(log.locator(".c-article").first).to_contain_text("España")  # the article the assistant used
    expect(log).to_contain_text("no me pagan hace dos meses")
    expect(advisor.locator("#c-last-inbound")).to_contain_text("hace")
    expect(advisor.locator("#c-email")).to_have_text("ana.perez@example.com")

    expect(person.locator(".imw-advisor").filter(has_text="te saluda Ana")).to_be_visible(timeout=15_000)
    reply = "Hola, soy Ana. Lo que cuentas es grave: ¿tienes contrato firmado en España?"
    advisor.get_by_label("Respuesta a la persona").fill(reply)
    advisor.get_by_role("button", name="Enviar respuesta").click()
    expect(person.locator(".imw-advisor").filter(has_text="contrato firmado")).to_be_visible(timeout=15_000)
    expect(person.locator(".imw-advisor .imw-who").last).to_have_text("Asesor(a) Ana")
    expect(log.locator(".c-advisor .c-delivery").last).to_have_text("Entregado al canal", timeout=10_000)

    write(person, "Sí, tengo contrato pero no me dejan ver mi pasaporte")
    expect(log).to_contain_text("no me dejan ver mi pasaporte", timeout=15_000)  # without reloading

    advisor.get_by_role("button", name="Insertar artículo").click()
    advisor.get_by_label("Buscar en la base de conocimiento").fill("pasaporte retenido trata")
    advisor.locator("#c-articles").get_by_role("button", name=re.compile("^Insertar el artículo")).first.click()
    expect(advisor.get_by_label("Respuesta a la persona")).to_have_value(re.compile("Actualizado:"))
    advisor.get_by_role("button", name="Enviar respuesta").click()
    expect(person.locator(".imw-advisor")).to_have_count(3, timeout=15_000)  # greeting, reply, article

    advisor.get_by_label("Nota privada").fill("Retención de pasaporte: derivar al consulado en Madrid.")
    advisor.get_by_role("button", name="Guardar nota").click()
    expect(log.locator(".c-note")).to_contain_text("derivar al consulado")
    advisor.get_by_label("Etiquetas").fill("trata, España")
    advisor.get_by_role("button", name="Guardar etiquetas").click()
    expect(advisor.locator("#c-flash")).to_have_text("Etiquetas guardadas.")
    advisor.screenshot(path=str(SCREENSHOTS / "handoff-conversation.png"), full_page=True)
    person.screenshot(path=str(SCREENSHOTS / "handoff-person-with-advisor.png"))
    assert "derivar al consulado" not in person.get_by_role("log").inner_text()  # notes stay in the desk

    advisor.once("dialog", lambda dialog: dialog.accept())
    advisor.get_by_role("button", name="Cerrar conversación").click()
    expect(advisor.locator("#c-closed")).to_be_visible(timeout=15_000)
    expect(person.locator(".imw-bot").filter(has_text="Ana cerró la conversación")).to_be_visible(timeout=15_000)
    person.get_by_role("button", name="5 · Excelente").click()
    expect(person.locator(".imw-bot").filter(has_text=say.RATED)).to_be_visible(timeout=30_000)
    write(person, "hola")
    expect(person.locator(".imw-bot").filter(has_text=GREETING_REPLY)).to_be_visible(timeout=30_000)
    person.screenshot(path=str(SCREENSHOTS / "handoff-person-after-close.png"))

    ticket = store.history(sender, 10**9, 1)[0]
    assert (ticket.status, ticket.rating, ticket.tags, ticket.contact_email) == ("closed", 5, ["trata", "españa"],
                                                                                  "ana.perez@example.com")
    tracker = stack.tracker(sender)
    assert not tracker["paused"] and tracker["slots"]["handoff"] is False and tracker["active_loop"] == {}
    assert not errors, errors
    person.context.close()
    advisor.context.close()


def test_volver_al_asistente_ends_the_handoff(system, browser):
    stack, _, store, _, _ = system
    person, sender, errors = handed_over(browser, stack, "necesito un asesor")
    assert store.open_for(sender) is not None
    person.get_by_role("button", name="Volver al asistente").click()
    expect(person.locator(".imw-bot").filter(has_text="saliste de la conversación con el asesor")).to_be_visible(timeout=15_000)
    write(person, "hola")
    expect(person.locator(".imw-bot").filter(has_text=GREETING_REPLY)).to_be_visible(timeout=30_000)
    assert store.open_for(sender) is None and store.history(sender, 10**9, 1)[0].closed_by == "person"
    assert not errors, errors
    person.context.close()


def test_a_typed_intent_cannot_end_or_take_over_a_handoff(system, browser):
    stack, _, store, _, _ = system
    person, sender, errors = handed_over(browser, stack, "quiero hablar con un humano")
    for count, typed in enumerate(['/restart', '/calificar{"rating":"5"}', '/volver_al_asistente{"x": 1}'], 1):
        write(person, typed)
        expect(person.locator(".imw-bot").filter(has_text="no se usan comandos")).to_have_count(count, timeout=15_000)
    time.sleep(1.5)  # the desk's worker would have resumed it by now
    assert stack.tracker(sender)["paused"] and store.open_for(sender).end_requested_at is None
    assert not errors, errors
    person.context.close()


def test_a_restart_of_rasa_in_the_middle_of_a_handoff_loses_nothing(system, browser):
    stack, desk, store, env, restarted = system
    person, sender, errors = handed_over(browser, stack, "quiero hablar con una persona")
    ticket = store.open_for(sender)
    with desk_client(desk, "beto@example.org") as beto:
        assert beto.post(f"/api/cola/{ticket.id}/tomar").status_code == 200
        expect(person.locator(".imw-advisor").filter(has_text="te saluda Beto")).to_be_visible(timeout=15_000)
        write(person, "Antes del reinicio: me robaron los documentos")
        eventually(lambda: any("Antes del reinicio" in m.text for m in store.messages(ticket.id)))

        stop_group(stack.rasa)  # Rasa goes down in the middle of the handoff
        reply = beto.post(f"/api/cola/{ticket.id}/responder", json={"text": "Durante el reinicio: ¿en qué ciudad estás?"})
        assert reply.status_code == 200 and reply.json()["delivery"] == "pending"  # stored, not lost

        full_env = {**stack.env, **env}  # with the stack's secrets
        log = stack.log_dir / "rasa-restarted.log"
        again = subprocess.Popen(stack.rasa.args, cwd=ROOT, env=full_env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                 start_new_session=True)
        restarted.append(again)
        stack.rasa = again
        _wait(f"{stack.rasa_url}/status", again, log, 180, stack.api_headers)

        # the widget reconnects by itself and shows the reply the desk delivered once Rasa was back
        retry = person.get_by_role("button", name="Reintentar ahora")
        deadline = time.monotonic() + 60
        while person.locator(".imw-conn").inner_text() != "En línea" and time.monotonic() < deadline:
            if retry.is_visible():
                retry.click()
            time.sleep(0.5)
        # The desk tried the reply while Rasa was down and waits longer after each failure (2, 4, 8… s):
        # its next attempt is brought forward, as the passing of that time would, so how long Rasa took to
        # come back does not decide whether the test sees the delivery within its wait.
        def delivered() -> bool:
            due_now(store, ticket.id)
            return [m.delivery for m in store.messages(ticket.id) if m.role == "advisor"] == ["sent"]

        eventually(delivered)
        expect(person.locator(".imw-advisor").filter(has_text="Durante el reinicio")).to_be_visible(timeout=30_000)
        tracker = stack.tracker(sender)
        assert tracker["paused"] and tracker["slots"]["handoff"] is True
        texts = [e.get("text") for e in tracker["events"] if e["event"] in ("user", "bot")]
        assert "Antes del reinicio: me robaron los documentos" in texts
        assert "Durante el reinicio: ¿en qué ciudad estás?" in texts

        write(person, "Después del reinicio: estoy en Milán")  # still paused: it reaches the advisor, the bot stays quiet
        eventually(lambda: any("Después del reinicio" in m.text for m in store.messages(ticket.id)))
        assert person.locator(".imw-bot").filter(has_text="Milán").count() == 0
        view = beto.get(f"/api/cola/{ticket.id}").json()
        person_texts = [m["text"] for m in view["messages"] if m["role"] == "person"]
        assert person_texts[-2:] == ["Antes del reinicio: me robaron los documentos", "Después del reinicio: estoy en Milán"]
        eventually(lambda: store.undelivered(ticket.id) == 0)  # the numbers for Italy, queued for delivery, went out
        assert beto.post(f"/api/cola/{ticket.id}/cerrar").json()["status"] == "closed"
    expect(person.get_by_role("button", name="5 · Excelente")).to_be_visible(timeout=15_000)
    assert not [e for e in errors if "WebSocket" not in e], errors
    person.context.close()


def test_the_desk_refuses_strangers_on_every_queue_route(system):
    _, desk, store, _, _ = system
    ticket = store.waiting()[0].id if store.waiting() else 1
    with httpx.Client(base_url=desk.url, timeout=10) as client:
        for path in ["/api/cola", f"/api/cola/{ticket}", "/api/cola/estadisticas", "/api/articulos?q=visa"]:
            response = client.get(path)
            assert response.status_code == 401 and response.json()["error"] == "no_autenticado", path
        for action in ["tomar", "responder", "nota", "etiquetas", "transferir", "devolver", "cerrar"]:
            assert client.post(f"/api/cola/{ticket}/{action}", json={"text": "x"}).status_code == 401, action
        for path in ["/cola", f"/cola/{ticket}", "/cola/supervision"]:
            response = client.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), path


def test_supervision_shows_the_queue_and_each_advisors_load(system, browser):
    stack, desk, _, _, _ = system
    stack.say("supervision-1", "quiero hablar con una persona")
    errors: list[str] = []
    page = advisor_page(browser, desk, errors)
    page.get_by_role("link", name="Supervisión").click()
    expect(page.get_by_role("heading", name="Supervisión de la cola")).to_be_visible()
    expect(page.locator("#s-waiting")).not_to_have_text("–", timeout=10_000)
    assert int(page.locator("#s-waiting").inner_text()) >= 1
    rows = page.locator("#s-advisors tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Ana Quispe Mamani")).to_contain_text("Sí")
    page.screenshot(path=str(SCREENSHOTS / "handoff-supervision.png"), full_page=True)
    assert not errors, errors
    page.context.close()

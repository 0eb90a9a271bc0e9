"""The web widget in a real headless Chromium against the real Rasa and action servers.

The browser loads the demo page that the Rasa server itself serves (GET /webhooks/web/demo), opens
the bubble and chats; the widget speaks Socket.IO over a WebSocket to bot/rasa/channels/web.py. What a
browser would never send (other people's session ids, forged tokens, malformed frames) is sent by
a small raw Socket.IO client over `websockets`. Screenshots: results/screenshots/webchat*.png.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import websockets
from playwright.sync_api import expect, sync_playwright

from bot import knowledge
from bot.rasa.channels.checks import UNREADABLE
from bot.rasa.channels.limits import TOO_MANY
from tests.stack import ROOT, free_port, running_stack

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOTS = ROOT / "results" / "screenshots"
QUESTION = "q visa necesito pa trabajar afuera"
TITLE = "PERÚ INFOMIGRA"
TOKEN_KEY = "infomigra-chat-token"
UPDATED = re.compile(r"^Actualizado: \d{2}/\d{2}/\d{4}$")
KB = knowledge.load()


@pytest.fixture(scope="module")
def web_stack(tmp_path_factory):
    env = {"WEB_SESSION_SECRET": secrets.token_urlsafe(32), "FLOOD_SENDER_PER_MINUTE": "20"}  # the default limit
    with running_stack(tmp_path_factory.mktemp("webchat"), env) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def demo_url(stack) -> str:
    return f"{stack.rasa_url}/webhooks/web/demo"


def new_page(browser, errors: list[str], **context):
    page = browser.new_context(**context).new_page()
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    return page


def open_chat(page):
    page.get_by_role("button", name=f"Abrir el chat de {TITLE}").click()
    expect(page.get_by_role("dialog", name=TITLE)).to_be_visible()
    expect(page.locator(".imw-conn")).to_have_text("En línea", timeout=15_000)


def session_of(page) -> str:
    token = page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')")
    assert token and "." in token
    return token.split(".")[0]


def ask_and_choose_chile(page):
    """Turn 1: a question in colloquial Spanish gets country buttons; turn 2: a click on "Chile" gets
    the first part of the answer (at most four bubbles, the written summary first, then "Ver más")."""
    box = page.get_by_role("textbox", name="Escribe tu mensaje")
    box.fill(QUESTION)
    box.press("Enter")
    chile = page.get_by_role("group", name="Opciones de respuesta").get_by_role("button", name="Chile", exact=True)
    expect(chile).to_be_visible(timeout=30_000)
    bots = page.locator(".imw-bot").count()
    chile.focus()
    page.keyboard.press("Enter")  # the buttons work from the keyboard
    more = page.get_by_role("button", name="Ver más")
    expect(more).to_be_visible(timeout=30_000)
    answer = page.locator(".imw-bot").all_inner_texts()[bots:]
    assert 1 <= len(answer) <= 4, answer
    assert " ".join(answer[0].split()).endswith(" ".join(KB.get("emigrar/tramites/chile").summary.split())), answer[0]
    expect(page.locator(".imw-updated")).to_have_count(0)  # the sources come with the last part


def see_more(page):
    """"Ver más": the rest of the answer, with the sources and "Actualizado" last."""
    bots = page.locator(".imw-bot").count()
    page.get_by_role("button", name="Ver más").click()
    expect(page.locator(".imw-updated").last).to_have_text(UPDATED, timeout=30_000)
    assert 1 <= page.locator(".imw-bot").count() - bots <= 4


def push(stack, sender: str, event: dict) -> None:
    """What the advisor desk does: an event through Rasa's HTTP API, delivered on the person's channel."""
    response = httpx.post(f"{stack.rasa_url}/conversations/{sender}/tracker/events",
                          params={"execute_side_effects": "true", "output_channel": "latest"},
                          headers=stack.api_headers(), json=event, timeout=30)
    assert response.status_code == 200, response.text


def user_events(stack, sender: str) -> list[dict]:
    return [e for e in stack.tracker(sender)["events"] if e["event"] == "user"]


# --------------------------------------------------------------------------------- raw client
def run(coro):
    """Run a coroutine on its own loop in a worker thread (Playwright's sync API owns this thread's loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Raw:
    """A Socket.IO v5 / Engine.IO v4 client on a plain WebSocket, like the widget, that sends anything."""

    def __init__(self, ws):
        self.ws = ws
        self.session_id: str | None = None
        self.token: str | None = None
        self.history: list[dict] | None = None

    @classmethod
    async def connect(cls, stack, request: object = None, origin: str | None = None, session: bool = True) -> Raw:
        url = stack.rasa_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        ws = await websockets.connect(url, origin=origin or stack.rasa_url, max_size=None)
        opened = await ws.recv()
        assert opened.startswith("0{") and json.loads(opened[1:])["pingInterval"] > 0
        await ws.send("40")
        assert (await ws.recv()).startswith("40")
        client = cls(ws)
        if session:
            await client.request_session({} if request is None else request)
        return client

    async def request_session(self, data: object) -> None:
        await self.emit("session_request", data)
        confirm = await self.wait("session_confirm")
        self.session_id, self.token = confirm["session_id"], confirm["token"]
        self.history = (await self.wait("history"))["messages"]

    @property
    def sender(self) -> str:
        return f"web:{self.session_id}"

    async def emit(self, name: str, data: object) -> None:
        await self.ws.send("42" + json.dumps([name, data]))

    async def next(self, timeout: float) -> tuple[str, object]:
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), timeout)
            if frame == "2":
                await self.ws.send("3")
            elif isinstance(frame, str) and frame.startswith("42"):
                name, *data = json.loads(frame[2:])
                return name, (data[0] if data else None)

    async def wait(self, name: str, timeout: float = 30) -> dict:
        while True:
            got, data = await self.next(timeout)
            if got == name:
                return data

    async def turn(self, data: object, timeout: float = 30) -> list[tuple[str, object]]:
        """Send one message; every event until the server ends the turn."""
        await self.emit("user_uttered", data)
        events = []
        while True:
            name, payload = await self.next(timeout)
            if name == "turn_end":
                return events
            events.append((name, payload))

    async def quiet(self, seconds: float) -> list[tuple[str, object]]:
        events = []
        try:
            while True:
                events.append(await self.next(seconds))
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            return events

    async def close(self) -> None:
        await self.ws.close()


def texts(events: list[tuple[str, object]], name: str = "bot_uttered") -> list[str]:
    return [data["text"] for got, data in events if got == name]


# --------------------------------------------------------------------------------- tests
def test_the_server_serves_the_widget_and_a_demo_page(web_stack):
    base = f"{web_stack.rasa_url}/webhooks/web"
    js = httpx.get(f"{base}/widget.js", timeout=10)
    assert js.status_code == 200 and js.headers["content-type"].startswith("application/javascript")
    assert "EIO=4&transport=websocket" in js.text and "cdn" not in js.text.lower()
    css = httpx.get(f"{base}/widget.css", timeout=10)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    demo = httpx.get(f"{base}/demo", timeout=10)
    assert demo.status_code == 200 and demo.headers["content-type"].startswith("text/html")
    assert '<script src="/webhooks/web/widget.js" defer></script>' in demo.text
    assert "default-src 'none'" in demo.headers["content-security-policy"]  # the widget needs nothing inline
    assert httpx.get(f"{base}/", timeout=10).json() == {"status": "ok"}


def test_a_two_turn_conversation_with_a_button_survives_a_reload(web_stack, browser):
    errors: list[str] = []
    page = new_page(browser, errors, viewport={"width": 1280, "height": 800})
    page.goto(demo_url(web_stack))
    bubble = page.get_by_role("button", name=f"Abrir el chat de {TITLE}")
    expect(bubble).to_have_attribute("aria-expanded", "false")
    open_chat(page)
    expect(page.get_by_role("button", name=f"Cerrar el chat de {TITLE}")).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("textbox", name="Escribe tu mensaje")).to_be_focused()
    page.evaluate("""() => {
        const typing = document.getElementById('infomigra-chat').shadowRoot.querySelector('.imw-typing');
        window.typingSeen = false;
        new MutationObserver(() => { if (!typing.hidden) window.typingSeen = true; }).observe(typing, {attributes: true});
    }""")

    ask_and_choose_chile(page)

    assert page.evaluate("window.typingSeen"), "the typing indicator was never shown"
    expect(page.locator(".imw-typing")).to_be_hidden()
    expect(page.locator(".imw-user")).to_contain_text([QUESTION, "Chile"])
    link = page.locator(".imw-bot a[href^='https://']").first
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    assert "informar_pais" not in page.get_by_role("log").inner_html()  # the page never sees payloads
    session_id = session_of(page)
    sender = f"web:{session_id}"
    tracker = web_stack.tracker(sender)
    assert tracker["slots"]["article_id"].endswith("/chile")
    last = user_events(web_stack, sender)[-1]
    assert last["input_channel"] == "web" and last["metadata"]["button_title"] == "Chile"
    assert last["parse_data"]["intent"]["name"] == "informar_pais"
    see_more(page)
    assert user_events(web_stack, sender)[-1]["parse_data"]["intent"]["name"] == "elegir_articulo"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "webchat.png"))

    page.reload()
    expect(page.get_by_role("dialog", name=TITLE)).to_be_visible()  # still open after the reload
    expect(page.locator(".imw-user")).to_contain_text([QUESTION, "Chile"], timeout=15_000)
    expect(page.locator(".imw-updated").last).to_have_text(UPDATED)
    assert session_of(page) == session_id
    bots = page.locator(".imw-bot").count()
    page.get_by_role("button", name="Volver al menú").click()  # buttons offered again with the history
    expect(page.locator(".imw-bot")).not_to_have_count(bots, timeout=30_000)
    expect(page.locator(".imw-notice")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "webchat-reloaded.png"))
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(bubble).to_be_focused()
    assert not errors, errors
    page.context.close()


def test_the_widget_fits_a_phone_360_px_wide(web_stack, browser):
    errors: list[str] = []
    page = new_page(browser, errors, viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                    has_touch=True)
    page.goto(demo_url(web_stack))
    open_chat(page)
    ask_and_choose_chile(page)
    see_more(page)
    dialog = page.get_by_role("dialog", name=TITLE).bounding_box()
    assert dialog["x"] == 0 and dialog["width"] == 360 and dialog["height"] == 740  # the chat takes the screen
    sizes = page.evaluate("""() => {
        const root = document.getElementById('infomigra-chat').shadowRoot;
        const scroll = root.querySelector('.imw-scroll');
        return {page: document.documentElement.scrollWidth, scroll: scroll.scrollWidth, visible: scroll.clientWidth,
                input: getComputedStyle(root.querySelector('.imw-input')).fontSize,
                buttons: [...root.querySelectorAll('.imw-choice, .imw-send, .imw-icon')].map(b => b.getBoundingClientRect().height)};
    }""")
    assert sizes["page"] <= 360 and sizes["scroll"] <= sizes["visible"], sizes  # nothing to scroll sideways
    assert sizes["input"] == "16px", sizes  # no zoom-in on focus in mobile browsers
    assert min(sizes["buttons"]) >= 40, sizes  # tap targets
    page.screenshot(path=str(SCREENSHOTS / "webchat-360.png"))  # the question and the start of the answer
    page.locator(".imw-scroll").evaluate("node => { node.scrollTop = node.scrollHeight; }")
    page.screenshot(path=str(SCREENSHOTS / "webchat-360-end.png"))  # sources, "Actualizado", buttons
    assert not errors, errors
    page.context.close()


def test_an_advisor_message_reaches_the_open_page_also_while_paused(web_stack, browser):
    errors: list[str] = []
    page = new_page(browser, errors, viewport={"width": 1280, "height": 800})
    page.goto(demo_url(web_stack))
    open_chat(page)
    page.get_by_role("textbox", name="Escribe tu mensaje").fill("hola")
    page.keyboard.press("Enter")
    expect(page.locator(".imw-choice").first).to_be_visible(timeout=30_000)  # the menu
    expect(page.locator(".imw-typing")).to_be_hidden(timeout=30_000)
    sender = f"web:{session_of(page)}"
    other_tab = page.context.new_page()  # the same person, a second tab
    other_tab.goto(demo_url(web_stack))
    expect(other_tab.locator(".imw-conn")).to_have_text("En línea", timeout=15_000)

    push(web_stack, sender, {"event": "pause"})
    text = "Hola, soy Ana, asesora de PERÚ INFOMIGRA. ¿En qué país estás ahora?"
    push(web_stack, sender, {"event": "bot", "text": text, "metadata": {"advisor_id": "ana", "advisor_name": "Ana"}})

    advisor = page.locator(".imw-advisor")
    expect(advisor).to_contain_text(text, timeout=10_000)
    expect(advisor.locator(".imw-who")).to_have_text("Asesor(a) Ana")
    page.screenshot(path=str(SCREENSHOTS / "webchat-advisor.png"))
    expect(other_tab.get_by_role("button", name=re.compile(r"\(1 mensaje nuevo\)"))).to_be_visible(timeout=10_000)
    page.reload()
    expect(page.locator(".imw-advisor")).to_contain_text(text, timeout=15_000)  # it is in the history too
    push(web_stack, sender, {"event": "resume"})
    assert not errors, errors
    page.context.close()


PORTAL_PAGE = """<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Portal</title>
<style>* { font-family: serif; line-height: 3; } button { background: yellow !important; color: green !important; }</style>
</head><body><h1>Otra página del portal</h1>
<script src="{widget}"></script>
</body></html>"""


@pytest.fixture(scope="module")
def portal(web_stack):
    """A page of another site (another origin) whose only trace of the assistant is one <script> tag."""
    page = PORTAL_PAGE.replace("{widget}", f"{web_stack.rasa_url}/webhooks/web/widget.js").encode()

    class Portal(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Portal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_one_script_tag_embeds_the_widget_in_another_sites_page(web_stack, browser, portal):
    errors: list[str] = []
    page = new_page(browser, errors, viewport={"width": 1280, "height": 800})
    page.goto(portal)
    open_chat(page)  # the server and the styles come from the script's own address
    send = page.get_by_role("button", name="Enviar mensaje")
    colors = send.evaluate("node => [getComputedStyle(node).backgroundColor, getComputedStyle(node).color]")
    assert colors == ["rgb(181, 18, 27)", "rgb(255, 255, 255)"]  # the portal's styles do not reach into the widget
    page.get_by_role("textbox", name="Escribe tu mensaje").fill("¡Hola! ¿Cómo estás? Soy de Piñas")
    page.keyboard.press("Enter")
    expect(page.locator(".imw-choice").first).to_be_visible(timeout=30_000)
    sender = f"web:{session_of(page)}"
    assert user_events(web_stack, sender)[-1]["text"] == "¡Hola! ¿Cómo estás? Soy de Piñas"  # Spanish arrives intact
    assert not errors, errors
    page.context.close()


def test_a_lost_connection_is_shown_and_the_widget_reconnects(web_stack, browser):
    errors: list[str] = []
    page = new_page(browser, errors, viewport={"width": 1280, "height": 800})
    blocked, routes = [False], []

    def through(ws):  # every WebSocket of the page passes here, to the real server unless blocked
        if blocked[0]:
            ws.close()
            return
        routes.append((ws, ws.connect_to_server()))

    page.route_web_socket(re.compile(r"/socket\.io/"), through)
    page.goto(demo_url(web_stack))
    open_chat(page)
    page.get_by_role("textbox", name="Escribe tu mensaje").fill("hola")
    page.keyboard.press("Enter")
    expect(page.locator(".imw-choice").first).to_be_visible(timeout=30_000)

    blocked[0] = True
    for ws, server in routes:
        server.close()
        ws.close()
    banner = page.locator(".imw-banner")
    expect(banner).to_contain_text("Reconectando…")
    expect(page.locator(".imw-conn")).to_have_text("Reconectando…")
    expect(page.get_by_role("button", name="Enviar mensaje")).to_be_disabled()
    expect(banner).to_contain_text("No hay conexión con el asistente", timeout=20_000)  # after three failed tries
    page.screenshot(path=str(SCREENSHOTS / "webchat-offline.png"))

    blocked[0] = False
    page.get_by_role("button", name="Reintentar ahora").click()
    expect(page.locator(".imw-conn")).to_have_text("En línea", timeout=15_000)
    expect(banner).to_be_hidden()
    expect(page.locator(".imw-user")).to_contain_text(["hola"])  # the history came back with the session
    expect(page.get_by_role("button", name="Enviar mensaje")).to_be_enabled()
    assert [e for e in errors if "WebSocket" not in e] == [], errors
    page.context.close()


def test_another_persons_session_id_reads_and_writes_nothing(web_stack):
    async def scenario():
        victim = await Raw.connect(web_stack)
        answered = await victim.turn({"message": QUESTION})
        assert texts(answered)
        stolen = victim.session_id
        other_secret_token = f"{stolen}.{'A' * 43}"
        attempts = [
            {"session_id": stolen},  # Rasa's own protocol: the client names the session
            {"session_id": stolen, "token": stolen},
            {"token": other_secret_token},
            {"token": f"{stolen}.{victim.token.split('.')[1][:-1]}"},
            {"token": f"{uuid.uuid4()}.{victim.token.split('.')[1]}"},
        ]
        thieves = []
        for request in attempts:
            thief = await Raw.connect(web_stack, request)
            assert thief.session_id != stolen and thief.history == [], request
            thieves.append(thief)
        thief = thieves[0]
        # a message that names the victim's conversation everywhere it could
        reply = await thief.turn({"message": "mensaje del intruso", "session_id": stolen, "sender": victim.sender,
                                  "sender_id": victim.sender, "metadata": {"session_id": stolen}})
        assert texts(reply)
        # the victim goes on talking and an advisor writes to them: the intruders see none of it
        await victim.turn({"message": "hola"})
        await asyncio.to_thread(push, web_stack, victim.sender, {"event": "bot", "text": "solo para la víctima"})
        assert "solo para la víctima" in texts(await victim.quiet(2))
        for other in thieves:
            assert texts(await other.quiet(0.5)) == []
            await other.close()
        await victim.close()
        return victim.sender, thief.sender

    victim, thief = run(scenario())
    assert "mensaje del intruso" not in [e["text"] for e in user_events(web_stack, victim)]
    assert [e["text"] for e in user_events(web_stack, thief)] == ["mensaje del intruso"]


def test_typed_intents_never_reach_the_assistant(web_stack):
    async def scenario():
        client = await Raw.connect(web_stack)
        for typed in ["/pedir_asesor", '/pedir_asesor{"motivo": "x"}', '  //informar_pais{"country":"chile"}']:
            answer = texts(await client.turn({"message": typed}))
            assert len(answer) == 1 and "no se usan comandos" in answer[0], typed
        answer = texts(await client.turn({"message": "/ q visa necesito pa trabajar en chile"}))
        assert answer and "no se usan comandos" not in answer[0]
        await client.close()
        return client.sender

    sender = run(scenario())
    tracker = web_stack.tracker(sender)
    assert tracker["slots"].get("handoff") is not True
    typed = [e["text"] for e in user_events(web_stack, sender)]
    assert typed == ["q visa necesito pa trabajar en chile"]  # neutralised: no leading "/"


def test_malformed_and_huge_events_never_break_the_server(web_stack):
    async def scenario():
        early = await Raw.connect(web_stack, session=False)
        assert "sesión no está lista" in texts(await early.turn({"message": "hola"}), "notice")[0]
        await early.request_session("no soy un objeto")  # a new session all the same
        assert early.session_id and early.history == []
        checks = [
            ({"message": ["hola"]}, "notice", UNREADABLE),
            (5, "notice", UNREADABLE),
            (None, "notice", UNREADABLE),
            ({"message": "a" * 5000}, "notice", "demasiado largo"),
            ({"message": "😀🙏"}, "bot_uttered", UNREADABLE),
            ({"ref": "no-existe"}, "bot_uttered", "ya no está disponible"),
            ({"ref": {"$ne": None}}, "bot_uttered", "ya no está disponible"),
        ]
        for data, event, expected in checks:
            got = texts(await early.turn(data), event)
            assert got and expected in got[0], (data, got)
        for frame in ["42garbage", "42[]", "42[5]", '42["user_uttered"]', '42["user_uttered",{},{},{}]', '42["nada",{}]',
                      "4", "9", "", "2", b"\x00\x01binario", '42["session_request",[1,2]]']:
            await early.ws.send(frame)
        await early.quiet(1)
        huge = await Raw.connect(web_stack)
        await huge.ws.send('42["user_uttered",{"message":"' + "x" * 300_000 + '"}]')
        await huge.quiet(3)  # the server drops this socket
        assert huge.ws.closed
        fresh = await Raw.connect(web_stack)
        assert texts(await fresh.turn({"message": "hola"}))
        await fresh.close()

    run(scenario())
    assert web_stack.rasa.poll() is None
    log = (web_stack.log_dir / "rasa.log").read_text().split("Rasa server is up and running")[-1]
    assert "bot/rasa/channels/web.py" not in log and "async handler error" not in log


def test_a_flood_from_one_session_is_slowed_down(web_stack):
    """Over FLOOD_SENDER_PER_MINUTE (20) the messages are dropped before Rasa, and the person is told once."""
    async def scenario():
        client = await Raw.connect(web_stack)
        for _ in range(30):
            await client.emit("user_uttered", {"message": "hola"})
        events = await client.quiet(3)
        await client.close()
        return events

    events = run(scenario())
    assert texts(events, "notice").count(TOO_MANY) == 1
    assert texts(events)  # the first ones were answered


def test_pages_of_other_sites_may_not_connect(web_stack):
    async def scenario():
        with pytest.raises(websockets.InvalidStatusCode):
            await Raw.connect(web_stack, origin="https://sitio-ajeno.example")
        local = await Raw.connect(web_stack, origin="http://localhost:8080")  # development
        await local.close()

    run(scenario())

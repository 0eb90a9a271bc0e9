"""Fuzz every public endpoint with generated, malformed and adversarial requests (hypothesis).

The real servers (tests/stack.py: Rasa with the REST, WhatsApp, Telegram and web channels, the action
server; the advisor desk as its own process) get FUZZ_EXAMPLES generated requests per endpoint
(default 150, so `make test` stays quick; `bench/fuzz.py` runs 10,000): broken and huge bodies, wrong
content types, wrong or missing credentials, odd unicode (lone surrogates, NUL, bidi marks), forged
Socket.IO frames, fuzzed desk forms and API calls. Every answer must be below 500, the processes must
still run, their memory (RSS) must not grow beyond FUZZ_RSS_GROWTH_MB, and afterwards a normal message
must still be answered. Only 127.0.0.1 is called. Each endpoint stops generating after FUZZ_SECONDS.

Figures (requests, statuses, RSS before/after, seconds) are printed and written to results/fuzz/.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
import websockets
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from tests.e2e.test_desk_login import PASSWORD, login, running_desk
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio
from tests.stack import ROOT, running_stack

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
SECONDS = float(os.environ.get("FUZZ_SECONDS", "240"))  # per endpoint: generation stops after this
RSS_GROWTH_MB = float(os.environ.get("FUZZ_RSS_GROWTH_MB", "250"))
RESULTS = ROOT / "results" / "fuzz"

ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
NUMBER = "whatsapp:+14155238886"
WA_URL = "https://infomigra.example.gob.pe/webhooks/whatsapp/webhook"
TG_TOKEN = "7012345678:AAH-prueba_infomigra_0123456789abcdef"
TG_SECRET = secrets.token_urlsafe(32)
TG_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ADVISOR = "ana.asesora@example.org"

FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck), print_blob=False)


# --- generated values -----------------------------------------------------------------------------
NASTY = ["", " ", "\x00", "\ud800", "\udfff", "\u202e", "\ufeff", "𝕳𝖔𝖑𝖆", "ñandú", "😀🙏🇵🇪", "/restart", "/greet",
         '/inform{"pais":"x"}', "<script>alert(1)</script>", "' OR 1=1 --", "%s%n%x", "../../etc/passwd", "{{7*7}}",
         "${jndi:ldap://x}", "hola", "null", "[]", "{}", "\r\n\r\nX: y", "a" * 4097, "whatsapp:+51999999999", "web:x",
         "telegram:1", "NaN", "-1", "9" * 40]
text = st.one_of(st.sampled_from(NASTY), st.text(max_size=60), st.text(st.characters(codec="utf-8"), max_size=20),
                 st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3))
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | text,
                           lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
                           max_leaves=15)
huge = st.builds(lambda char, size: char * size, st.sampled_from(["x", "ñ", "😀", "\x00", "[", "{"]),
                 st.integers(1_000, 300_000))
long_query = st.builds(lambda char, size: char * size, st.sampled_from(["x", "ñ", "{", "%"]), st.integers(500, 15_000))
CONTENT_TYPES = ["application/json", "application/json; charset=latin-1", "text/plain", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=x", "multipart/form-data", "application/xml", "*/*", ""]
content_type = st.one_of(st.sampled_from(CONTENT_TYPES), header_text)


def encode_json(value: object, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def q(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def encode_form(form: dict) -> bytes:
    return urlencode({str(k): str(v) for k, v in form.items()}, encoding="utf-8", errors="surrogatepass").encode()


@st.composite
def body(draw, structured: st.SearchStrategy) -> tuple[bytes, str | None]:
    """A request body and its content type: mostly what the endpoint expects, fuzzed, else anything."""
    kind = draw(st.sampled_from(["structured", "structured", "structured", "json", "raw", "form", "huge"]))
    if kind == "structured":
        return encode_json(draw(structured), draw(st.booleans())), draw(st.sampled_from(["application/json", None]))
    if kind == "json":
        return encode_json(draw(json_values), draw(st.booleans())), draw(content_type)
    if kind == "raw":
        return draw(st.binary(max_size=2_000)), draw(st.one_of(st.none(), content_type))
    if kind == "form":
        return encode_form(draw(st.dictionaries(text, text, max_size=6))), draw(content_type)
    return draw(huge).encode("utf-8"), draw(content_type)


# --- what every endpoint's test records --------------------------------------------------------------
class Run:
    """Counts statuses and stops generating after SECONDS (the examples left return at once)."""

    def __init__(self, name: str, pids: dict[str, int]):
        self.name, self.pids = name, pids
        self.statuses: Counter[str] = Counter()
        self.failures: list[str] = []
        self.samples: dict[str, str] = {}
        self.requests = 0
        self.started = time.monotonic()
        self.rss_before = {who: rss_mb(pid) for who, pid in pids.items()}

    def method(self) -> str:
        """POST, and every eighth request another method (hypothesis' own choice mostly was not POST)."""
        self.requests += 1
        return OTHER_METHODS[self.requests // 8 % len(OTHER_METHODS)] if self.requests % 8 == 0 else "POST"

    def in_time(self) -> bool:
        return time.monotonic() - self.started < SECONDS

    def record(self, status: int | str, what: object) -> None:
        self.statuses[str(status)] += 1
        self.samples.setdefault(str(status), repr(what)[:300])  # one example of each outcome, in the figures
        if isinstance(status, int) and status >= 500:
            self.failures.append(f"{status}: {what!r}"[:500])

    def finish(self) -> dict:
        figures = {"endpoint": self.name,
                   "requests": sum(n for what, n in self.statuses.items() if what != "websocket connections"),
                   "statuses": dict(self.statuses),
                   "server_errors": len(self.failures), "seconds": round(time.monotonic() - self.started, 1),
                   "rss_mb_before": self.rss_before, "rss_mb_after": {who: rss_mb(pid) for who, pid in self.pids.items()},
                   "examples_asked": EXAMPLES, "samples": self.samples}
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{self.name}.json").write_text(json.dumps(figures, indent=2) + "\n")
        print(f"\nfuzz {self.name}: {json.dumps({k: v for k, v in figures.items() if k != 'samples'})}")
        return figures

    def check(self, alive: dict[str, Callable[[], bool]]) -> None:
        figures = self.finish()
        assert not self.failures, self.failures[:5]
        for who, is_alive in alive.items():
            assert is_alive(), f"{who} died"
        for who, before in self.rss_before.items():
            grown = figures["rss_mb_after"][who] - before
            assert grown < RSS_GROWTH_MB, f"{who}: RSS grew by {grown:.0f} MB ({before:.0f} → {before + grown:.0f})"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def send(run: Run, client: httpx.Client, method: str, url: str, content: bytes | None,
         headers: dict[str, str]) -> httpx.Response | None:
    try:
        response = client.request(method, url, content=content, headers=headers)
    except httpx.TimeoutException:
        run.record("timeout", (method, url, headers, (content or b"")[:200]))
        return None
    except httpx.HTTPError as error:  # e.g. the server closed a connection after refusing a huge body
        run.record(type(error).__name__, None)
        return None
    except (httpx.InvalidURL, UnicodeEncodeError):  # what httpx itself will not send (a URL over 64 kB)
        run.record("not sent", None)
        return None
    run.record(response.status_code, (method, url, headers, (content or b"")[:200], response.text[:200]))
    return response


def headers_of(auth: dict[str, str], ctype: str | None, extra: dict[str, str]) -> dict[str, str]:
    headers = {**extra, **auth}
    if ctype is not None:
        headers["content-type"] = ctype
    return headers


extra_headers = st.dictionaries(st.sampled_from(["x-forwarded-for", "origin", "accept", "content-encoding", "user-agent",
                                                 "transfer-encoding", "x-real-ip", "cookie", "accept-language"]),
                                header_text, max_size=3).map(lambda h: {k: v for k, v in h.items() if k != "transfer-encoding"})
OTHER_METHODS = ["GET", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"]


# --- the servers ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fakes():
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as twilio, FakeTelegram(TG_TOKEN) as telegram:
        yield twilio, telegram


@pytest.fixture(scope="module")
def channels(tmp_path_factory, fakes):
    """One Rasa server with every channel of credentials.yml, each configured (fake Twilio and Telegram APIs)."""
    twilio, telegram = fakes
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_NUMBER": NUMBER,
           "TWILIO_WEBHOOK_URL": WA_URL, "TWILIO_API_BASE": twilio.url, "TELEGRAM_BOT_TOKEN": TG_TOKEN,
           "TELEGRAM_WEBHOOK_SECRET": TG_SECRET, "TELEGRAM_API_BASE": telegram.base_url,
           "TELEGRAM_WEBHOOK_URL": "https://infomigra.example.gob.pe/webhooks/telegram/webhook",
           "WEB_SESSION_SECRET": secrets.token_urlsafe(32)}
    with running_stack(tmp_path_factory.mktemp("fuzz"), extra_env=env) as stack:
        yield stack


def rasa_run(stack, name: str) -> Run:
    return Run(name, {"rasa": stack.rasa.pid, "actions": stack.actions.pid})


def rasa_alive(stack) -> dict[str, Callable[[], bool]]:
    return {"rasa": lambda: stack.rasa.poll() is None, "actions": lambda: stack.actions.poll() is None}


def still_answers(stack) -> None:
    assert stack.say(f"fuzz-after-{secrets.token_hex(4)}", "hola"), "no answer to a normal message after the fuzz"
    log = (stack.log_dir / "rasa.log").read_text(errors="replace")
    # An HTTP request that raised (a 500 however it was answered). A WebSocket whose frame python-engineio could not
    # decode (an empty one: "Invalid empty packet received") is logged the same way and only that socket is closed.
    assert "Exception occurred while handling uri: 'http" not in log and "async handler error" not in log


# --- REST ---------------------------------------------------------------------------------------------
rest_message = st.fixed_dictionaries(
    {"sender": st.one_of(st.builds(lambda n: f"fuzz-{n}", st.integers(0, 10**6)), text, json_values),
     "message": st.one_of(text, json_values, huge)},
    optional={"metadata": json_values, "input_channel": text, "extra": json_values})


def test_rest_channel_survives_fuzzing(channels):
    run = rasa_run(channels, "rest")
    auth_kinds = st.sampled_from(["token"] * 6 + ["none", "wrong", "lower", "padded", "basic"])

    def auth(kind: str) -> dict[str, str]:
        token = channels.rest_token
        return {"token": {"Authorization": f"Bearer {token}"}, "none": {}, "wrong": {"Authorization": "Bearer x"},
                "lower": {"authorization": f"bearer {token}"}, "padded": {"Authorization": f"Bearer  {token} x"},
                "basic": {"Authorization": f"Basic {token}"}}[kind]

    with httpx.Client(timeout=60) as client:
        @FUZZ
        @given(kind=auth_kinds, payload=body(rest_message), extra=extra_headers,
               query=st.one_of(st.just(""), header_text.map(lambda v: "?" + quote(v, safe="=&"))))
        def fuzz(kind, payload, extra, query):
            if run.in_time():
                content, ctype = payload
                send(run, client, run.method(), channels.webhook() + query, content, headers_of(auth(kind), ctype, extra))

        fuzz()
    run.check(rasa_alive(channels))
    still_answers(channels)


# --- WhatsApp -----------------------------------------------------------------------------------------
@st.composite
def twilio_form(draw) -> dict[str, str]:
    person = draw(st.one_of(st.builds(lambda n: f"+519{n:08d}", st.integers(0, 10**8 - 1)), text))
    sid = "SM" + draw(st.text("0123456789abcdef", min_size=32, max_size=32))
    form = {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Rosa", "MessageType": "text", "SmsSid": sid,
            "WaId": person.lstrip("+"), "SmsStatus": "received", "Body": draw(st.one_of(text, huge)), "To": NUMBER,
            "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": f"whatsapp:{person}",
            "ApiVersion": "2010-04-01"}
    for key in draw(st.lists(st.sampled_from(sorted(form)), max_size=3, unique=True)):
        if draw(st.booleans()):
            del form[key]
        else:
            form[key] = draw(text)
    form.update(draw(st.dictionaries(st.one_of(st.sampled_from(["NumMedia", "MediaUrl0", "MediaContentType0", "Latitude",
                                                                "Longitude", "ButtonPayload", "ButtonText",
                                                                "OriginalRepliedMessageSid", "MessageStatus"]), text),
                                     st.one_of(text, st.integers().map(str)), max_size=4)))
    return form


def test_whatsapp_channel_survives_fuzzing(channels):
    run = rasa_run(channels, "whatsapp")
    url = f"{channels.rasa_url}/webhooks/whatsapp/webhook"
    validator = RequestValidator(AUTH_TOKEN)

    with httpx.Client(timeout=60) as client:
        @FUZZ
        @given(form=twilio_form(), signed=st.sampled_from(["yes"] * 4 + ["no", "wrong", "other-url"]),
               other=body(json_values), mode=st.sampled_from(["form"] * 4 + ["other"]), extra=extra_headers)
        def fuzz(form, signed, other, mode, extra):
            if not run.in_time():
                return
            if mode == "form":
                try:
                    content = encode_form(form)
                    signature = {"yes": lambda: validator.compute_signature(WA_URL, form), "no": lambda: None,
                                 "wrong": lambda: "c2lnbmF0dXJh", "other-url": lambda: validator.compute_signature(url, form)}
                    value = signature[signed]()
                except UnicodeEncodeError:  # a lone surrogate cannot be signed: sent unsigned
                    value = None
                auth = {} if value is None else {"X-Twilio-Signature": value}
                ctype: str | None = "application/x-www-form-urlencoded"
            else:
                content, ctype = other
                auth = {"X-Twilio-Signature": "c2lnbmF0dXJh"} if signed != "no" else {}
            send(run, client, run.method(), url, content, headers_of(auth, ctype, extra))

        fuzz()
    run.check(rasa_alive(channels))
    still_answers(channels)


# --- Telegram -----------------------------------------------------------------------------------------
@st.composite
def telegram_update(draw) -> object:
    chat = draw(st.one_of(st.integers(-(10**13), 10**13), text, st.none()))
    message = {"message_id": draw(st.one_of(st.integers(), text)), "date": draw(st.one_of(st.integers(), text)),
               "chat": draw(st.one_of(st.just({"id": chat, "type": "private", "first_name": "Rosa"}), json_values)),
               "from": draw(st.one_of(st.just({"id": chat, "is_bot": False, "first_name": "Rosa"}), json_values))}
    message.update(draw(st.dictionaries(st.sampled_from(["text", "caption", "entities", "photo", "document", "location",
                                                         "contact", "sticker", "voice", "reply_markup", "edit_date"]),
                                        st.one_of(text, huge, json_values), max_size=3)))
    kind = draw(st.sampled_from(["message", "edited_message", "callback_query", "channel_post", "my_chat_member", "poll"]))
    if kind == "callback_query":
        value = {"id": draw(text), "from": message["from"], "message": message, "data": draw(st.one_of(text, json_values)),
                 "chat_instance": draw(text)}
    else:
        value = message
    update = {"update_id": draw(st.one_of(st.integers(), text, st.none())), kind: value}
    update.update(draw(st.dictionaries(text, json_values, max_size=2)))
    return update


def test_telegram_channel_survives_fuzzing(channels):
    run = rasa_run(channels, "telegram")
    url = f"{channels.rasa_url}/webhooks/telegram/webhook"

    with httpx.Client(timeout=60) as client:
        @FUZZ
        @given(payload=body(telegram_update()), extra=extra_headers,
               secret=st.one_of(st.just(TG_SECRET), st.just(TG_SECRET), st.just(TG_SECRET), st.none(), header_text))
        def fuzz(payload, extra, secret):
            if run.in_time():
                content, ctype = payload
                send(run, client, run.method(), url, content, headers_of({} if secret is None else {TG_HEADER: secret}, ctype, extra))

        fuzz()
    run.check(rasa_alive(channels))
    still_answers(channels)


@pytest.mark.parametrize("change", [
    {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private", "first_name": "Rosa"}},  # no new_chat_member
    {"date": 1, "new_chat_member": {"status": "kicked", "user": {"id": 5, "is_bot": False, "first_name": "R"}}},  # no chat
])
def test_a_malformed_membership_update_is_not_a_500(channels, change):
    """Regression: a my_chat_member update without new_chat_member made the channel answer 500."""
    response = httpx.post(f"{channels.rasa_url}/webhooks/telegram/webhook", headers={TG_HEADER: TG_SECRET}, timeout=60,
                          json={"update_id": secrets.randbelow(10**8), "my_chat_member": change})
    assert response.status_code < 500, response.text


# --- web widget (Socket.IO) ---------------------------------------------------------------------------
EVENTS = ["user_uttered", "user_uttered", "session_request", "disconnect", "connect", "message", "nada"]
RAW_FRAMES = ["", "0", "1", "2", "3", "4", "5", "6", "9", "40", "41", "42", "43[]", "44{}", "45", "46", "4x", "42[",
              '451-["user_uttered",{"_placeholder":true,"num":0}]', '42/otro,["user_uttered",{}]', "42[null]"]
frames = st.one_of(
    st.builds(lambda event, data: "42" + json.dumps([event, data]), st.one_of(st.sampled_from(EVENTS), text),
              st.one_of(st.fixed_dictionaries({"message": st.one_of(text, json_values)},
                                              optional={"session_id": text, "token": text, "ref": json_values}),
                        json_values)),
    st.builds(lambda event, args: "42" + json.dumps([event, *args]), st.sampled_from(EVENTS), st.lists(json_values, max_size=4)),
    st.sampled_from(RAW_FRAMES), st.sampled_from(RAW_FRAMES).flatmap(lambda f: text.map(lambda t: f + t)),
    st.binary(max_size=500),
    huge.map(lambda h: '42["user_uttered",{"message":"' + h[:300_000] + '"}]'),
)
polls = st.tuples(st.sampled_from(["GET", "POST", "OPTIONS"]),
                  st.dictionaries(st.sampled_from(["EIO", "transport", "sid", "t", "b64", "j"]), header_text, max_size=5),
                  st.binary(max_size=1_000), extra_headers)


class Socket:
    """A raw Socket.IO v5 / Engine.IO v4 client over a WebSocket that sends anything."""

    def __init__(self, url: str, loop: asyncio.AbstractEventLoop):
        self.url, self.loop, self.ws, self.connects, self.frames = url, loop, None, 0, 0

    def run(self, coro):  # noqa: ANN001, ANN201
        return self.loop.run_until_complete(coro)

    async def _open(self) -> None:
        self.ws = await websockets.connect(self.url, origin=self.url.replace("ws://", "http://").split("/socket.io")[0],
                                           max_size=None, open_timeout=30)
        assert (await asyncio.wait_for(self.ws.recv(), 30)).startswith("0{")
        await self.ws.send("40")
        assert (await asyncio.wait_for(self.ws.recv(), 30)).startswith("40")
        self.connects += 1

    async def send(self, frame: str | bytes, drain: float = 0.02) -> None:
        self.frames += 1
        if self.ws is None or self.ws.closed or self.frames % 25 == 0:  # a new socket now and then ("41" ends one)
            if self.ws is not None:
                await self.ws.close()
            await self._open()
        if isinstance(frame, str) and frame.encode("utf-8", "surrogatepass").decode("utf-8", "replace") != frame:
            frame = frame.encode("utf-8", "surrogatepass")  # not valid UTF-8: a text frame cannot carry it, a binary one can
        try:
            await self.ws.send(frame)
            await self.events(drain)
        except websockets.ConnectionClosed:
            self.ws = None

    async def events(self, seconds: float) -> list[tuple[str, object]]:
        got = []
        try:
            while True:
                frame = await asyncio.wait_for(self.ws.recv(), seconds)
                if frame == "2":
                    await self.ws.send("3")
                elif isinstance(frame, str) and frame.startswith("42"):
                    name, *data = json.loads(frame[2:])
                    got.append((name, data[0] if data else None))
        except asyncio.TimeoutError:
            pass
        return got

    async def wait(self, name: str, seconds: float = 60) -> object:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for got, data in await self.events(0.5):
                if got == name:
                    return data
        raise AssertionError(f"no {name} within {seconds}s")


def test_web_widget_survives_fuzzing(channels):
    run = rasa_run(channels, "socketio")
    ws_url = channels.rasa_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    loop = asyncio.new_event_loop()
    socket = Socket(ws_url, loop)

    with httpx.Client(timeout=60) as client:
        @FUZZ
        @given(what=st.one_of(frames, polls), session_first=st.integers(0, 9))
        def fuzz(what, session_first):
            if not run.in_time():
                return
            if isinstance(what, tuple):  # Engine.IO's HTTP long-polling transport
                method, query, content, extra = what
                send(run, client, method, f"{channels.rasa_url}/socket.io/?{urlencode(query)}", content, extra)
                return
            if session_first == 0:
                socket.run(socket.send('42["session_request",{}]'))
            socket.run(socket.send(what))
            run.record("frame", None)
            assert channels.rasa.poll() is None, f"the server died after the frame {what!r:.300}"

        try:
            fuzz()
            run.statuses["websocket connections"] = socket.connects
            run.check(rasa_alive(channels))
            fresh = Socket(ws_url, loop)
            fresh.run(fresh._open())
            fresh.run(fresh.send('42["session_request",{}]', drain=0))
            fresh.run(fresh.wait("session_confirm"))
            fresh.run(fresh.send('42["user_uttered",{"message":"hola"}]', drain=0))
            assert fresh.run(fresh.wait("bot_uttered")), "no answer on the widget after the fuzz"
            fresh.run(fresh.ws.close())
        finally:
            if socket.ws is not None:
                loop.run_until_complete(socket.ws.close())
            loop.close()
    still_answers(channels)


# --- advisor desk: login and JSON API -----------------------------------------------------------------
@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    with running_desk(tmp_path_factory.mktemp("fuzz-desk")) as running:
        yield running


def desk_pid(desk) -> int:
    """The `infomigra desk serve` process (the one listening on the desk's port)."""
    port = desk.url.rsplit(":", 1)[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{int(port):04X}") and fields[3] == "0A":
            inode = fields[9]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]" for fd in os.listdir(f"/proc/{pid}/fd")):
                return int(pid)
        except OSError:
            continue
    raise AssertionError("the desk's process was not found")


def pid_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0
    except OSError:
        return False


login_form = st.fixed_dictionaries({}, optional={"email": st.one_of(st.sampled_from([ADVISOR, "rolando@example.org"]), text),
                                                 "password": st.one_of(text, huge), "csrf_token": text, "code": text,
                                                 "next": text})
API_PATHS = ["/api/me", "/api/cola", "/api/cola/estadisticas", "/api/articulos", "/login", "/login/codigo", "/logout"]
KINDS = ("tomar", "responder", "nota", "etiquetas", "transferir", "devolver", "cerrar")
api_path = st.one_of(st.sampled_from(API_PATHS),
                     st.builds(lambda t: f"/api/cola/{q(t)}", st.one_of(text, st.integers().map(str))),
                     st.builds(lambda t, k: f"/api/cola/{q(t)}/{k}", st.one_of(text, st.integers(-5, 50).map(str)),
                               st.sampled_from(KINDS)))


def test_desk_login_and_api_survive_fuzzing(desk):
    pid = desk_pid(desk)
    run = Run("desk", {"desk": pid})
    with httpx.Client(base_url=desk.url, timeout=60) as stranger, httpx.Client(base_url=desk.url, timeout=60) as advisor:
        assert login(advisor, ADVISOR, PASSWORD, desk=desk).status_code == 303
        csrf = advisor.get("/api/me").json()["csrf_token"]

        @FUZZ
        @given(step=st.sampled_from(["login", "code", "api", "api", "api"]), fresh_form=st.booleans(), form=login_form,
               path=api_path, method=st.sampled_from(["GET", "GET", "POST", "POST", "PUT", "DELETE"]),
               payload=body(json_values), query=st.dictionaries(st.sampled_from(["q", "estado", "pagina", "desde", "x"]),
                                                                 st.one_of(text, long_query), max_size=3),
               with_csrf=st.booleans(), extra=extra_headers)
        def fuzz(step, fresh_form, form, path, method, payload, query, with_csrf, extra):
            if not run.in_time():
                return
            if step in ("login", "code"):
                if fresh_form:
                    page = send(run, stranger, "GET", "/login", None, {})
                    if page is not None and 'name="csrf_token" value="' in page.text and "csrf_token" not in form:
                        form = {**form, "csrf_token": page.text.split('name="csrf_token" value="')[1].split('"')[0]}
                target = "/login" if step == "login" else "/login/codigo"
                send(run, stranger, "POST", target, encode_form(form),
                     {**extra, "content-type": "application/x-www-form-urlencoded"})
                return
            content, ctype = payload
            headers = headers_of({"x-csrf-token": csrf} if with_csrf else {}, ctype, extra)
            url = path + ("?" + urlencode(query, errors="surrogatepass") if query else "")
            if not path.startswith("/api/"):  # the advisor's session must outlive the fuzz: only strangers log in/out
                send(run, stranger, method, url, content, headers)
            else:
                send(run, advisor, method, url, None if method == "GET" else content, headers)

        fuzz()
        run.check({"desk": lambda: pid_alive(pid)})
        me = advisor.get("/api/me")
        assert me.status_code == 200 and me.json()["csrf_token"] == csrf, "the advisor's session did not survive"
        assert advisor.get("/api/cola").status_code == 200
        assert stranger.get("/login").status_code == 200

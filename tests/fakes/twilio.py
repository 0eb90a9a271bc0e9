"""A local stand-in for Twilio's Messages API (REST API 2010-04-01), for end-to-end tests.

It speaks the documented wire format: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`
with HTTP basic auth (AccountSid:AuthToken) and a form body (`To`, `From`, `Body`, `MediaUrl`,
`ContentSid`, `ContentVariables`…), answers 201 with the Message resource as JSON (`sid`,
`status: queued`, RFC 2822 dates…), and answers errors as Twilio does:
`{"code", "message", "more_info", "status"}` (20003 authenticate, 20404 not found, 21604/21603
missing To/From, 21602 missing body, 21617 body over 1,600 characters, 21910 From/To of different
channels). Every accepted message is recorded with the time it arrived.

The real twilio client is pointed at it with its base URL (`TWILIO_API_BASE`).
"""

from __future__ import annotations

import base64
import email.utils
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API_VERSION = "2010-04-01"
MAX_BODY = 1600


@dataclass
class SentMessage:
    sid: str
    to: str
    from_: str
    body: str
    media_url: list[str] = field(default_factory=list)
    content_sid: str = ""
    content_variables: str = ""
    received_at: float = 0.0  # time.monotonic() when the fake received it


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[SentMessage] = []
        self.refused: set[str] = set()  # recipients ("whatsapp:+…") refused with Twilio's error 21211
        self.requests = 0
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-twilio", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeTwilio:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what tests read ---------------------------------------------------------------------
    def to(self, number: str) -> list[SentMessage]:
        with self._changed:
            return [m for m in self.messages if m.to == number]

    def wait_for(self, number: str, count: int, timeout: float = 30.0) -> list[SentMessage]:
        """The messages sent to `number`, once there are at least `count` (AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                sent = [m for m in self.messages if m.to == number]
                if len(sent) >= count:
                    return sent
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{number} got {len(sent)} message(s), expected {count}: {[m.body for m in sent]}")
                self._changed.wait(left)

    def wait_until(self, number: str, done, timeout: float = 30.0) -> list[SentMessage]:
        """The messages sent to `number` once `done(messages)` is true."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                sent = [m for m in self.messages if m.to == number]
                if done(sent):
                    return sent
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{number}: condition not met in {timeout:.0f}s; got {[m.body for m in sent]}")
                self._changed.wait(left)

    # --- the HTTP side -----------------------------------------------------------------------
    def _record(self, message: SentMessage) -> None:
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:  # keep test output clean
                pass

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, code: int, message: str) -> None:
                self._json(status, {"code": code, "message": message,
                                    "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})

            def _authorized(self) -> bool:
                expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                return secrets.compare_digest(self.headers.get("Authorization", ""), f"Basic {expected}")

            def do_GET(self) -> None:
                self._error(404, 20404, f"The requested resource {urlsplit(self.path).path} was not found")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with fake._changed:
                    fake.requests += 1
                path = urlsplit(self.path).path
                if not self._authorized():
                    return self._error(401, 20003, "Authenticate")
                if path != f"/{API_VERSION}/Accounts/{fake.account_sid}/Messages.json":
                    return self._error(404, 20404, f"The requested resource {path} was not found")
                if not (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
                    return self._error(400, 20001, "Invalid content type")
                form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)

                def first(name: str) -> str:
                    return (form.get(name) or [""])[0]

                to, from_, body = first("To"), first("From"), first("Body")
                media, content_sid = form.get("MediaUrl", []), first("ContentSid")
                if not to:
                    return self._error(400, 21604, "A 'To' phone number is required.")
                if not from_ and not first("MessagingServiceSid"):
                    return self._error(400, 21603, "A 'From' phone number is required.")
                if not body and not media and not content_sid:
                    return self._error(400, 21602, "Message body is required.")
                if len(body) > MAX_BODY:
                    return self._error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
                if to in fake.refused:
                    return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
                if to.startswith("whatsapp:") != from_.startswith("whatsapp:"):
                    return self._error(400, 21910, "Invalid From and To pair. From and To should be of the same channel")
                sid = "SM" + secrets.token_hex(16)
                fake._record(SentMessage(sid=sid, to=to, from_=from_, body=body, media_url=list(media),
                                         content_sid=content_sid, content_variables=first("ContentVariables"),
                                         received_at=time.monotonic()))
                now = email.utils.formatdate(usegmt=True).replace("GMT", "+0000")
                uri = f"/{API_VERSION}/Accounts/{fake.account_sid}/Messages/{sid}.json"
                self._json(201, {
                    "account_sid": fake.account_sid, "api_version": API_VERSION, "body": body,
                    "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
                    "error_code": None, "error_message": None, "from": from_, "messaging_service_sid": None,
                    "num_media": str(len(media)), "num_segments": "1", "price": None, "price_unit": "USD",
                    "sid": sid, "status": "queued",
                    "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{fake.account_sid}/Messages/{sid}/Media.json"},
                    "to": to, "uri": uri,
                })

        return Handler

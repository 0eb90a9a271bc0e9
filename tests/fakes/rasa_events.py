"""A local stand-in for one endpoint of Rasa's HTTP API, for the desk's replies:

    POST /conversations/{conversation_id}/tracker/events[?execute_side_effects=true&output_channel=latest]
    Authorization: Bearer <JWT>

It answers 401 unless the request carries a current HS256 JWT signed with `jwt_secret` whose user has
the role "admin" (as Rasa does with `--jwt-secret`; a `?token=` is worth nothing), 404 to any other path,
and otherwise `status` (200 by default) with a tracker-like JSON body, after `delay` seconds. Every
request is recorded: raw path (Rasa does not unquote the conversation id), query, JSON body, content type,
and the JWT's payload (None when missing or invalid).
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt

EVENTS_PATH = re.compile(r"/conversations/(.+)/tracker/events")


def jwt_payload(authorization: str | None, secret: str) -> dict | None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != "Bearer":
        return None
    try:
        return jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return None


class FakeRasa:
    def __init__(self, jwt_secret: str):
        self.jwt_secret = jwt_secret
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0) or 0))
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                try:
                    payload = json.loads(body or b"null")
                except ValueError:
                    payload = None
                claims = jwt_payload(self.headers.get("authorization"), fake.jwt_secret)
                fake.requests.append({"path": url.path, "query": query, "body": payload, "jwt": claims,
                                      "content_type": self.headers.get("content-type"), "at": time.time()})
                time.sleep(fake.delay)
                match = EVENTS_PATH.fullmatch(url.path)
                if match is None:
                    status = 404
                elif claims is None or (claims.get("user") or {}).get("role") != "admin":
                    status = 401
                else:
                    status = fake.status
                answer = json.dumps({"sender_id": match.group(1) if match else None, "events": [payload]}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the caller gave up waiting
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-rasa", daemon=True)
        self.thread.start()
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self) -> FakeRasa:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

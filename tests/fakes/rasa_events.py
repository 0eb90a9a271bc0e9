"""A local stand-in for one endpoint of Rasa's HTTP API, for the desk's replies:

    POST /conversations/{conversation_id}/tracker/events?token=…[&execute_side_effects=true&output_channel=latest]

It answers 401 to a wrong or missing token (as Rasa does with `--auth-token`), 404 to any other path,
and otherwise `status` (200 by default) with a tracker-like JSON body, after `delay` seconds. Every
request is recorded: raw path (Rasa does not unquote the conversation id), query, JSON body, content type.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

EVENTS_PATH = re.compile(r"/conversations/(.+)/tracker/events")


class FakeRasa:
    def __init__(self, token: str):
        self.token = token
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
                fake.requests.append({"path": url.path, "query": query, "body": payload,
                                      "content_type": self.headers.get("content-type"), "at": time.time()})
                time.sleep(fake.delay)
                match = EVENTS_PATH.fullmatch(url.path)
                if match is None:
                    status = 404
                elif query.get("token") != [fake.token]:
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

"""Regression (found by tests/e2e/test_fuzz.py): Sanic 21.12 answered 500 "An error occurred while
handling an error" instead of 404/405 when the request's Accept header was malformed. bot/sanic_accept.py
(applied by the Rasa server's channels and by the action server) reads such a header as none. The
action server also answered 500 to any 404/405/400 (rasa_sdk's catch-all handler): it keeps their status."""

from __future__ import annotations

import os
import time

import httpx
import pytest
from sanic.request import Request

from bot import sanic_accept
from tests.stack import free_port
from tests.unit.test_action_server import SECRET, start, stop

MALFORMED = ["x", "pC", "a/b/c", ";", "text/html;q=abc", "text/html;q=", "*/*;q=1e999x, x", "\x7f"]


class _Headers(dict):
    def getone(self, key: str, default: str) -> str:
        return self.get(key, default)


@pytest.mark.parametrize("value", MALFORMED)
def test_a_malformed_accept_header_reads_as_none(value):
    sanic_accept.apply()
    request = Request.__new__(Request)
    request.parsed_accept, request.headers = None, _Headers(accept=value)
    assert list(request.accept) == []


def test_a_wellformed_accept_header_is_parsed_as_before():
    sanic_accept.apply()
    request = Request.__new__(Request)
    request.parsed_accept, request.headers = None, _Headers(accept="application/json, text/html;q=0.5")
    assert [str(a) for a in request.accept] == ["application/json", "text/html;q=0.5"]


def test_the_action_server_keeps_its_4xx_with_a_malformed_accept_header(tmp_path):
    port = free_port()
    proc = start(port, {**os.environ, "ACTION_SERVER_SECRET": SECRET}, log=tmp_path / "actions.log")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "actions.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)
        auth = {"Authorization": f"Bearer {SECRET}"}
        for value in MALFORMED[:5]:
            assert httpx.get(f"{url}/nada", headers={**auth, "accept": value}, timeout=10).status_code == 404, value
            assert httpx.get(f"{url}/webhook", headers={**auth, "accept": value}, timeout=10).status_code == 405, value
            assert httpx.post(f"{url}/webhook", headers={"accept": value}, timeout=10).status_code == 401, value
        # rasa_sdk's own handler answered 500 to these too (bot/action_server.py keeps their status)
        assert httpx.post(f"{url}/webhook", headers=auth, content=b"{no json", timeout=10).status_code == 400
        assert httpx.get(f"{url}/nada", headers=auth, timeout=10).status_code == 404
    finally:
        stop(proc)

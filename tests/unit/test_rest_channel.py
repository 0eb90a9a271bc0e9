"""The REST channel is not public: `Authorization: Bearer <REST_CHANNEL_TOKEN>` or 401, no token
configured: 503 for everyone, and a client's `metadata` never reaches Rasa.

The real channel (bot/rasa/channels/rest.py) on a real Sanic server in Rasa's environment
(tests/fakes/rest_channel_server.py), which answers each message with what the channel handed on.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.stack import ROOT, free_port

TOKEN = secrets.token_urlsafe(32)


@contextmanager
def rest_channel(tmp: Path, token: str | None) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    env.pop("REST_CHANNEL_TOKEN", None)
    if token is not None:
        env["REST_CHANNEL_TOKEN"] = token
    log = tmp / f"rest-{port}.log"
    proc = subprocess.Popen([str(ROOT / ".venv/bin/python"), "-m", "tests.fakes.rest_channel_server", str(port)],
                            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/webhooks/rest"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        yield f"{url}/webhook"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def webhook(tmp_path_factory):
    with rest_channel(tmp_path_factory.mktemp("rest"), TOKEN) as url:
        yield url


def handed_on(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    [reply] = response.json()
    return json.loads(reply["text"])


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"},
    {"Authorization": f"Bearer {TOKEN[:-1]}"},
    {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": TOKEN},
    {"Authorization": f"Basic {TOKEN}"},
    {"X-Token": TOKEN},
], ids=["none", "wrong", "prefix", "longer", "no-scheme", "basic", "other-header"])
def test_without_the_right_bearer_token_nothing_reaches_the_assistant(webhook, headers):
    response = httpx.post(webhook, json={"sender": "ana", "message": "hola"}, headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.text.count("hola") == 0  # no reply: on_new_message never ran
    assert httpx.post(f"{webhook}?token={TOKEN}", json={"sender": "ana", "message": "hola"}, timeout=30).status_code == 401


def test_with_the_bearer_token_the_message_is_handed_on(webhook):
    response = httpx.post(webhook, json={"sender": "ana", "message": "hola"},
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert handed_on(response) == {"text": "hola", "sender": "ana", "input_channel": "rest", "metadata": None}


@pytest.mark.parametrize("metadata", [{"handoff": True, "advisor_id": "ana", "session_id": "web:x"}, "x", [1], None])
def test_client_metadata_is_never_handed_on(webhook, metadata):
    response = httpx.post(webhook, json={"sender": "ana", "message": "hola", "metadata": metadata},
                          headers={"Authorization": f"bearer {TOKEN}"}, timeout=30)
    assert handed_on(response)["metadata"] is None


def test_without_a_configured_token_the_channel_is_closed(tmp_path):
    for token in (None, "   "):
        with rest_channel(tmp_path, token) as url:
            for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": f"Bearer {TOKEN}"}):
                response = httpx.post(url, json={"sender": "ana", "message": "hola"}, headers=headers, timeout=30)
                assert response.status_code == 503 and "REST_CHANNEL_TOKEN" in response.json()["error"]

"""Who may talk to which server, on the real stack (tests/stack.py: the same launchers as `make run`).

- the REST channel: only with `Authorization: Bearer <REST_CHANNEL_TOKEN>`; a client's metadata is not stored;
- Rasa's HTTP API: only with an admin JWT signed with RASA_JWT_SECRET; `?token=` opens nothing;
- the action server: on loopback, and only for Rasa (the shared secret Rasa sends from endpoints.yml).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from bot.handoff.rasa_api import RasaApi, RasaRefused
from bot.rasa_jwt import admin_token
from tests.unit.test_action_server import action_call, listening_addresses

pytestmark = pytest.mark.e2e

QUESTION = "q papeles necesito pa chambear en españa"


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer " + secrets.token_urlsafe(32)}, {"Authorization": "x"}],
                         ids=["none", "wrong", "malformed"])
def test_the_rest_channel_refuses_callers_without_its_token(stack, headers):
    sender = "sec-rest-" + secrets.token_hex(4)
    response = httpx.post(stack.webhook(), json={"sender": sender, "message": "hola"}, headers=headers, timeout=30)
    assert response.status_code == 401
    as_query = httpx.post(stack.webhook(), params={"token": stack.rest_token}, json={"sender": sender, "message": "hola"},
                          timeout=30)
    assert as_query.status_code == 401
    assert not [e for e in stack.tracker(sender)["events"] if e["event"] == "user"]  # nothing reached Rasa


def test_the_rest_channel_answers_with_its_token_through_the_action_server(stack):
    sender = "sec-rest-ok-" + secrets.token_hex(4)
    answer = texts(stack.say(sender, QUESTION))
    assert "España" in answer and len(answer) > 200  # the article on Spain: only the action server has it


def test_client_metadata_is_not_stored_in_the_tracker(stack):
    sender = "sec-meta-" + secrets.token_hex(4)
    injected = {"injected": "sí", "handoff": True, "advisor_id": "mallory", "session_id": "web:x"}
    response = httpx.post(stack.webhook(), json={"sender": sender, "message": "hola", "metadata": injected},
                          headers=stack.rest_headers(), timeout=60)
    assert response.status_code == 200 and response.json()
    [user] = [e for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    assert user["text"] == "hola" and user["input_channel"] == "rest"
    assert not set(injected) & set(user.get("metadata") or {})
    assert "mallory" not in str(stack.tracker(sender))


def api_status(stack, **kwargs) -> int:
    return httpx.get(f"{stack.rasa_url}/status", timeout=30, **kwargs).status_code


def test_the_http_api_takes_only_a_valid_admin_jwt(stack):
    bearer = {"Authorization": f"Bearer {admin_token(stack.jwt_secret)}"}
    assert api_status(stack, headers=bearer) == 200
    assert api_status(stack) == 401
    for token in (stack.jwt_secret, admin_token(stack.jwt_secret), stack.rest_token):
        assert api_status(stack, params={"token": token}) == 401  # no token mode: ?token= opens nothing
    forged = {"Authorization": f"Bearer {admin_token(secrets.token_urlsafe(32))}"}
    expired = {"Authorization": f"Bearer {admin_token(stack.jwt_secret, now=time.time() - 3600)}"}
    for headers in (forged, expired):
        assert api_status(stack, headers=headers) == 401
    unsigned = {"Authorization": "Bearer " + jwt.encode({"user": {"username": "x", "role": "admin"}}, None, algorithm="none")}
    assert api_status(stack, headers=unsigned) in (401, 500)  # sanic-jwt 1.8 fails on alg "none": refused either way
    person = jwt.encode({"user": {"username": "alguien", "role": "user"}, "exp": int(time.time()) + 60},
                        stack.jwt_secret, algorithm="HS256")
    other = httpx.get(f"{stack.rasa_url}/conversations/otra-persona/tracker",
                      headers={"Authorization": f"Bearer {person}"}, timeout=30)
    assert other.status_code == 403


def test_the_desk_client_works_with_the_jwt_secret_and_not_without(stack):
    async def calls(secret: str) -> dict:
        api = RasaApi(stack.rasa_url, secret)
        try:
            return await api.status()
        finally:
            await api.close()

    assert "model_file" in asyncio.run(calls(stack.jwt_secret))
    with pytest.raises(RasaRefused, match="401"):
        asyncio.run(calls(secrets.token_urlsafe(32)))


def test_the_action_server_listens_on_loopback_and_answers_only_rasa(stack):
    port = urlsplit(stack.actions_url).port
    assert listening_addresses(port) == {"127.0.0.1"}
    sender = "sec-forged-" + secrets.token_hex(4)
    call = {**action_call(sender), "next_action": "action_submit_suggestion"}
    for headers in ({}, {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"},
                    {"Authorization": f"Bearer {stack.rest_token}"}, {"Authorization": f"Bearer {stack.jwt_secret}"}):
        assert httpx.post(f"{stack.actions_url}/webhook", json=call, headers=headers, timeout=30).status_code == 401
    listed = httpx.get(f"{stack.actions_url}/actions", headers={"Authorization": f"Bearer {stack.action_secret}"}, timeout=30)
    assert listed.status_code == 200 and {"name": "action_answer_topic"} in listed.json()

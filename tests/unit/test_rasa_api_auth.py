"""Rasa's HTTP API is reached with short-lived admin JWTs, never with `?token=`, and Rasa's API never
starts without a JWT secret from the environment (bot/rasa/server.py, bot/rasa_jwt.py).

The desk's client (bot/handoff/rasa_api.py) is checked against a real HTTP server on loopback that
verifies the JWT as Rasa does (tests/fakes/rasa_events.py); tests/e2e/test_security.py checks the
real Rasa server.
"""

from __future__ import annotations

import secrets
import time

import jwt
import pytest

from bot.handoff.rasa_api import RasaApi, RasaRefused, RasaUnavailable
from bot.rasa.server import rasa_argv
from bot.rasa_jwt import admin_token
from tests.fakes.rasa_events import FakeRasa

SECRET = secrets.token_urlsafe(32)
RUN = ["run", "--model", "models/infomigra.tar.gz", "--enable-api", "--port", "5005"]


def test_the_secret_reaches_rasa_from_the_environment_only():
    assert rasa_argv(RUN, {"RASA_JWT_SECRET": f" {SECRET} "}) == [*RUN, f"--jwt-secret={SECRET}", "--jwt-method=HS256"]
    assert rasa_argv(["run", "--model", "m"], {}) == ["run", "--model", "m"]  # no API, nothing to protect
    for env in ({}, {"RASA_JWT_SECRET": ""}, {"RASA_JWT_SECRET": "corto"}):
        with pytest.raises(SystemExit, match="RASA_JWT_SECRET"):
            rasa_argv(RUN, env)
    for flag in (["--auth-token", "x"], ["--auth-token=x"], ["-t", "x"], ["-tx"], ["--jwt-secret", SECRET], ["--jwt-method=none"]):
        with pytest.raises(SystemExit, match="not accepted on the command line"):
            rasa_argv([*RUN, *flag], {"RASA_JWT_SECRET": SECRET})


def test_tokens_are_admin_hs256_and_short_lived():
    claims = jwt.decode(admin_token(SECRET, "infomigra-desk"), SECRET, algorithms=["HS256"])
    assert claims["user"] == {"username": "infomigra-desk", "role": "admin"}
    assert 0 < claims["exp"] - time.time() <= 60
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(admin_token(SECRET, now=time.time() - 120), SECRET, algorithms=["HS256"])
    assert jwt.get_unverified_header(admin_token(SECRET))["alg"] == "HS256"


async def test_the_desk_calls_rasa_with_a_bearer_jwt_and_no_query_token():
    with FakeRasa(SECRET) as rasa:
        api = RasaApi(rasa.url, SECRET)
        try:
            await api.append("web:0a1b", [{"event": "bot", "text": "hola"}], channel="web")
        finally:
            await api.close()
        [call] = rasa.requests
        assert "token" not in call["query"]
        assert call["jwt"]["user"]["role"] == "admin" and call["jwt"]["exp"] - time.time() <= 60


async def test_a_wrong_or_missing_secret_is_refused():
    with FakeRasa(SECRET) as rasa:
        wrong = RasaApi(rasa.url, secrets.token_urlsafe(32))
        try:
            with pytest.raises(RasaRefused, match="401"):
                await wrong.append("web:0a1b", [{"event": "bot", "text": "hola"}])
        finally:
            await wrong.close()
        missing = RasaApi(rasa.url, "")
        try:
            with pytest.raises(RasaUnavailable, match="RASA_JWT_SECRET"):
                await missing.append("web:0a1b", [{"event": "bot", "text": "hola"}])
        finally:
            await missing.close()
        assert [call["jwt"] for call in rasa.requests] == [None]

"""The credential of Rasa's HTTP API: short-lived HS256 JWTs signed with RASA_JWT_SECRET.

Rasa runs with `--jwt-secret` (set from the environment by `python -m bot.rasa.server`) and
accepts `Authorization: Bearer <jwt>` whose payload is `{"user": {"username": …, "role": "admin"}}`
(rasa/server.py `requires_auth`; sanic-jwt checks the signature and `exp`). Each call gets a fresh
token valid for a minute, so a token seen in a log or a proxy is worth little; the secret itself
never travels.
"""

from __future__ import annotations

import time

import jwt

SECRET_ENV = "RASA_JWT_SECRET"
MIN_SECRET_CHARS = 32
ALGORITHM = "HS256"
LIFETIME_SECONDS = 60


def admin_token(secret: str, username: str = "infomigra", lifetime: int = LIFETIME_SECONDS,
                now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    payload = {"user": {"username": username, "role": "admin"}, "exp": issued + lifetime}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def auth_headers(secret: str, username: str = "infomigra") -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token(secret, username)}"}

"""Rasa's HTTP API, as the desk uses it (the API enabled with a JWT secret: `python -m bot.rasa.server`).

- `append`: POST /conversations/{id}/tracker/events?execute_side_effects=true&output_channel=…
  Appends events under the conversation's lock; `bot` events are delivered through the
  channel's `get_output_channel()`, also while the conversation is paused. The channel is named
  explicitly (the ticket knows it), which also works after a new session has started; "latest"
  (the channel of the person's last message in the session) is the fallback.
- `tracker`: GET /conversations/{id}/tracker (slots to carry over; messages to reconcile).
- `parse`: POST /model/parse (what the assistant understands of a text: the articles suggested to an
  advisor beside an e-mail or a chat, bot/knowledge/suggest.py).

Every call carries `Authorization: Bearer <JWT>`: an admin token valid for a minute, signed with
RASA_JWT_SECRET (bot/rasa_jwt.py). Never `?token=` (a query string ends up in access logs); the
secret itself never leaves the process and is never logged here.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from bot.rasa_jwt import SECRET_ENV, auth_headers

logger = logging.getLogger(__name__)

# Channels that can receive pushes (their InputChannel implements get_output_channel()).
PUSH_CHANNELS = frozenset({"web", "telegram", "whatsapp"})


class RasaUnavailable(RuntimeError):
    """Rasa did not answer (down, restarting, unreachable): try again later."""


class RasaRefused(RuntimeError):
    """Rasa answered with an error (e.g. the channel refused the message)."""


def _path(sender_id: str) -> str:
    """The conversation id in the URL path: Rasa (Sanic) does not unquote it, so the characters of
    our sender ids ("whatsapp:+51…", "web:<uuid>") go as they are; anything else is quoted."""
    return quote(sender_id, safe=":+@")


class RasaApi:
    def __init__(self, base_url: str, jwt_secret: str, timeout: float = 20.0,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.jwt_secret = jwt_secret
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)

    @property
    def configured(self) -> bool:
        return bool(self.jwt_secret)

    async def close(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, params: dict[str, str], json: Any = None) -> Any:
        if not self.jwt_secret:
            raise RasaUnavailable(f"{SECRET_ENV} is not set: the desk cannot reach Rasa's HTTP API")
        try:
            response = await self._client.request(method, path, params=params, json=json,
                                                   headers=auth_headers(self.jwt_secret, "infomigra-desk"))
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{type(exc).__name__} calling Rasa") from None
        if response.status_code in (502, 503, 504):
            raise RasaUnavailable(f"Rasa answered {response.status_code}")
        if response.status_code >= 400:
            try:
                detail = response.json().get("message") or response.text
            except ValueError:
                detail = response.text
            raise RasaRefused(f"Rasa answered {response.status_code}: {str(detail)[:200]}")
        return response.json() if response.content else None

    async def append(self, sender_id: str, events: list[dict], channel: str | None = None) -> None:
        """Append events (and deliver the `bot` ones) to a conversation."""
        output = channel if channel in PUSH_CHANNELS else "latest"
        await self._call("POST", f"/conversations/{_path(sender_id)}/tracker/events",
                         {"execute_side_effects": "true", "output_channel": output, "include_events": "NONE"}, events)

    async def tracker(self, sender_id: str) -> dict:
        return await self._call("GET", f"/conversations/{_path(sender_id)}/tracker", {"include_events": "AFTER_RESTART"})

    async def parse(self, text: str) -> dict:
        """Rasa's NLU on a text, as the chat would read it: {"intent": {"name", "confidence"}, "entities": […]}."""
        return await self._call("POST", "/model/parse", {}, {"text": text})

    async def status(self) -> dict:
        return await self._call("GET", "/status", {})

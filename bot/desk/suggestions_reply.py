"""A staff reply to the person who left a suggestion, delivered on their own channel through Rasa's HTTP API.

    POST {RASA_URL}/conversations/{sender_id}/tracker/events?execute_side_effects=true&output_channel=<channel>
    Authorization: Bearer <JWT>
    {"event": "bot", "text": "…", "metadata": {"source": "desk", "suggestion": "VM-2026-7K3Q9"}}

Rasa appends the bot event to the person's conversation and sends it on the channel of the suggestion
(whatsapp, telegram or web; `output_channel`). Environment: RASA_URL (default http://localhost:5005) and RASA_JWT_SECRET (required: the
secret Rasa's HTTP API was started with, which signs a short-lived admin JWT per call, bot/rasa_jwt.py;
without it no reply is sent). Every failure raises `ReplyError` with a
Spanish message for the staff; a `ReplyError` means the person did not get the reply, except when
`uncertain` is set (a timeout: Rasa may have delivered it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httpx

from bot.handoff.rasa_api import PUSH_CHANNELS
from bot.rasa_jwt import SECRET_ENV, auth_headers

log = logging.getLogger(__name__)

DEFAULT_RASA_URL = "http://localhost:5005"
REPLY_MAX = 1500  # the staff's words; with the prefix it stays under WhatsApp's 1,600 characters
TIMEOUT_SECONDS = 15.0
# characters a path segment may carry as they are (RFC 3986 pchar): Rasa does not unquote the
# conversation id, so "whatsapp:+51987654321" must reach it literally
_PATH_SAFE = "/:@+!$&'()*,;="


def output_channel(channel: str | None, sender_id: str) -> str:
    """The person's own channel, named to Rasa: with "latest" Rasa takes the channel of the last
    message in the stored conversation, and when there is none (the conversation was erased or is
    gone from the store) it collects the reply, answers 200 and sends nothing."""
    for name in (channel, sender_id.partition(":")[0]):
        if name in PUSH_CHANNELS:
            return name
    raise ReplyError("La persona escribió por un canal que no recibe mensajes después de la conversación. "
                     "No se envió nada.", status=409)


class ReplyError(Exception):
    def __init__(self, message: str, *, uncertain: bool = False, status: int = 502):
        super().__init__(message)
        self.message = message
        self.uncertain = uncertain
        self.status = status


@dataclass(frozen=True)
class RasaEndpoint:
    url: str
    jwt_secret: str | None
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RasaEndpoint:
        env = os.environ if env is None else env
        url = (env.get("RASA_URL") or "").strip() or DEFAULT_RASA_URL
        return cls(url=url.rstrip("/"), jwt_secret=(env.get(SECRET_ENV) or "").strip() or None)

    @property
    def configured(self) -> bool:
        return bool(self.jwt_secret)


def reply_text(reference: str, text: str) -> str:
    """What the person reads: a first line that names their message, then the staff's words."""
    return f"Respuesta a tu mensaje {reference} de «La voz del migrante» (PERÚ INFOMIGRA):\n\n{text}"


def events_url(endpoint: RasaEndpoint, sender_id: str) -> str:
    return f"{endpoint.url}/conversations/{quote(sender_id, safe=_PATH_SAFE)}/tracker/events"


async def deliver(endpoint: RasaEndpoint, sender_id: str, reference: str, text: str,
                  transport: httpx.AsyncBaseTransport | None = None, channel: str | None = None) -> None:
    """Send `text` (already prefixed) to the conversation `sender_id` on its `channel` (else the one its
    id names); raise ReplyError unless Rasa took it (2xx)."""
    target = output_channel(channel, sender_id)
    if not endpoint.configured:
        raise ReplyError("Las respuestas no están configuradas: falta la variable RASA_JWT_SECRET en el servidor de la mesa. "
                         "No se envió nada.", status=503)
    parts = urlsplit(endpoint.url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ReplyError("RASA_URL no es una dirección http(s) válida. No se envió nada.", status=503)
    body = {"event": "bot", "text": text, "metadata": {"source": "desk", "suggestion": reference}}
    params = {"execute_side_effects": "true", "output_channel": target}
    try:
        async with httpx.AsyncClient(timeout=endpoint.timeout, transport=transport, follow_redirects=False) as client:
            response = await client.post(events_url(endpoint, sender_id), params=params, json=body,
                                         headers=auth_headers(endpoint.jwt_secret, "infomigra-desk"))
    except httpx.TimeoutException:
        log.warning("desk reply for %s: Rasa did not answer within %ss", reference, endpoint.timeout)
        raise ReplyError("El asistente no respondió a tiempo: no sabemos si la respuesta llegó a la persona. "
                         "No se registró como enviada; revise el historial de la conversación antes de reintentar.",
                         uncertain=True, status=504) from None
    except httpx.HTTPError as exc:
        log.warning("desk reply for %s: cannot reach Rasa at %s (%s)", reference, endpoint.url, type(exc).__name__)
        raise ReplyError("No se pudo conectar con el asistente (RASA_URL). No se envió nada; inténtelo más tarde.") from None
    if not response.is_success:
        log.warning("desk reply for %s: Rasa answered %s", reference, response.status_code)
        if response.status_code in (401, 403):
            message = "El asistente rechazó la credencial (RASA_JWT_SECRET). No se envió nada."
        else:
            message = f"El asistente no pudo entregar la respuesta (código {response.status_code}). No se envió nada."
        raise ReplyError(message)

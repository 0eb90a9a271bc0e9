"""The window's articles to the person's WhatsApp, with their consent (directive 5.5; issue 16).

WhatsApp lets a business write freely only within 24 hours of the person's last message; anything else
must be a template WhatsApp approved. So, for a consultation whose person gave a WhatsApp number:

- the person wrote to the service's WhatsApp in the last 24 hours (at the window, the advisor can ask
  them to send "hola" right there): the articles go out at once, as the assistant's own messages;
- otherwise the approved template `WINDOW_WHATSAPP_TEMPLATE_SID` goes out (variables: {{1}} the
  reference, {{2}} the articles' titles), saying the information waits for their answer; the articles
  wait (`whatsapp_waiting_since`) and the desk's worker sends them as soon as the person writes back
  within a week (`WAIT`). A person who opted out ("BAJA") is written nothing.

Everything goes through Rasa's HTTP API into the person's WhatsApp conversation (bot/handoff/rasa_api.py,
output channel "whatsapp"), as an advisor's answers do: the WhatsApp channel (bot/rasa/channels/whatsapp.py)
sends it with the Twilio client, and the messages stay in the conversation, so the assistant (and an
advisor, after a handoff) knows what the person received. Only once Rasa (and so Twilio) took them are
they recorded as sent.

The template to submit to WhatsApp (Twilio Content Template Builder, category "utility", Spanish):

    Hola, te escribe PERÚ INFOMIGRA, el servicio de información sobre migración laboral del Ministerio
    de Trabajo y Promoción del Empleo. En la ventanilla pediste recibir por WhatsApp la información de
    tu consulta {{1}}: {{2}}. Responde a este mensaje y te la enviamos aquí. Si no fuiste tú, responde BAJA.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.handoff.rasa_api import RasaApi, RasaRefused, RasaUnavailable
from bot.knowledge.model import Article
from bot.knowledge.render import render
from bot.logsafe import scrubbed
from bot.store.clock import aware, now
from bot.store.schema import contacts
from bot.window.store import Visit, WindowStore, articles_of

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
TEMPLATE_ENV = "WINDOW_WHATSAPP_TEMPLATE_SID"
CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
FREE_WINDOW = dt.timedelta(hours=24)  # WhatsApp's customer-service window
WAIT = dt.timedelta(days=7)  # how long the articles wait for an answer to the template
TITLES_MAX = 600  # a template variable stays short, on one line (WhatsApp refuses new lines in variables)
SERVICE = "PERÚ INFOMIGRA"


class WindowSettingsError(ValueError):
    """WINDOW_WHATSAPP_TEMPLATE_SID is set but is not a Twilio ContentSid."""


class WhatsAppNotSent(Exception):
    """The articles could not go out; the message says why, in Spanish, for the advisor."""

    def __init__(self, message: str, status: int = 400, code: str | None = None, *, retry: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry = retry  # nothing went out and it may later (Rasa away), as opposed to a refusal


def template_sid(env: Mapping[str, str] | None = None) -> str | None:
    """The approved template's ContentSid, None when not set; WindowSettingsError when malformed."""
    value = (os.environ if env is None else env).get(TEMPLATE_ENV, "").strip()
    if not value:
        return None
    if not CONTENT_SID.match(value):
        raise WindowSettingsError(f"{TEMPLATE_ENV} debe ser un ContentSid de Twilio (HX y 32 caracteres hexadecimales)")
    return value


def sender_id(number: str) -> str:
    """The person's WhatsApp conversation, as the channel names it ("whatsapp:+51987654321")."""
    return f"{CHANNEL}:{number}"


@dataclass(frozen=True)
class Contact:
    last_inbound_at: dt.datetime | None
    opted_out: bool


def contact(engine: Engine, number: str) -> Contact:
    """What the WhatsApp channel knows of this number: when the person last wrote, and whether they opted out."""
    with engine.connect() as conn:
        row = conn.execute(select(contacts.c.last_inbound_at, contacts.c.opted_out)
                           .where(contacts.c.sender_id == sender_id(number))).first()
    return Contact(aware(row.last_inbound_at), bool(row.opted_out)) if row else Contact(None, False)


def can_write_freely(person: Contact, at: dt.datetime) -> bool:
    return person.last_inbound_at is not None and at - person.last_inbound_at < FREE_WINDOW


def template_variables(visit: Visit, articles: list[Article]) -> dict[str, str]:
    titles = "; ".join(a.title for a in articles)
    if len(titles) > TITLES_MAX:
        titles = titles[:TITLES_MAX - 1].rsplit(";", 1)[0] + "…"
    return {"1": visit.reference, "2": titles}


def article_texts(visit: Visit, articles: list[Article]) -> list[str]:
    """The messages the person receives: who writes and why, each article as the assistant answers it
    (essentials, details, sources and date), and how to go on."""
    where = f" ({visit.office})" if visit.office else ""
    texts = [f"Hola, te escribe {SERVICE}. Esta es la información de tu consulta {visit.reference} en la "
             f"ventanilla{where}."]
    for article in articles:
        texts += [message.text for message in render(article)]
    texts.append("Si tienes otra pregunta, escríbela aquí y te respondo. Si alguien te pide dinero en nombre de "
                 "INFOMIGRA, no pagues. Para no recibir más mensajes, responde BAJA.")
    return texts


def refusal(exc: Exception) -> str:
    """What is kept of a refusal: its status, never the body (which may repeat the number or the text)."""
    return f"WhatsApp no aceptó el mensaje ({str(exc).split(':', 1)[0]})"


def _bot_events(texts: list[str], visit: Visit) -> list[dict]:
    metadata = {"window_visit": visit.reference}
    return [{"event": "bot", "text": text, "data": {}, "metadata": metadata} for text in texts]


class WindowWhatsApp:
    """Sends a consultation's articles to WhatsApp (now, or after a template) and, on the desk's worker,
    the articles that waited for the person's answer."""

    def __init__(self, store: WindowStore, api: RasaApi, template: str | None, kb: Callable[[], Any]) -> None:
        self.store = store
        self.api = api
        self.template = template
        self._load_kb = kb
        self._kb: Any = None

    def kb(self) -> Any:
        """The knowledge base, loaded on first use (in a worker thread)."""
        if self._kb is None:
            self._kb = self._load_kb()
        return self._kb

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def send(self, visit: Visit, advisor_id: int | None, at: dt.datetime | None = None) -> str:
        """"sent" (the articles went out) or "waiting" (the template did; the articles wait for the answer);
        WhatsAppNotSent with the reason otherwise (a failed attempt is recorded)."""
        at = at or now()
        if not visit.contact_whatsapp:
            raise WhatsAppNotSent("Esta atención no tiene un número de WhatsApp (o ya se borró).")
        articles = articles_of(visit, await self._run(self.kb))
        if not articles:
            raise WhatsAppNotSent("Esta atención no tiene artículos que enviar.")
        if visit.whatsapp_sent_at is not None:
            raise WhatsAppNotSent("La información ya se envió por WhatsApp.", 409)
        if not self.api.configured:
            raise WhatsAppNotSent("La mesa no puede hablar con el asistente (RASA_JWT_SECRET no está configurado): "
                                  "entregue la hoja impresa o envíela por correo.", 503, "whatsapp_no_configurado")
        person = await self._run(contact, self.store.engine, visit.contact_whatsapp)
        if person.opted_out:
            raise WhatsAppNotSent("Ese número pidió no recibir mensajes del servicio (respondió BAJA): no se le envía "
                                  "nada hasta que vuelva a escribir. Entregue la hoja impresa.", 409, "whatsapp_baja")
        if can_write_freely(person, at):
            # Articles waiting for an answer to the template are the worker's too: whoever claims the wait sends
            # them, so an advisor's click and the worker's round right after the person's "hola" send them once.
            since = visit.whatsapp_waiting_since
            if since is not None and not await self._run(self.store.claim_waiting, visit.id):
                raise WhatsAppNotSent("La información ya está saliendo por WhatsApp: la persona acaba de responder a "
                                      "la plantilla.", 409)
            try:
                await self._deliver(visit, articles, advisor_id, at)
            except WhatsAppNotSent as exc:
                if since is not None and exc.retry:  # Rasa away: the worker sends them when it is back
                    await self._run(self.store.wait_again, visit.id, since)
                raise
            return "sent"
        if visit.whatsapp_waiting_since is not None:
            raise WhatsAppNotSent("La plantilla ya se envió: la información sale en cuanto la persona responda.", 409)
        if not self.template:
            raise WhatsAppNotSent(
                "La persona no ha escrito al WhatsApp del servicio en las últimas 24 horas (y esta mesa no tiene plantilla "
                "aprobada): pídale que escriba «hola» al WhatsApp de INFOMIGRA y vuelva a pulsar «Enviar por WhatsApp».",
                409, "whatsapp_sin_plantilla")
        event = {"event": "bot", "text": None, "metadata": {"window_visit": visit.reference},
                 "data": {"custom": {"content_sid": self.template,
                                     "content_variables": template_variables(visit, articles)}}}
        await self._append(visit, [event], advisor_id, at)
        await self._run(self.store.template_sent, visit.id, advisor_id, at)
        logger.info("window: template sent for %s; its articles wait for the person's answer", visit.reference)
        return "waiting"

    async def _append(self, visit: Visit, events: list[dict], advisor_id: int | None, at: dt.datetime) -> None:
        """Into the person's WhatsApp conversation; a refusal is recorded and explained to the advisor."""
        try:
            await self.api.append(sender_id(visit.contact_whatsapp or ""), events, CHANNEL)
        except RasaUnavailable as exc:
            await self._run(self.store.failed, visit.id, CHANNEL, f"el asistente no respondió ({exc})", advisor_id, at)
            raise WhatsAppNotSent("No se pudo enviar: el asistente no responde en este momento. No se envió nada; puede "
                                  "volver a intentarlo.", 502, "envio_fallido", retry=True) from None
        except RasaRefused as exc:
            logger.warning("window: WhatsApp refused the messages of %s: %s", visit.reference,
                           scrubbed(str(exc), visit.contact_whatsapp or ""))
            await self._run(self.store.failed, visit.id, CHANNEL, refusal(exc), advisor_id, at)
            raise WhatsAppNotSent("No se pudo enviar: WhatsApp (Twilio) no aceptó el mensaje. Revise el número con la "
                                  "persona; puede volver a intentarlo.", 502, "envio_fallido") from None

    async def _deliver(self, visit: Visit, articles: list[Article], advisor_id: int | None, at: dt.datetime) -> None:
        await self._append(visit, _bot_events(article_texts(visit, articles), visit), advisor_id, at)
        await self._run(self.store.sent, visit.id, CHANNEL, advisor_id, at)
        logger.info("window: the articles of %s were sent to WhatsApp", visit.reference)

    async def _deliver_waited(self, visit: Visit, since: dt.datetime, at: dt.datetime) -> None:
        """The worker's delivery of articles that waited: Rasa away → they wait again (no failure recorded each
        round); refused by WhatsApp → recorded once, for the advisor to see, and the wait ends."""
        articles = articles_of(visit, await self._run(self.kb))
        try:
            await self.api.append(sender_id(visit.contact_whatsapp or ""), _bot_events(article_texts(visit, articles), visit),
                                  CHANNEL)
        except RasaUnavailable as exc:
            logger.warning("window: the articles of %s wait for Rasa: %s", visit.reference, exc)
            await self._run(self.store.wait_again, visit.id, since)
            return
        except RasaRefused as exc:
            logger.warning("window: the articles of %s were refused: %s", visit.reference,
                           scrubbed(str(exc), visit.contact_whatsapp or ""))
            await self._run(self.store.failed, visit.id, CHANNEL, refusal(exc), None, at)
            return
        await self._run(self.store.sent, visit.id, CHANNEL, None, at)
        logger.info("window: the articles of %s were sent to WhatsApp after the person answered", visit.reference)

    async def deliver_waiting(self, at: dt.datetime | None = None) -> None:
        """The worker's round: the articles of every consultation whose person answered the template go out;
        a wait of more than a week ends (the person can still ask the assistant, or come back)."""
        at = at or now()
        for visit in await self._run(self.store.waiting):
            since = visit.whatsapp_waiting_since
            assert since is not None and visit.contact_whatsapp
            person = await self._run(contact, self.store.engine, visit.contact_whatsapp)
            answered = person.last_inbound_at is not None and person.last_inbound_at > since
            if answered and person.opted_out:  # their answer was BAJA
                if await self._run(self.store.claim_waiting, visit.id):
                    await self._run(self.store.failed, visit.id, CHANNEL, "la persona respondió BAJA", None, at)
                continue
            if answered and can_write_freely(person, at):
                if await self._run(self.store.claim_waiting, visit.id):  # else another desk process took it
                    await self._deliver_waited(visit, since, at)
            elif at - since > WAIT and await self._run(self.store.claim_waiting, visit.id):
                await self._run(self.store.failed, visit.id, CHANNEL, "la persona no respondió a la plantilla en 7 días",
                                None, at)

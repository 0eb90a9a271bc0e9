"""What the service's mailbox sends back (issue 16): the automatic acknowledgement and an advisor's
answer, each a proper e-mail in the person's thread.

Both are `EmailMessage`s ready for SMTP: plain text plus a simple HTML alternative made from the same
text (every piece escaped; only `https://` addresses become links), `In-Reply-To` and `References`
chaining the person's message, the subject kept ("Re: …") with the conversation's reference in
brackets, and a `Message-ID` of the service's domain, so that the person's next reply finds its
conversation. The acknowledgement is marked `Auto-Submitted: auto-replied` (RFC 3834) and asks other
auto-responders not to answer it; our own reader (bot/mail/inbound.py) would never answer it either.
An advisor's answer carries the articles inserted, each as the assistant sends it (essentials,
details, official sources and date).

Nothing is promised that the service does not keep: the answer comes "by this same e-mail", within
the office hours the handoff is configured with (no number of days: the directive gives none).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from bot.handoff import messages as say
from bot.knowledge.model import Article
from bot.knowledge.render import whole_text
from bot.mail.inbound import InboundMail
from bot.offices.hours import OfficeHours, spoken_moment

SERVICE_NAME = "PERÚ INFOMIGRA"
REFERENCES_MAX = 20
REPLY_PREFIX = re.compile(r"^\s*(re|rv|aw|res)\s*:", re.I)
LINK = re.compile(r"https://[^\s<>\"')\]]+")


def reply_subject(subject: str, reference: str) -> str:
    base = " ".join((subject or "").split())[:200] or "Tu consulta"
    if f"[{reference}]" not in base:
        base = f"{base} [{reference}]"
    return base if REPLY_PREFIX.match(base) else f"Re: {base}"


def greeting(original: InboundMail) -> str:
    first = (original.sender_name or "").split()
    return f"Hola, {first[0]}:" if first and first[0].isalpha() else "Hola:"


def acknowledgement_text(original: InboundMail, reference: str, hours: OfficeHours, at: dt.datetime) -> str:
    """The automatic "we received it" with the conversation's reference and when an answer can come."""
    schedule = f"Atendemos {hours.describe()} (hora de Lima)."
    if hours.is_open(at):
        when = f"Un asesor o asesora te responderá por este mismo correo. {schedule}"
    else:
        opening = hours.next_opening(at)
        moment = f"a partir de {spoken_moment(opening, at)} (hora de Lima)" if opening else "en cuanto sea posible"
        when = (f"Ahora estamos fuera del horario de atención: un asesor o asesora leerá tu consulta {moment} y te "
                f"responderá por este mismo correo. {schedule}").replace(" de el ", " del ")
    return "\n\n".join([
        greeting(original),
        f"Recibimos tu consulta en {SERVICE_NAME}, el servicio de información y orientación sobre migración laboral "
        f"del Ministerio de Trabajo y Promoción del Empleo. Su número de referencia es {reference}.",
        when,
        say.DANGER,
        "Este es un mensaje automático. Si quieres añadir algo a tu consulta, responde a este correo.",
    ])


def acknowledgement(original: InboundMail, reference: str, service_address: str, hours: OfficeHours,
                    at: dt.datetime) -> EmailMessage:
    """The acknowledgement as an e-mail in the thread."""
    return automatic(plain(original, reference, service_address, acknowledgement_text(original, reference, hours, at)))


def automatic(message: EmailMessage) -> EmailMessage:
    """Mark a message as sent by a machine, so that no auto-responder answers it (no mail loops)."""
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    return message


def answer(original: InboundMail, reference: str, service_address: str, advisor_name: str, text: str,
           articles: Sequence[Article] = ()) -> EmailMessage:
    """An advisor's answer: their text, then each article inserted as the assistant sends it."""
    paragraphs = [greeting(original), *_paragraphs(text)]
    for article in articles:
        paragraphs += ["—" * 3, whole_text(article)]
    paragraphs += [f"{advisor_name.strip() or 'El equipo'}\n{SERVICE_NAME} · Ministerio de Trabajo y Promoción del Empleo",
                   f"Referencia de tu consulta: {reference}"]
    return _message(original, reference, service_address, paragraphs)


def plain(original: InboundMail, reference: str, service_address: str, text: str) -> EmailMessage:
    """A message of the desk as it was stored (the acknowledgement, a notice), in the thread."""
    return _message(original, reference, service_address, _paragraphs(text))


def _paragraphs(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n")) if part.strip()]


def _message(original: InboundMail, reference: str, service_address: str, paragraphs: list[str]) -> EmailMessage:
    domain = service_address.rsplit("@", 1)[-1] or "localhost"
    message = EmailMessage()
    message["From"] = formataddr((SERVICE_NAME, service_address))
    message["To"] = formataddr((original.sender_name, original.sender)) if original.sender_name else original.sender
    message["Subject"] = reply_subject(original.subject, reference)
    message["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message["Message-ID"] = make_msgid(idstring=reference.replace(" ", "")[:40], domain=domain)
    chain = list(dict.fromkeys([*original.references, *([original.message_id] if original.message_id else [])]))
    if original.message_id:
        message["In-Reply-To"] = original.message_id
    if chain:
        message["References"] = " ".join(chain[-REFERENCES_MAX:])
    plain = "\n\n".join(paragraphs) + "\n"
    message.set_content(plain)
    message.add_alternative(to_html(paragraphs), subtype="html")
    return message


def to_html(paragraphs: list[str]) -> str:
    """The same paragraphs as simple HTML: escaped, line breaks kept, https addresses as links."""
    blocks = []
    for paragraph in paragraphs:
        pieces, last = [], 0
        for found in LINK.finditer(paragraph):
            url = html.escape(found.group(0))
            pieces += [html.escape(paragraph[last:found.start()]), f'<a href="{url}">{url}</a>']
            last = found.end()
        pieces.append(html.escape(paragraph[last:]))
        blocks.append("<p>" + "".join(pieces).replace("\n", "<br>\n") + "</p>")
    return ('<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"></head>'
            '<body style="font-family: sans-serif; font-size: 15px; line-height: 1.4">\n' + "\n".join(blocks) + "\n</body></html>\n")

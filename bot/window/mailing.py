"""What the person takes home from the window: the articles on a printed sheet, or by e-mail.

`sheet(visit, kb)` is the content of both: each article whole (essentials, cost and duration of a
procedure, the text, the official sources and "Actualizado"), the record's reference, and the service's
contact lines from the knowledge base's service facts (bot/knowledge/service_facts.py: the advisors'
hours and the service's e-mail as this deployment keeps them; no telephone number is ever made up).

`email_message(...)` builds the e-mail: plain text plus the same paragraphs as simple HTML
(bot.mail.outbound.to_html), from the service's address; `send_sheet(...)` hands it to the service's
SMTP server with bot.mail.mailbox.send. The SMTP settings are the e-mail door's (bot/mail/settings.py);
the window needs only their SMTP half (`MailSettings.for_sending`, also without the door's IMAP side).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from bot.knowledge import service_facts
from bot.knowledge.model import Article
from bot.knowledge.render import plain, procedure, whole_text
from bot.mail.mailbox import send
from bot.mail.outbound import SERVICE_NAME, to_html
from bot.mail.settings import MailSettings
from bot.window.store import Visit

MINISTRY = "Ministerio de Trabajo y Promoción del Empleo"
OFFICIAL_PAGE = "https://www.gob.pe/institucion/mtpe"
DATE_FORMAT = "%d/%m/%Y"


@dataclass(frozen=True)
class SheetArticle:
    id: str
    title: str
    summary: str
    procedure: str
    paragraphs: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]
    reviewed: str


@dataclass(frozen=True)
class Sheet:
    reference: str
    day: str  # dd/mm/yyyy in Lima
    office: str | None
    articles: tuple[SheetArticle, ...]
    contact_lines: tuple[str, ...]


def lima_day(at: dt.datetime) -> str:
    from bot.suggestions import dates

    return at.astimezone(dates.LIMA).strftime(DATE_FORMAT)


def contact_lines(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The service's ways to be reached, as the deployment keeps them (the knowledge base's service facts)."""
    facts = service_facts.facts(env)
    return (f"Chat con asesores de {SERVICE_NAME}: {facts['horario_asesores']}.",
            f"Correo: {facts['correo_servicio']}.",
            f"Sedes y canales oficiales del {MINISTRY}: {OFFICIAL_PAGE}")


def sheet_article(article: Article) -> SheetArticle:
    body = service_facts.fill(plain(article.body), lang=article.lang)
    paragraphs = tuple(p.strip() for p in body.split("\n\n") if p.strip())
    return SheetArticle(article.id, article.title, article.summary, procedure(article), paragraphs,
                        tuple((s.title, s.url) for s in article.sources), article.last_reviewed.strftime(DATE_FORMAT))


def sheet(visit: Visit, articles: list[Article], env: Mapping[str, str] | None = None) -> Sheet:
    return Sheet(visit.reference, lima_day(visit.created_at), visit.office, tuple(sheet_article(a) for a in articles),
                 contact_lines(env))


def email_paragraphs(visit: Visit, articles: list[Article], env: Mapping[str, str] | None = None) -> list[str]:
    where = f" ({visit.office})" if visit.office else ""
    paragraphs = ["Hola:",
                  f"Como lo pediste en la ventanilla de {SERVICE_NAME}{where} el {lima_day(visit.created_at)}, te enviamos "
                  f"la información que revisamos juntos. {SERVICE_NAME} es el servicio de información y orientación sobre "
                  f"migración laboral del {MINISTRY}; es gratuito."]
    for article in articles:
        paragraphs += ["—" * 3, whole_text(article)]
    paragraphs += ["—" * 3, "Para seguir en contacto con nosotros:\n" + "\n".join(contact_lines(env)),
                   "Si alguien te pide dinero en nombre de INFOMIGRA, no pagues.",
                   f"Referencia de tu consulta: {visit.reference}",
                   "Recibes este correo porque aceptaste en la ventanilla que te lo enviáramos. Si quieres que borremos "
                   "tu dirección, respóndenos pidiéndolo o dilo en la ventanilla."]
    return paragraphs


def email_message(visit: Visit, articles: list[Article], to: str, service_address: str,
                  env: Mapping[str, str] | None = None) -> EmailMessage:
    """The articles of a walk-in consultation as an e-mail (plain text and HTML)."""
    paragraphs = email_paragraphs(visit, articles, env)
    domain = service_address.rsplit("@", 1)[-1] or "localhost"
    message = EmailMessage()
    message["From"] = formataddr((SERVICE_NAME, service_address))
    message["To"] = to
    message["Subject"] = f"{SERVICE_NAME}: la información de tu consulta [{visit.reference}]"
    message["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message["Message-ID"] = make_msgid(idstring=visit.reference.replace("-", ""), domain=domain)
    message.set_content("\n\n".join(paragraphs) + "\n")
    message.add_alternative(to_html(paragraphs), subtype="html")
    return message


def smtp_settings(env: Mapping[str, str] | None = None) -> MailSettings | None:
    """The service's SMTP settings (MailSettings.for_sending: the door's, or MAIL_SMTP_* alone); None when there are none."""
    return MailSettings.for_sending(env)


def send_sheet(settings: MailSettings, visit: Visit, articles: list[Article], env: Mapping[str, str] | None = None) -> list[str]:
    """Send the articles to the visit's address; the recipients the server took (MailError otherwise)."""
    if not visit.contact_email:
        raise ValueError("this consultation has no e-mail address")
    return send(settings, email_message(visit, articles, visit.contact_email, settings.address, env))


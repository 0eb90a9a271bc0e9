"""Walk-in consultations at the in-person window: what the advisor records, read back, erased.

`parse_entry` checks what the desk's form sends (in Spanish, for the advisor: `WindowInputError`) and
keeps only what the service needs: the line of action, the country, the topics, the articles handed
over, the referral, and a contact only when the person consented (no consent, no contact: refused).
`WindowStore` records, lists, reads, erases a record, records the sending of its articles (by e-mail; to
WhatsApp at once or after a template, bot/window/whatsapp.py), and forgets
contacts: one person's on request (by e-mail address or WhatsApp number, bot/privacy/erase.py) and every
old one (retention, bot/privacy/retention.py). A forgotten contact leaves the record for the counts.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from bot import countries
from bot.knowledge.model import LINES
from bot.store.clock import aware, now
from bot.suggestions.reference import ALPHABET
from bot.text import whole_number
from bot.window.schema import REFERENCE_PREFIX, window_sends, window_visits

MAX_TOPICS = 8
TOPIC_MAX = 60
MAX_ARTICLES = 10
REFERRED_MAX = 160
EMAIL_MAX = 254
EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
ANY_EMAIL = re.compile(r"[^@\s<>\"',;:]+@[^@\s<>\"',;]+")
PHONE_JUNK = re.compile(r"[\s\-().]")
DETAIL_MAX = 300


class WindowInputError(ValueError):
    """What the advisor sent cannot be recorded as it is; the message says why, in Spanish."""


@dataclass(frozen=True)
class Entry:
    """A checked walk-in consultation, ready to store."""

    line: str
    country: str | None = None
    topics: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    referred: bool = False
    referred_to: str | None = None
    email: str | None = None
    whatsapp: str | None = None
    consent: bool = False


@dataclass(frozen=True)
class Visit:
    id: int
    reference: str
    created_at: dt.datetime
    advisor_id: int | None
    office: str | None
    line: str
    country: str | None
    topics: tuple[str, ...]
    articles: tuple[str, ...]
    referred: bool
    referred_to: str | None
    contact_email: str | None
    contact_whatsapp: str | None
    consent_at: dt.datetime | None
    contact_erased_at: dt.datetime | None
    emailed_at: dt.datetime | None
    email_error: str | None = None  # why the last e-mail send failed, if it failed after the last success
    whatsapp_sent_at: dt.datetime | None = None  # the articles went out to WhatsApp
    whatsapp_waiting_since: dt.datetime | None = None  # a template was sent; the articles wait for the person's answer
    whatsapp_error: str | None = None  # why the last WhatsApp attempt failed or its wait ended, likewise

    @property
    def has_contact(self) -> bool:
        return bool(self.contact_email or self.contact_whatsapp)



def normalize_email(value: object) -> str | None:
    """An e-mail address as stored (lower case), None when empty; WindowInputError when it is not one."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise WindowInputError("El correo debe ser un texto.")
    text = value.strip().lower()
    if not text:
        return None
    if len(text) > EMAIL_MAX or not EMAIL.match(text):
        raise WindowInputError("El correo no parece válido (por ejemplo: nombre@correo.com).")
    return text


def normalize_whatsapp(value: object) -> str | None:
    """A WhatsApp number as "+<country code><number>": a Peruvian mobile may come without +51."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise WindowInputError("El número de WhatsApp debe ser un texto.")
    text = PHONE_JUNK.sub("", value.strip())
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+") and len(text) == 9 and text.startswith("9") and text.isdigit():
        text = "+51" + text  # a Peruvian mobile number
    digits = text[1:] if text.startswith("+") else ""
    if whole_number(digits, 15) is None or not 8 <= len(digits) <= 15:
        raise WindowInputError("Escriba el número de WhatsApp con el código del país (por ejemplo +51 987 654 321).")
    return "+" + digits


def contact_key(value: str) -> str | None:
    """How erasure names a contact: an e-mail address (lower case) or a number "+…"; None if neither."""
    try:
        return normalize_email(value) if "@" in value else normalize_whatsapp(value)
    except WindowInputError:
        return None


def _text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise WindowInputError(f"{what} debe ser un texto.")
    text = " ".join(value.split())
    if len(text) > limit:
        raise WindowInputError(f"{what} es demasiado largo (máximo {limit} caracteres).")
    return text


def _flag(value: object, what: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise WindowInputError(f"'{what}' debe ser verdadero o falso.")
    return value


def parse_entry(data: Mapping[str, Any], kb: Any) -> Entry:
    """The form's JSON as an Entry; WindowInputError with the reason otherwise."""
    line = data.get("line")
    if not isinstance(line, str) or line not in LINES:
        raise WindowInputError("Elija la línea de acción de la consulta.")

    country = data.get("country")
    if country in (None, ""):
        country = None
    else:
        slug = countries.normalize(country) if isinstance(country, str) else None
        if slug is None or (slug != countries.OTHER and slug not in countries.NAMES):
            raise WindowInputError("Ese país no está en la lista: elija uno o «Otro país».")
        country = slug

    raw_topics = data.get("topics") or []
    if not isinstance(raw_topics, list):
        raise WindowInputError("Los temas deben ser una lista de textos.")
    topics: list[str] = []
    for raw in raw_topics:
        topic = _text(raw, "Un tema", TOPIC_MAX)
        if topic and topic.lower() not in {t.lower() for t in topics}:
            topics.append(topic)
    if len(topics) > MAX_TOPICS:
        raise WindowInputError(f"Como máximo {MAX_TOPICS} temas.")

    raw_articles = data.get("articles") or []
    if not isinstance(raw_articles, list) or not all(isinstance(a, str) for a in raw_articles):
        raise WindowInputError("Los artículos deben ser una lista de identificadores.")
    articles = list(dict.fromkeys(raw_articles))
    if len(articles) > MAX_ARTICLES:
        raise WindowInputError(f"Como máximo {MAX_ARTICLES} artículos por atención.")
    for article_id in articles:
        if kb.get(article_id) is None:
            raise WindowInputError("Uno de los artículos elegidos no existe en la base de conocimiento.")

    referred = _flag(data.get("referred"), "referred")
    referred_to = _text(data.get("referred_to") or "", "A quién se derivó", REFERRED_MAX) or None
    if referred and not referred_to:
        raise WindowInputError("Escriba a qué entidad u oficina se derivó a la persona.")
    if not referred:
        referred_to = None

    email = normalize_email(data.get("email"))
    whatsapp = normalize_whatsapp(data.get("whatsapp"))
    consent = _flag(data.get("consent"), "consent")
    if (email or whatsapp) and not consent:
        raise WindowInputError("Para guardar un correo o un WhatsApp la persona debe aceptarlo: marque la casilla "
                               "de consentimiento, o deje el contacto vacío.")
    return Entry(line=line, country=country, topics=tuple(topics), articles=tuple(articles), referred=referred,
                 referred_to=referred_to, email=email, whatsapp=whatsapp, consent=consent and bool(email or whatsapp))


def new_reference(year: int) -> str:
    """"VE-2026-7K3Q9" (the alphabet of the suggestions' codes: nothing that can be misread)."""
    return f"{REFERENCE_PREFIX}-{year:04d}-" + "".join(secrets.choice(ALPHABET) for _ in range(5))


def _visit(row: RowMapping, errors: Mapping[str, str] | None = None) -> Visit:
    errors = errors or {}
    return Visit(
        id=row["id"], reference=row["reference"], created_at=aware(row["created_at"]), advisor_id=row["advisor_id"],
        office=row["office"], line=row["line"], country=row["country"], topics=tuple(row["topics"] or ()),
        articles=tuple(row["articles"] or ()), referred=bool(row["referred"]), referred_to=row["referred_to"],
        contact_email=row["contact_email"], contact_whatsapp=row["contact_whatsapp"], consent_at=aware(row["consent_at"]),
        contact_erased_at=aware(row["contact_erased_at"]), emailed_at=aware(row["emailed_at"]), email_error=errors.get("correo"),
        whatsapp_sent_at=aware(row["whatsapp_sent_at"]), whatsapp_waiting_since=aware(row["whatsapp_waiting_since"]),
        whatsapp_error=errors.get("whatsapp"))


class WindowStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, entry: Entry, advisor_id: int | None, office: str | None = None,
               at: dt.datetime | None = None) -> Visit:
        """Store a consultation (a fresh reference; the contact only with consent)."""
        at = at or now()
        if (entry.email or entry.whatsapp) and not entry.consent:
            raise WindowInputError("Sin consentimiento no se guarda ningún contacto.")
        from bot.suggestions import dates

        year = at.astimezone(dates.LIMA).year
        for _ in range(10):  # a reference already taken: draw another
            values = {"reference": new_reference(year), "created_at": at, "advisor_id": advisor_id,
                      "office": (office or "")[:80] or None, "line": entry.line, "country": entry.country,
                      "topics": list(entry.topics), "articles": list(entry.articles), "referred": entry.referred,
                      "referred_to": entry.referred_to, "contact_email": entry.email, "contact_whatsapp": entry.whatsapp,
                      "consent_at": at if entry.consent else None}
            try:
                with self.engine.begin() as conn:
                    new_id = conn.execute(insert(window_visits).values(**values)).inserted_primary_key[0]
            except IntegrityError:
                if self._reference_taken(values["reference"]):
                    continue
                raise
            visit = self.get(int(new_id))
            assert visit is not None
            return visit
        raise RuntimeError("window: no free reference after 10 draws")

    def _reference_taken(self, reference: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(window_visits.c.id).where(window_visits.c.reference == reference)).first() is not None

    def get(self, visit_id: int) -> Visit | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(window_visits).where(window_visits.c.id == visit_id)).mappings().first()
            return _visit(row, self._errors(conn, row)) if row else None

    @staticmethod
    def _errors(conn: Any, row: RowMapping) -> dict[str, str]:
        """Per channel, why its last attempt failed (none when it went through): an e-mail that bounced says
        nothing of the WhatsApp messages, and the other way round."""
        latest: dict[str, Any] = {}
        for send in conn.execute(select(window_sends.c.channel, window_sends.c.ok, window_sends.c.detail)
                                 .where(window_sends.c.visit_id == row["id"]).order_by(window_sends.c.id.desc())):
            latest.setdefault(send.channel, send)
        return {channel: send.detail or "" for channel, send in latest.items() if not send.ok}

    def recent(self, advisor_id: int | None = None, since: dt.datetime | None = None, limit: int = 50) -> list[Visit]:
        """The latest consultations, newest first: of one advisor and/or since a moment (today at the window)."""
        query = select(window_visits).order_by(window_visits.c.created_at.desc(), window_visits.c.id.desc()).limit(limit)
        if advisor_id is not None:
            query = query.where(window_visits.c.advisor_id == advisor_id)
        if since is not None:
            query = query.where(window_visits.c.created_at >= since)
        with self.engine.connect() as conn:
            return [_visit(row, self._errors(conn, row)) for row in conn.execute(query).mappings()]

    def erase(self, visit_id: int) -> bool:
        """Delete a record (one made by mistake) with its sends; False when there was none."""
        with self.engine.begin() as conn:
            conn.execute(delete(window_sends).where(window_sends.c.visit_id == visit_id))
            return conn.execute(delete(window_visits).where(window_visits.c.id == visit_id)).rowcount > 0

    def sent(self, visit_id: int, channel: str, advisor_id: int | None, at: dt.datetime | None = None) -> None:
        at = at or now()
        with self.engine.begin() as conn:
            conn.execute(insert(window_sends).values(visit_id=visit_id, channel=channel, at=at, ok=True, advisor_id=advisor_id))
            if channel == "correo":
                conn.execute(update(window_visits).where(window_visits.c.id == visit_id).values(emailed_at=at))
            elif channel == "whatsapp":
                conn.execute(update(window_visits).where(window_visits.c.id == visit_id)
                             .values(whatsapp_sent_at=at, whatsapp_waiting_since=None))

    def template_sent(self, visit_id: int, advisor_id: int | None, at: dt.datetime | None = None) -> None:
        """A WhatsApp template went out: the articles now wait for the person to write back."""
        at = at or now()
        with self.engine.begin() as conn:
            conn.execute(insert(window_sends).values(visit_id=visit_id, channel="whatsapp", at=at, ok=True,
                                                     detail="plantilla enviada; la información espera la respuesta",
                                                     advisor_id=advisor_id))
            conn.execute(update(window_visits).where(window_visits.c.id == visit_id).values(whatsapp_waiting_since=at))

    def waiting(self, limit: int = 100) -> list[Visit]:
        """Consultations whose articles wait for the person to answer a WhatsApp template, oldest first."""
        c = window_visits.c
        query = (select(window_visits).where(c.whatsapp_waiting_since.is_not(None), c.contact_whatsapp.is_not(None))
                 .order_by(c.whatsapp_waiting_since, c.id).limit(limit))
        with self.engine.connect() as conn:
            return [_visit(row) for row in conn.execute(query).mappings()]

    def claim_waiting(self, visit_id: int) -> bool:
        """Take a waiting consultation to send its articles (or to give up on it): True for exactly one
        caller of all desk processes; the wait is over for the others."""
        c = window_visits.c
        with self.engine.begin() as conn:
            return conn.execute(update(window_visits).where(c.id == visit_id, c.whatsapp_waiting_since.is_not(None))
                                .values(whatsapp_waiting_since=None)).rowcount == 1

    def wait_again(self, visit_id: int, since: dt.datetime) -> None:
        """A claimed consultation whose articles could not go out (Rasa away): it waits again, as before."""
        c = window_visits.c
        with self.engine.begin() as conn:
            conn.execute(update(window_visits).where(c.id == visit_id, c.whatsapp_sent_at.is_(None),
                                                     c.contact_whatsapp.is_not(None))
                         .values(whatsapp_waiting_since=since))

    def failed(self, visit_id: int, channel: str, detail: str, advisor_id: int | None, at: dt.datetime | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(window_sends).values(visit_id=visit_id, channel=channel, at=at or now(), ok=False,
                                                     detail=detail[:DETAIL_MAX], advisor_id=advisor_id))

    def forget_contact(self, key: str, at: dt.datetime | None = None) -> int:
        """Erasure: the e-mail address or WhatsApp number `key` removed from every record (with the
        consent that went with it); the records stay for the counts. Records changed."""
        key = contact_key(key or "") or ""
        if not key:
            return 0
        c = window_visits.c
        match = func.lower(c.contact_email) == key if "@" in key else c.contact_whatsapp == key
        with self.engine.begin() as conn:
            return conn.execute(update(window_visits).where(match).values(
                contact_email=None, contact_whatsapp=None, consent_at=None, contact_erased_at=at or now(),
                whatsapp_waiting_since=None)).rowcount

    def forget_old_contacts(self, cutoff: dt.datetime, at: dt.datetime | None = None) -> int:
        """Retention: the contacts of records made before `cutoff` removed. Records changed."""
        c = window_visits.c
        with self.engine.begin() as conn:
            return conn.execute(update(window_visits).where(c.created_at < cutoff, or_(c.contact_email.is_not(None),
                                                                                       c.contact_whatsapp.is_not(None)))
                                .values(contact_email=None, contact_whatsapp=None, consent_at=None,
                                        contact_erased_at=at or now(), whatsapp_waiting_since=None)).rowcount

    def contacts_matching(self, email: str | None, digits: str | None, limit: int = 20) -> list[str]:
        """The contact keys (address or number) that match an e-mail address exactly or contain these digits."""
        c = window_visits.c
        found: list[str] = []
        with self.engine.connect() as conn:
            if email:
                found += [v for v in conn.execute(select(c.contact_email).distinct()
                                                  .where(func.lower(c.contact_email) == email.lower()).limit(limit)).scalars() if v]
            if digits:
                found += [v for v in conn.execute(select(c.contact_whatsapp).distinct()
                                                  .where(c.contact_whatsapp.contains(digits)).limit(limit)).scalars() if v]
        return found[:limit]

    def counts(self, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
        """Consultations between two moments: in all, by line of action, by country, and referred."""
        c = window_visits.c
        period = (c.created_at >= start, c.created_at < end)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(window_visits).where(*period)).scalar() or 0
            by_line = dict(conn.execute(select(c.line, func.count()).where(*period).group_by(c.line)).all())
            by_country = {country or "—": n for country, n in conn.execute(select(c.country, func.count()).where(*period)
                                                                          .group_by(c.country)).all()}
            referred = conn.execute(select(func.count()).select_from(window_visits).where(*period, c.referred.is_(True))).scalar()
        return {"total": total, "by_line": by_line, "by_country": by_country, "referred": referred or 0}


def articles_of(visit: Visit, kb: Any) -> list[Any]:
    """The visit's articles that the knowledge base still has, in the order they were picked."""
    return [a for a in (kb.get(article_id) for article_id in visit.articles) if a is not None]


def scrub(detail: str, addresses: Iterable[str]) -> str:
    """A server's error without the person's address in it (some servers repeat the recipient)."""
    for address in addresses:
        if address:
            detail = re.sub(re.escape(address), "<destinatario>", detail, flags=re.I)
    return ANY_EMAIL.sub("<destinatario>", detail)

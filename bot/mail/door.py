"""The e-mail door of the desk: the service's mailbox read into the queue, answers sent in the thread.

`MailDoor.read_once()` (a step of the desk's worker, so one desk process reads at a time) takes the
mailbox's new messages, oldest first. Each one:
- already stored (its Message-ID is known: read again after a crash): marked read, nothing more;
- written by a machine (auto-reply, bounce, list: `inbound.automatic_reason`): remembered so it is not
  read again, never answered, never a ticket — no mail loops;
- a reply in a thread we know (In-Reply-To/References name one of its messages): joins that
  conversation (its open ticket, or a new ticket of the same conversation if the last one was closed);
- otherwise a new conversation "correo:<reference>" with channel "correo": a ticket in the queue of the
  office of the region the e-mail names, else the main office's (bot/offices), first when the e-mail
  carries a danger signal, as in the chats; the e-mail as the person's
  message (subject and text, attachments listed), and an acknowledgement with the reference and the
  expected answer time, queued like any message to the person.
Only once stored are the messages marked read (`Mailbox.taken`).

`MailDoor.send(ticket, message)` is how the handoff worker delivers a stored message of a "correo"
ticket: the acknowledgement, an advisor's answer (`outbound.answer`, plain text + simple HTML, in the
thread) or a notice. It raises `MailError` while the SMTP server does not take it, so the message stays
pending and is tried again; it is recorded as sent only after the server accepted it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.handoff.store import HandoffStore, Message, Ticket
from bot.knowledge.base import KnowledgeBase
from bot.mail import outbound
from bot.mail.inbound import InboundMail, parse
from bot.mail.mailbox import Mailbox, MailError, send
from bot.mail.schema import CHANNEL, SENDER_PREFIX, mail_messages, mail_threads
from bot.mail.settings import MailSettings
from bot.mail.triage import triage
from bot.offices.directory import Offices
from bot.offices.hours import OfficeHours
from bot.store.clock import now
from bot.suggestions.reference import ALPHABET

logger = logging.getLogger(__name__)

REFERENCE_PREFIX = "CO"
ACK_KIND = "mail_ack"
THREAD_IDS_MAX = 20
SUBJECT_LABEL = "Asunto: "  # an e-mail as the person's message: the subject line, the text, a line per attachment
ATTACHMENT_NOTE = "[adjunto: {name}, {kind}, {size} KB]"


def new_reference(year: int) -> str:
    """"CO-2026-7K3Q9": the reference of an e-mail conversation (the alphabet of the suggestions' codes)."""
    return f"{REFERENCE_PREFIX}-{year:04d}-" + "".join(secrets.choice(ALPHABET) for _ in range(5))


@dataclass(frozen=True)
class Thread:
    sender_id: str
    reference: str
    address: str
    name: str
    subject: str
    last_message_id: str | None
    message_ids: tuple[str, ...]

    def as_original(self) -> InboundMail:
        """The thread as the message an answer replies to (recipient, subject, In-Reply-To, References)."""
        return InboundMail(message_id=self.last_message_id, sender=self.address, sender_name=self.name, subject=self.subject,
                           text="", attachments=(), in_reply_to=None, references=self.message_ids[:-1] if self.message_ids else (),
                           date=None, automatic=None)


class MailDoor:
    def __init__(self, settings: MailSettings, engine: Engine, kb: KnowledgeBase, hours: OfficeHours,
                 mailbox: Mailbox | None = None) -> None:
        self.settings = settings
        self.engine = engine
        self.kb = kb
        self.hours = hours
        self.store = HandoffStore(engine)
        self.offices = Offices(engine)
        self.mailbox = mailbox or Mailbox(settings)

    # --- reading ---------------------------------------------------------------------------------
    def read_once(self, at: dt.datetime | None = None) -> Counter:
        """Take the mailbox's new messages into the desk; what happened to each, counted."""
        outcomes: Counter = Counter()
        batch = self.mailbox.unseen()
        stored: list[int] = []
        for uid, raw in batch:
            try:
                outcomes[self.take_in(parse(raw), at)] += 1
            except Exception:  # one bad message must not stop the others; it stays unread for a later round
                logger.exception("mail: message %s of the mailbox could not be stored", uid)
                outcomes["error"] += 1
                continue
            stored.append(uid)
        if stored:
            self.mailbox.taken(stored)
        if batch:
            logger.info("mail: %s", dict(outcomes))
        return outcomes

    def take_in(self, mail: InboundMail, at: dt.datetime | None = None) -> str:
        at = at or now()
        message_id = mail.message_id or _id_without_header(mail)
        if self._known(message_id):
            return "duplicate"
        if mail.automatic or not mail.sender:
            self._remember(message_id, None, "in", None, at)
            return "automatic"
        thread = self._thread_for(mail)
        new_thread = thread is None
        if thread is None:
            thread = self._new_thread(mail, message_id, at)
        found = triage(mail, self.kb)
        article = self.kb.get(found.articles[0]) if found.articles else None
        office = self.offices.route(f"{mail.subject}\n{mail.text}")  # the office of the region the person names
        ticket, created = self.store.open_ticket(
            sender_id=thread.sender_id, channel=CHANNEL, reason=found.reason, priority=1 if found.urgent else 0,
            line="seguridad" if found.urgent else article.line if article else None,
            country=found.countries[0] if found.countries else None, topic=(mail.subject or "")[:120] or None,
            article_id=article.id if article else None, office_id=office.id if office else None, at=at)
        attachments = [{"type": "file", "content_type": a.content_type, "name": a.filename, "size": a.size}
                       for a in mail.attachments]
        body = "\n\n".join(part for part in (SUBJECT_LABEL + mail.subject if mail.subject else "", mail.text,
                                              *[ATTACHMENT_NOTE.format(name=a.filename, kind=a.content_type,
                                                                       size=max(1, a.size // 1024)) for a in mail.attachments])
                           if part)
        self.store.record_person_message(thread.sender_id, body, source_key=message_id, attachments=attachments or None, at=at)
        self._remember(message_id, thread.sender_id, "in", ticket.id, at)
        self._add_to_thread(thread, message_id, at)
        if created and new_thread:
            hours = self.offices.hours(ticket.office_id, self.hours)
            text = outbound.acknowledgement_text(mail, thread.reference, hours, at)
            self.store.add_message(ticket.id, "system", text, kind=ACK_KIND)
        return "new" if new_thread else "joined"

    def _known(self, message_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(mail_messages.c.id).where(mail_messages.c.message_id == message_id)).first() is not None

    def _remember(self, message_id: str, sender_id: str | None, direction: str, ticket_id: int | None,
                  at: dt.datetime) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(mail_messages).values(message_id=message_id[:250], sender_id=sender_id, direction=direction,
                                                          ticket_id=ticket_id, created_at=at))
        except IntegrityError:  # stored by an earlier attempt
            pass

    def _thread_for(self, mail: InboundMail) -> Thread | None:
        ids = [i for i in (mail.in_reply_to, *reversed(mail.references)) if i]
        if not ids:
            return None
        with self.engine.connect() as conn:
            sender = conn.execute(select(mail_messages.c.sender_id).where(mail_messages.c.message_id.in_(ids),
                                                                          mail_messages.c.sender_id.is_not(None))
                                  .order_by(mail_messages.c.id.desc()).limit(1)).scalar()
        return self.thread(sender) if sender else None

    def thread(self, sender_id: str) -> Thread | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(mail_threads).where(mail_threads.c.sender_id == sender_id)).mappings().first()
        if row is None:
            return None
        return Thread(row["sender_id"], row["reference"], row["address"], row["name"] or "", row["subject"],
                      row["last_message_id"], tuple((row["message_ids"] or "").split()))

    def _new_thread(self, mail: InboundMail, message_id: str, at: dt.datetime) -> Thread:
        for _ in range(10):  # a reference already taken: draw another
            reference = new_reference(at.year)
            values = {"sender_id": SENDER_PREFIX + reference, "reference": reference, "address": mail.sender[:254],
                      "name": (mail.sender_name or "")[:120] or None, "subject": (mail.subject or "Tu consulta")[:250],
                      "last_message_id": None, "message_ids": "", "created_at": at, "updated_at": at}
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(mail_threads).values(**values))
            except IntegrityError:
                continue
            thread = self.thread(values["sender_id"])
            assert thread is not None
            return thread
        raise RuntimeError("mail: no free reference after 10 draws")

    def _add_to_thread(self, thread: Thread, message_id: str, at: dt.datetime) -> None:
        ids = [*[i for i in thread.message_ids if i != message_id], message_id][-THREAD_IDS_MAX:]
        with self.engine.begin() as conn:
            conn.execute(update(mail_threads).where(mail_threads.c.sender_id == thread.sender_id)
                         .values(last_message_id=message_id[:250], message_ids=" ".join(ids), updated_at=at))

    # --- sending ---------------------------------------------------------------------------------
    def send(self, ticket: Ticket, message: Message) -> None:
        """Send one stored message of an e-mail conversation; MailError while the server does not take it."""
        thread = self.thread(ticket.sender_id)
        if thread is None:
            raise MailError(f"no e-mail thread for ticket {ticket.id} (erased?)")
        original = thread.as_original()
        if message.kind == ACK_KIND:  # the only system message of an e-mail conversation that is sent
            email_message = outbound.automatic(outbound.plain(original, thread.reference, self.settings.address, message.text))
        else:
            email_message = outbound.answer(original, thread.reference, self.settings.address, message.author_name or "",
                                            message.text)
        send(self.settings, email_message)
        sent_id = str(email_message["Message-ID"])
        at = now()
        self._remember(sent_id, thread.sender_id, "out", ticket.id, at)
        self._add_to_thread(self.thread(ticket.sender_id) or thread, sent_id, at)


def _id_without_header(mail: InboundMail) -> str:
    """A stable id for a message that has no Message-ID, so that reading it again finds it stored."""
    digest = hashlib.sha256("\n".join([mail.sender, mail.subject, mail.date.isoformat() if mail.date else "",
                                        mail.text]).encode()).hexdigest()[:32]
    return f"<sin-id-{digest}@infomigra>"

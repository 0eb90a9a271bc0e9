"""The e-mail door of the desk (bot/mail/door.py, the handoff service's "correo" branch) against real servers:
Dovecot over IMAP, aiosmtpd over SMTP (tests/mail_servers.py), and a migrated SQLite or PostgreSQL database.
A thread of three messages becomes one conversation with one acknowledgement; an auto-reply is not
answered; an attachment is listed; an advisor's answer goes out in the thread, refused once and sent
on the next try; a danger signal puts the e-mail first; closing ends the conversation without Rasa."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from bot import knowledge
from bot.handoff.rasa_api import RasaApi
from bot.handoff.service import HandoffService
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore
from bot.mail.door import ACK_KIND, MailDoor
from bot.mail.mailbox import Mailbox
from bot.mail.schema import mail_messages, mail_threads
from bot.store.clock import now
from tests.databases import migrated_engine
from tests.mail_servers import imap_server, smtp_server
from tests.unit.test_mail_mailbox import deliver, settings

KB = knowledge.load()
NOWHERE = "http://127.0.0.1:9"  # Rasa: an e-mail conversation must never need it


@pytest.fixture(params=["sqlite", "postgresql"])
def door(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine, imap_server() as imap, smtp_server() as smtp:
        mail = settings(imap, smtp)
        handoff = HandoffSettings.from_env({})
        service = HandoffService(HandoffStore(engine), RasaApi(NOWHERE, "s" * 32), handoff,
                                 MailDoor(mail, engine, KB, handoff.hours))
        yield service, imap, smtp, engine
        asyncio.run(service.api.close())


def tick(service: HandoffService, at: dt.datetime | None = None) -> None:
    asyncio.run(service.tick(at))


def test_a_thread_of_three_messages_is_one_conversation_with_one_acknowledgement(door):
    service, imap, smtp, engine = door
    first = deliver(imap, "Hola, quiero saber qué papeles necesito para trabajar en España.\n\nGracias, Rosa",
                    subject="Papeles para trabajar en España")
    tick(service)
    [ticket] = service.store.waiting()
    assert ticket.channel == "correo" and ticket.sender_id.startswith("correo:CO-") and ticket.country == "espana"
    assert ticket.reason == "asked" and ticket.priority == 0 and ticket.line == KB.get(ticket.article_id).line == "emigrar"
    [ack] = smtp.received
    reference = ticket.sender_id.removeprefix("correo:")
    assert f"[{reference}]" in ack["Subject"] and ack["In-Reply-To"] == first and ack["Auto-Submitted"] == "auto-replied"
    assert ack["To"] == "Rosa Quispe <rosa@example.pe>" and reference in ack.get_body(("plain",)).get_content()
    assert [m.delivery for m in service.store.messages(ticket.id) if m.kind == ACK_KIND] == ["sent"]
    assert Mailbox(service.mail.settings).unseen() == []  # stored, then marked read

    second = deliver(imap, "Me olvidé: tengo pasaporte vigente.", subject=f"Re: {ack['Subject']}",
                     In_Reply_To=ack["Message-ID"], References=f"{first} {ack['Message-ID']}")
    deliver(imap, "Y también DNI.", subject=f"Re: {ack['Subject']}", In_Reply_To=second,
            References=f"{first} {ack['Message-ID']} {second}")
    tick(service)
    assert [t.id for t in service.store.waiting()] == [ticket.id]  # both joined the conversation
    texts = [m.text for m in service.store.messages(ticket.id) if m.role == "person"]
    assert len(texts) == 3 and "pasaporte vigente" in texts[1] and "DNI" in texts[2]
    assert len(smtp.received) == 1  # one acknowledgement per conversation


def test_an_auto_reply_is_neither_a_ticket_nor_answered_and_an_attachment_is_listed(door):
    service, imap, smtp, engine = door
    deliver(imap, "Estoy fuera de la oficina hasta el lunes.", subject="Respuesta automática", Auto_Submitted="auto-replied")
    tick(service)
    assert service.store.waiting() == [] and smtp.received == []
    with engine.connect() as conn:
        assert conn.execute(select(mail_messages.c.sender_id)).scalars().all() == [None]  # remembered, not read again
    assert Mailbox(service.mail.settings).unseen() == []

    import imaplib
    from email.message import EmailMessage
    from email.utils import make_msgid

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Luis <luis@example.pe>", "infomigra@trabajo.gob.pe", "Mi contrato"
    message["Message-ID"] = make_msgid(domain="example.pe")
    message.set_content("Adjunto mi contrato de Chile, ¿es válido?")
    message.add_attachment(b"%PDF-1.4 contrato", maintype="application", subtype="pdf", filename="contrato.pdf")
    client = imaplib.IMAP4(imap.host, imap.port)
    client.login(imap.user, imap.password)
    client.append("INBOX", None, None, message.as_bytes())
    client.logout()
    tick(service)
    [ticket] = service.store.waiting()
    [person] = [m for m in service.store.messages(ticket.id) if m.role == "person"]
    assert "[adjunto: contrato.pdf, application/pdf" in person.text
    assert person.attachments == [{"type": "file", "content_type": "application/pdf", "name": "contrato.pdf",
                                   "size": len(b"%PDF-1.4 contrato")}]


def test_an_answer_goes_out_in_the_thread_refused_once_then_sent_and_closing_needs_no_rasa(door):
    service, imap, smtp, engine = door
    first = deliver(imap, "¿Cómo convalido mi título en Italia?", subject="Título en Italia")
    tick(service)
    [ticket] = service.store.waiting()

    from bot.desk.accounts import Accounts

    advisor = Accounts(engine).create("ana.mail@example.org", "Ana Asesora", "una clave larga y segura 123", ["advisor"])
    smtp.refuse_next = 1
    asyncio.run(service.take(ticket.id, advisor.id, "Ana Asesora"))
    reply = asyncio.run(service.reply(ticket.id, advisor.id, "Ana Asesora", "Hola Rosa:\n\nEn Italia se pide la declaración de valor."))
    assert reply.delivery == "pending" and reply.attempts == 1  # the server said 451: not sent, tried again later
    assert len(smtp.received) == 1  # only the acknowledgement
    tick(service, now() + dt.timedelta(seconds=5))  # the retry is due
    assert service.store.message(reply.id).delivery == "sent"
    answer_mail = smtp.received[-1]
    ack = smtp.received[0]
    assert answer_mail["In-Reply-To"] == ack["Message-ID"] and first in answer_mail["References"]
    assert answer_mail["Subject"].startswith("Re: Título en Italia [CO-") and "Auto-Submitted" not in answer_mail
    plain = answer_mail.get_body(("plain",)).get_content()
    assert "declaración de valor" in plain and "Ana Asesora" in plain
    assert "<p>" in answer_mail.get_body(("html",)).get_content()
    notices = [m for m in service.store.messages(ticket.id) if m.kind == "taken"]
    assert notices and notices[0].delivery is None and len(smtp.received) == 2  # chat notices are not e-mailed

    closed = asyncio.run(service.close(ticket.id, advisor.id))
    assert closed.status == "closed" and service.store.get(ticket.id).resumed_at is not None  # Rasa never called


def test_a_danger_signal_puts_the_email_first_and_a_message_read_twice_is_stored_once(door):
    service, imap, smtp, engine = door
    deliver(imap, "Quiero información sobre trabajar en Chile.", subject="Consulta")
    deliver(imap, "Ayuda, el patrón se quedó con mi pasaporte y no me deja salir.", subject="Urgente")
    tick(service)
    queue = service.store.waiting()
    assert [t.reason for t in queue] == ["safety", "asked"] and queue[0].priority == 1 and queue[0].line == "seguridad"

    from bot.mail.inbound import parse

    raw = (b"From: Eva <eva@example.pe>\r\nTo: infomigra@trabajo.gob.pe\r\nSubject: Hola\r\n"
           b"Message-ID: <dos-veces@example.pe>\r\n\r\nTexto\r\n")
    assert service.mail.take_in(parse(raw)) == "new"
    assert service.mail.take_in(parse(raw)) == "duplicate"
    with engine.connect() as conn:
        assert conn.execute(select(mail_threads.c.address).where(mail_threads.c.address == "eva@example.pe")).scalars().all() \
            == ["eva@example.pe"]


def test_erasing_an_email_conversation_forgets_its_thread_and_finds_it_by_address_first(door):
    from bot.privacy import erase

    service, imap, smtp, engine = door
    deliver(imap, "Consulta sobre mi pensión en Argentina.", subject="Pensión")
    tick(service)
    [ticket] = service.store.waiting()
    assert [m.sender_id for m in erase.find_people(engine, "rosa@example.pe")] == [ticket.sender_id]
    done = erase.erase_person(engine, ticket.sender_id, requested_by="staff")
    assert done.mail_threads == 1 and done.tickets == 1
    with engine.connect() as conn:
        assert conn.execute(select(mail_threads)).all() == []
        assert conn.execute(select(mail_messages).where(mail_messages.c.sender_id == ticket.sender_id)).all() == []
    assert erase.find_people(engine, "rosa@example.pe") == []


def test_an_email_naming_a_region_goes_to_its_office_and_is_acknowledged_with_its_hours(door):
    from bot.offices.directory import Offices

    service, imap, smtp, engine = door
    offices = Offices(engine)
    cusco = offices.create("cusco", "Dirección Regional de Trabajo del Cusco", "Cusco, Apurímac", "lun-vie 07:30-15:30")
    deliver(imap, "Buenas tardes, soy de Andahuaylas y quiero saber del retorno.", subject="Retorno")
    deliver(imap, "Quiero trabajar en Japón.", subject="Japón")
    tick(service)
    by_subject = {t.topic: t for t in service.store.waiting()}
    assert by_subject["Retorno"].office_id == cusco.id and by_subject["Japón"].office_id == offices.main().id
    acks = {m["In-Reply-To"]: m.get_body(("plain",)).get_content() for m in smtp.received}
    assert sum("de lunes a viernes de 7:30 a 15:30" in text for text in acks.values()) == 1  # the Cusco office's hours

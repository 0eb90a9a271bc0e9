"""The service's mailbox on the wire (bot/mail/mailbox.py, bot/mail/settings.py) against real servers:
Dovecot over IMAP and aiosmtpd over SMTP, both on loopback (tests/mail_servers.py)."""

import imaplib
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from bot.mail import inbound, outbound
from bot.mail.mailbox import Mailbox, MailError, send
from bot.mail.settings import MailSettings, MailSettingsError
from tests.mail_servers import SERVICE_ADDRESS, imap_server, mail_env, smtp_server


def settings(imap, smtp=None, **extra) -> MailSettings:
    return MailSettings.from_env(mail_env(imap, smtp, **extra))


def deliver(imap, text: str, subject: str = "Consulta", **headers) -> str:
    """A message arriving in the mailbox (IMAP APPEND, as a delivery agent would put it there)."""
    message = EmailMessage()
    message["From"] = "Rosa Quispe <rosa@example.pe>"
    message["To"] = SERVICE_ADDRESS
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.pe")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    client = imaplib.IMAP4(imap.host, imap.port)
    client.login(imap.user, imap.password)
    assert client.append("INBOX", None, None, message.as_bytes())[0] == "OK"
    client.logout()
    return message["Message-ID"]


def test_new_messages_are_read_oldest_first_and_stay_new_until_taken():
    with imap_server() as imap:
        box = Mailbox(settings(imap))
        assert box.unseen() == []
        first = deliver(imap, "¿Qué papeles necesito para España?")
        second = deliver(imap, "Me quitaron el pasaporte", subject="Urgente")
        found = box.unseen()
        assert [inbound.parse(raw).message_id for _, raw in found] == [first, second]
        assert [inbound.parse(raw).text for _, raw in box.unseen()] == ["¿Qué papeles necesito para España?",
                                                                          "Me quitaron el pasaporte"]  # reading marks nothing
        box.taken([found[0][0]])
        assert [uid for uid, _ in box.unseen()] == [found[1][0]]
        box.taken([found[1][0]])
        assert box.unseen() == []
        third = deliver(imap, "Y para Italia?", In_Reply_To=first, References=first)
        (uid, raw), = box.unseen(limit=5)
        assert inbound.parse(raw).thread_keys == (first,) and inbound.parse(raw).message_id == third


def test_a_wrong_password_or_folder_is_a_mail_error():
    with imap_server() as imap:
        with pytest.raises(MailError, match="IMAP 127.0.0.1"):
            Mailbox(settings(imap, MAIL_IMAP_PASSWORD="otra")).unseen()
        with pytest.raises(MailError, match="cannot be opened"):
            Mailbox(settings(imap, MAIL_IMAP_FOLDER="NoExiste")).unseen()


def test_an_answer_is_sent_only_when_the_server_takes_it():
    with imap_server() as imap, smtp_server() as smtp:
        config = settings(imap, smtp)
        deliver(imap, "¿Qué papeles necesito?")
        (_, raw), = Mailbox(config).unseen()
        reply = outbound.answer(inbound.parse(raw), "IM-42", config.address, "Ana", "Te respondo aquí.")
        smtp.refuse_next = 1  # busy: a temporary refusal, nothing sent
        with pytest.raises(MailError, match="refused the message"):
            send(config, reply)
        assert smtp.received == []
        assert send(config, reply) == ["rosa@example.pe"]  # the retry goes through
        (got,), ((sender, recipients),) = smtp.received, smtp.envelopes
        assert sender == "infomigra@trabajo.gob.pe" and recipients == ["rosa@example.pe"]
        assert got["In-Reply-To"] == inbound.parse(raw).message_id and "Te respondo aquí." in got.get_body(("plain",)).get_content()


def test_an_unreachable_smtp_server_is_a_mail_error():
    with imap_server() as imap:
        config = settings(imap)  # port 9: nothing listens
        message = EmailMessage()
        message["To"] = "rosa@example.pe"
        message.set_content("hola")
        with pytest.raises(MailError, match="cannot be reached"):
            send(config, message)


def test_settings_from_the_environment():
    assert MailSettings.from_env({}) is None  # the door is off
    base = {"MAIL_IMAP_HOST": "imap.trabajo.gob.pe", "MAIL_IMAP_USER": "infomigra", "MAIL_IMAP_PASSWORD": "x",
            "MAIL_SMTP_HOST": "smtp.trabajo.gob.pe", "INFOMIGRA_CONTACT_EMAIL": "Infomigra@Trabajo.gob.pe"}
    config = MailSettings.from_env(base)
    assert (config.imap.port, config.imap.security, config.smtp.port, config.smtp.security) == (993, "ssl", 587, "starttls")
    assert (config.smtp.user, config.smtp.password, config.address) == ("infomigra", "x", "infomigra@trabajo.gob.pe")
    for wrong, message in [({"MAIL_IMAP_SECURITY": "none"}, "only allowed for a server on this machine"),
                           ({"MAIL_SMTP_SECURITY": "tls"}, "MAIL_SMTP_SECURITY must be one of"),
                           ({"MAIL_IMAP_PORT": "imap"}, "MAIL_IMAP_PORT must be a port number"),
                           ({"MAIL_IMAP_PASSWORD": ""}, "MAIL_IMAP_USER and MAIL_IMAP_PASSWORD are required"),
                           ({"MAIL_SMTP_HOST": ""}, "MAIL_SMTP_HOST is required"),
                           ({"INFOMIGRA_CONTACT_EMAIL": ""}, "MAIL_ADDRESS"),
                           ({"MAIL_TIMEOUT_SECONDS": "0"}, "between 1 and 600")]:
        with pytest.raises(MailSettingsError, match=message):
            MailSettings.from_env({**base, **wrong})
    local = MailSettings.from_env({**base, "MAIL_IMAP_HOST": "localhost", "MAIL_IMAP_SECURITY": "none",
                                   "MAIL_SMTP_USER": "envios", "MAIL_SMTP_PASSWORD": "y"})
    assert local.imap.port == 143 and (local.smtp.user, local.smtp.password) == ("envios", "y")

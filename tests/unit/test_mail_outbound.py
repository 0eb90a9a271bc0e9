"""What the service's mailbox sends (bot/mail/outbound.py): the acknowledgement and an advisor's answer,
read back as a mail client (and our own reader) would read them."""

import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from email.utils import make_msgid

from bot import knowledge
from bot.mail import inbound, outbound
from bot.offices.hours import OfficeHours

LIMA = dt.timezone(dt.timedelta(hours=-5))
HOURS = OfficeHours.parse("lun-vie 08:30-16:30", "", "America/Lima")
SERVICE = "infomigra@trabajo.gob.pe"
KB = knowledge.load()


def received(name: str = "Rosa Quispe", subject: str = "Consulta sobre España", references: str = "") -> inbound.InboundMail:
    message = EmailMessage()
    message["From"] = f'"{name}" <rosa@example.pe>'
    message["To"] = SERVICE
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.pe")
    if references:
        message["References"] = references
        message["In-Reply-To"] = references.split()[-1]
    message.set_content("¿Qué papeles necesito para trabajar en España?")
    return inbound.parse(message.as_bytes())


def read(message: EmailMessage) -> tuple[EmailMessage, str, str]:
    back = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    return back, back.get_body(("plain",)).get_content(), back.get_body(("html",)).get_content()


def test_the_acknowledgement_is_in_the_thread_says_when_and_is_never_answered():
    original = received()
    ack = outbound.acknowledgement(original, "IM-000123", SERVICE, HOURS, dt.datetime(2026, 12, 3, 10, 0, tzinfo=LIMA))
    back, plain, markup = read(ack)
    assert back["In-Reply-To"] == original.message_id and back["References"] == original.message_id
    assert back["Subject"] == "Re: Consulta sobre España [IM-000123]"
    assert back["To"] == "Rosa Quispe <rosa@example.pe>" and back["From"] == f"PERÚ INFOMIGRA <{SERVICE}>"
    assert back["Message-ID"].endswith(".IM-000123@trabajo.gob.pe>")  # the person's reply will name it
    assert plain.startswith("Hola, Rosa:") and "IM-000123" in plain
    assert "te responderá por este mismo correo" in plain and "de lunes a viernes de 8:30 a 16:30 (hora de Lima)" in plain
    assert "105" in plain  # the emergency line, as in the chat's handoff
    assert "IM-000123" in markup and "<p>" in markup
    # if it ever came back to the mailbox (a forward, a loop), the reader would not answer it
    assert inbound.parse(ack.as_bytes()).automatic == "Auto-Submitted: auto-replied"


def test_out_of_hours_the_acknowledgement_says_from_when():
    saturday = dt.datetime(2026, 12, 5, 11, 0, tzinfo=LIMA)
    _, plain, _ = read(outbound.acknowledgement(received(), "IM-7", SERVICE, HOURS, saturday))
    assert "fuera del horario de atención" in plain and "a partir del lunes 07/12 a las 8:30 (hora de Lima)" in plain


def test_an_answer_carries_the_advisors_text_and_the_articles_with_sources_and_date():
    first, second = make_msgid(domain="example.pe"), make_msgid(domain="trabajo.gob.pe")
    original = received(subject="Re: Consulta sobre España [IM-9]", references=f"{first} {second}")
    article = KB.get("emigrar/tramites/espana")
    reply = outbound.answer(original, "IM-9", SERVICE, "Ana Torres", "Hola Rosa,\n\nTe envío la guía.\r\n\r\nSaludos.",
                            [article])
    back, plain, markup = read(reply)
    assert back["Subject"] == "Re: Consulta sobre España [IM-9]"  # not "Re: Re:", the reference once
    assert back["References"] == f"{first} {second} {original.message_id}" and back["Auto-Submitted"] is None
    assert "Te envío la guía." in plain and article.summary in plain and "Ana Torres" in plain
    assert f"Actualizado: {article.last_reviewed:%d/%m/%Y}" in plain
    assert all(source.url in plain for source in article.sources)
    assert f'<a href="{article.sources[0].url}">' in markup
    parsed = inbound.parse(reply.as_bytes())
    assert parsed.automatic is None and parsed.thread_keys[0] == original.message_id


def test_what_the_person_wrote_is_never_markup_in_the_html():
    original = received(name="<script>alert(1)</script> Rosa", subject="<b>hola</b>")
    reply = outbound.answer(original, "IM-1", SERVICE, "Ana", "Mira <img src=x onerror=alert(1)> https://x.pe/?a=1&b=\"2\"")
    _, _, markup = read(reply)
    assert "<script>" not in markup and "<img" not in markup and "&lt;img" in markup
    assert '<a href="https://x.pe/?a=1&amp;b=">https://x.pe/?a=1&amp;b=</a>' in markup

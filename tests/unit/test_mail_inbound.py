"""An e-mail to the service's mailbox as the desk needs it (bot/mail/inbound.py): real messages built with
the standard library, as a mail client would send them."""

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest

from bot.mail.inbound import ATTACHMENT_BYTES_MAX, TEXT_MAX, html_to_text, parse, strip_quoted


def mail(text: str | None = "Hola, quiero trabajar en España. ¿Qué papeles necesito?", html: str | None = None,
         sender: str = '"Rosa Quispe Mamani" <Rosa.Quispe@Example.pe>', subject: str = "Consulta: visa de trabajo en España",
         **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "infomigra@trabajo.gob.pe"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.pe")
    message["Date"] = format_datetime(dt.datetime(2026, 12, 3, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return message


def test_a_plain_message_from_a_person():
    sent = mail()
    got = parse(sent.as_bytes())
    assert got.sender == "rosa.quispe@example.pe" and got.sender_name == "Rosa Quispe Mamani"
    assert got.subject == "Consulta: visa de trabajo en España"
    assert got.text == "Hola, quiero trabajar en España. ¿Qué papeles necesito?"
    assert got.message_id == sent["Message-ID"] and got.in_reply_to is None and got.thread_keys == ()
    assert got.date == dt.datetime(2026, 12, 3, 15, 30, tzinfo=dt.timezone.utc)
    assert got.automatic is None and got.attachments == ()


def test_the_plain_part_is_preferred_and_html_alone_becomes_text_without_markup():
    both = parse(mail(text="Texto plano", html="<p>Texto <b>HTML</b></p>").as_bytes())
    assert both.text == "Texto plano"
    markup = ("<html><head><title>t</title><style>p{color:red}</style></head><body>"
              "<script>alert('x')</script><p>Hola&nbsp;&amp; gracias</p><div>Vivo en <i>Milán</i><br>"
              "desde 2020</div><ul><li>pasaporte</li><li>contrato</li></ul><img src=x onerror=alert(1)></body></html>")
    got = parse(mail(text=None, html=markup).as_bytes())
    assert got.text == "Hola & gracias\n\nVivo en Milán\ndesde 2020\n\n- pasaporte\n- contrato"
    assert "<" not in got.text and "alert" not in got.text and "color" not in got.text


def test_a_reply_keeps_what_the_person_wrote_and_names_its_thread():
    first, second = make_msgid(domain="trabajo.gob.pe"), make_msgid(domain="example.pe")
    body = ("Gracias. ¿Y para Italia?\n\n"
            "El mié, 3 dic 2026 a las 11:00, INFOMIGRA <infomigra@trabajo.gob.pe> escribió:\n"
            "> Hola Rosa, para España necesitas...\n> Saludos")
    got = parse(mail(text=body, subject="Re: Consulta", In_Reply_To=first, References=f"{second} {first}").as_bytes())
    assert got.text == "Gracias. ¿Y para Italia?"
    assert got.in_reply_to == first and got.thread_keys == (first, second)


@pytest.mark.parametrize("text, kept", [
    ("Mi respuesta\n\nOn Wed, Dec 3, 2026 at 11:00 AM Infomigra <i@x.pe> wrote:\n> antes", "Mi respuesta"),
    ("Arriba\n-----Mensaje original-----\nDe: alguien", "Arriba"),
    ("Texto\n> citado al final\n>\n", "Texto"),
    ("> todo citado", "> todo citado"),  # nothing of its own: the whole text, rather than nothing
    ("Sin citas.\nDos líneas.", "Sin citas.\nDos líneas."),
])
def test_quoted_earlier_messages_are_cut(text, kept):
    assert strip_quoted(text) == kept


def test_attachments_are_kept_with_safe_names_and_a_size_limit():
    message = mail()
    message.add_attachment(b"%PDF-1.4 contrato", maintype="application", subtype="pdf", filename="contrato firmado.pdf")
    message.add_attachment(b"x" * (ATTACHMENT_BYTES_MAX + 1), maintype="image", subtype="jpeg", filename="../../etc/passwd")
    got = parse(message.as_bytes())
    pdf, big = got.attachments
    assert (pdf.filename, pdf.content_type, pdf.size, pdf.data) == ("contrato firmado.pdf", "application/pdf", 17,
                                                                     b"%PDF-1.4 contrato")
    assert big.filename == ".._.._etc_passwd" and big.size == ATTACHMENT_BYTES_MAX + 1 and big.data is None
    assert got.text.startswith("Hola, quiero trabajar")


@pytest.mark.parametrize("headers, reason", [
    ({"Auto_Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
    ({"Precedence": "bulk"}, "Precedence: bulk"),
    ({"List_Id": "<novedades.lista.example.pe>"}, "mailing list (List-Id)"),
    ({"List_Unsubscribe": "<mailto:salir@example.pe>"}, "mailing list (List-Unsubscribe)"),
    ({"X_Autoreply": "yes"}, "auto-responder (X-Autoreply)"),
    ({"Return_Path": "<>"}, "empty return path (a bounce)"),
])
def test_machines_and_lists_are_never_answered(headers, reason):
    assert parse(mail(**headers).as_bytes()).automatic == reason


def test_bounces_and_system_senders_are_never_answered():
    assert parse(mail(sender="MAILER-DAEMON@mx.example.pe").as_bytes()).automatic == "system sender (mailer-daemon)"
    assert parse(mail(sender="no-reply@banco.example").as_bytes()).automatic == "system sender (no-reply)"
    report = EmailMessage()
    report["From"] = "postmaster@example.pe"
    report.make_mixed()
    report.replace_header("Content-Type", "multipart/report; report-type=delivery-status")
    assert parse(report.as_bytes()).automatic == "delivery report"


def test_a_person_saying_auto_submitted_no_is_a_person_and_reply_to_wins():
    got = parse(mail(Auto_Submitted="no", Reply_To="Rosa <rosa.trabajo@example.pe>").as_bytes())
    assert got.automatic is None and got.sender == "rosa.trabajo@example.pe"


def test_broken_messages_give_something_to_show_never_an_error():
    assert parse(b"").automatic == "no sender address"
    garbage = parse(b"\xff\xfe\x00 no es un correo \x00\r\n\r\n\xc3\x28")
    assert garbage.sender == "" and garbage.automatic == "no sender address"
    unknown_charset = (b"From: a@b.pe\r\nSubject: =?x-desconocido?q?hola?=\r\nContent-Type: text/plain; charset=x-desconocido\r\n"
                       b"\r\nhola \xe9\r\n")
    got = parse(unknown_charset)
    assert got.sender == "a@b.pe" and got.text.startswith("hola") and got.automatic is None
    long = parse(mail(text="a" * (TEXT_MAX + 500)).as_bytes())
    assert len(long.text) == TEXT_MAX


def test_html_to_text_never_returns_markup():
    assert html_to_text("<a href='javascript:x'>enlace</a> &lt;script&gt;") == "enlace <script>"
    assert html_to_text("") == ""

"""What the desk shows beside an e-mail (bot/mail/triage.py): danger first, the countries, the articles."""

from email.message import EmailMessage

import pytest

from bot import knowledge
from bot.mail import inbound
from bot.mail.triage import triage

KB = knowledge.load()


def mail(text: str, subject: str = "Consulta") -> inbound.InboundMail:
    message = EmailMessage()
    message["From"] = "Rosa <rosa@example.pe>"
    message["Subject"] = subject
    message.set_content(text)
    return inbound.parse(message.as_bytes())


@pytest.mark.parametrize("subject, text", [
    ("Ayuda", "Estoy en Milán. El empleador se quedó con mi pasaporte y no me deja salir de la casa."),
    ("Urgente: no me pagan", "Trabajo en una finca en Chile hace tres meses y no me pagan el sueldo."),
    ("me amenazan", "Buenas, quería saber qué hacer."),  # the danger in the subject alone
])
def test_a_danger_signal_makes_it_safety(subject, text):
    got = triage(mail(text, subject), KB)
    assert got.reason == "safety" and got.urgent and got.signal.startswith("danger:")


def test_a_question_gets_its_countries_and_the_articles_the_assistant_would_give():
    got = triage(mail("Vivo en Santiago de Chile y quiero ir a trabajar a España. ¿Qué visado de trabajo necesito?"), KB)
    assert got.reason == "asked" and not got.urgent and got.signal is None
    assert got.countries == ("chile", "espana")
    assert "emigrar/tramites/espana" in got.articles and len(got.articles) <= 3


def test_asking_for_a_person_is_noted_and_an_empty_mail_has_nothing_to_suggest():
    assert triage(mail("Quiero hablar con una persona, por favor."), KB).signal == "person:person"
    empty = triage(mail("", subject=""), KB)
    assert empty == type(empty)(reason="asked", signal=None, countries=(), articles=())

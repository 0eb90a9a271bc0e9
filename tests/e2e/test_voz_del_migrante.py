"""'La voz del migrante' through the real assistant: the form stores into the real database."""

import uuid

import pytest

from bot import knowledge, suggestions
from bot.store.db import get_engine

pytestmark = pytest.mark.e2e

HAPPY = ["quiero dejar una sugerencia", "queja", "España", "Madrid", "Consulados y atención",
         "En el consulado nadie contesta el teléfono y las citas se acaban en minutos.", "ana.perez@example.org",
         "sí acepto"]


def sender() -> str:
    return f"vm-{uuid.uuid4().hex[:10]}"


KB = knowledge.load()


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def stored(stack, who: str) -> list:
    return [s for s in suggestions.list_suggestions(get_engine(stack.database_url), limit=200).items if s.sender_id == who]


def test_happy_path_stores_once_and_gives_the_reference(stack):
    who = sender()
    for text in HAPPY:
        stack.say(who, text)
    replies = stack.say(who, "enviar")
    rows = stored(stack, who)
    assert len(rows) == 1
    row = rows[0]
    assert row.reference in texts(replies)
    assert (row.kind, row.country, row.city, row.contact) == ("queja", "espana", "Madrid", "ana.perez@example.org")
    assert row.consent_at is not None
    assert stack.tracker(who)["active_loop"] in ({}, None, {"name": None})
    # a duplicated confirm after the thanks stores nothing new
    stack.say(who, "enviar")
    assert len(stored(stack, who)) == 1


def test_summary_is_shown_before_sending(stack):
    who = sender()
    replies = []
    for text in HAPPY:
        replies = stack.say(who, text)
    assert "Revisa tu mensaje" in texts(replies)
    assert "ana.perez@example.org" in texts(replies)
    assert stored(stack, who) == []


def test_without_consent_nothing_is_stored_and_the_person_is_told(stack):
    who = sender()
    replies = []
    for text in HAPPY[:-1] + ["no acepto"]:
        replies = stack.say(who, text)
    assert "no guardamos tu mensaje" in texts(replies)
    assert stored(stack, who) == []


def test_cancel_at_any_step(stack):
    who = sender()
    for text in HAPPY[:4]:
        stack.say(who, text)
    assert "cancelé" in texts(stack.say(who, "cancelar"))
    assert stored(stack, who) == []
    assert stack.tracker(who)["slots"]["vm_kind"] is None


def test_invalid_contact_and_overlong_message_are_asked_again(stack):
    who = sender()
    for text in HAPPY[:5]:
        stack.say(who, text)
    assert "acortarlo" in texts(stack.say(who, "x" * 2100))
    stack.say(who, HAPPY[5])
    replies = stack.say(who, "mi correo es ana@@example")
    assert "no parece válido" in texts(replies) or "No entendí" in texts(replies)
    assert stack.tracker(who)["slots"]["vm_contact"] is None
    stack.say(who, "no")
    stack.say(who, "sí acepto")
    stack.say(who, "enviar")
    rows = stored(stack, who)
    assert len(rows) == 1 and rows[0].contact is None


def test_a_knowledge_question_is_answered_and_the_form_goes_on(stack):
    who = sender()
    stack.say(who, "quiero dejar una sugerencia")
    replies = stack.say(who, "que es sivitma")
    assert "¿Qué nos quieres dejar?" in texts(replies)
    assert stack.tracker(who)["slots"]["article_id"] == "info/sivitma"
    # the first part of the answer (summary first), then "Ver más" for the rest, still inside the form
    assert replies[0]["text"] == KB.get("info/sivitma").summary
    more = [b["payload"] for r in replies for b in r.get("buttons", []) if b["title"] == "Ver más"]
    assert more and "Actualizado:" not in texts(replies)
    rest = stack.say(who, more[0])
    assert "Actualizado:" in texts(rest)
    assert stack.tracker(who)["active_loop"]["name"] == "voz_del_migrante_form"


def test_erase_my_data_after_confirmation(stack):
    who = sender()
    for text in HAPPY + ["enviar"]:
        stack.say(who, text)
    assert "¿Quieres que borremos" in texts(stack.say(who, "borrar mis datos"))
    replies = stack.say(who, "sí")
    assert "borramos tus datos" in texts(replies)
    engine = get_engine(stack.database_url)
    erased = [s for s in suggestions.list_suggestions(engine, limit=200).items if s.personal_data_erased_at]
    assert any(s.contact is None and s.sender_id is None and s.country == "espana" for s in erased)


def test_killing_the_action_server_never_loses_a_confirmed_suggestion(stack):
    who = sender()
    for text in HAPPY:
        stack.say(who, text)
    stack.kill_actions()
    try:
        replies = stack.say(who, "enviar")  # the action server is down: the person is not told it was stored
        assert "Guardamos tu mensaje" not in texts(replies)
        assert stored(stack, who) == []
    finally:
        stack.restart_actions()
    replies = stack.say(who, "enviar")
    rows = stored(stack, who)
    assert len(rows) == 1 and rows[0].reference in texts(replies)
    stack.kill_actions()  # right after the thanks: the suggestion is already committed
    stack.restart_actions()
    assert len(stored(stack, who)) == 1

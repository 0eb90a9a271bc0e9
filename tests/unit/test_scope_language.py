"""A general question gets the overview (bot/scope.py); English is recognised (bot/language.py)."""

import pytest

from bot import language, scope


@pytest.mark.parametrize("text", ["con que paises tiene convenios el peru", "quien me ayuda si estoy afuera",
                                  "que tipos de visa de trabajo hay en general", "que hago al llegar a otro pais"])
def test_general_questions(text):
    assert scope.is_general(text)
    assert not scope.needs_country("emigrar/tramites", text)


@pytest.mark.parametrize("text", ["que papeles necesito para irme a trabajar", "como saco la visa de trabajo"])
def test_a_procedure_without_a_country_asks_for_it(text):
    assert scope.needs_country("emigrar/tramites", text)
    assert not scope.needs_country("exterior/convenios", text)


@pytest.mark.parametrize("text", ["cual es el numero de la policia alla", "ya llegue, que hago primero",
                                  "donde queda el consulado mas cercano a donde vivo"])
def test_a_question_about_one_unnamed_country_asks_for_it(text):
    assert scope.needs_country("seguridad/emergencia", text)


@pytest.mark.parametrize("text,lang", [
    ("how can I get a work permit in Peru", "en"), ("hello", "en"), ("thank you", "en"),
    ("I want to talk to a person please", "en"), ("que papeles necesito para trabajar en españa", "es"),
    ("hola", "es"), ("gracias", "es"), ("ok", None), ("12345", None), ("", None), ("visa", None),
])
def test_language(text, lang):
    assert language.detect(text) == lang

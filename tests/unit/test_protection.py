"""The "qué hacer ahora" message (bot/protection): short, sourced, right for the country."""

import re

import pytest

from bot import knowledge, protection, signals
from bot.protection.first_aid import TRAFFICKING_CATEGORIES

KB = knowledge.load()
# Every category of the danger lexicon (a new one is covered here as soon as it is written), and none.
CATEGORIES = [*signals.lexicon("danger").examples, None]
NUMBER = re.compile(r"\+?\d[\d -]{1,14}\d|\b\d{3}\b")


def digits(text):
    return re.sub(r"\D", "", text)


@pytest.mark.parametrize("country", [*protection.contacts(), None, "japon"])
@pytest.mark.parametrize("category", CATEGORIES)
def test_the_message_fits_a_phone_screen(country, category):
    text = protection.first_aid(country, category)
    assert len(text) <= protection.MAX_CHARS
    assert text.startswith("🆘 Qué hacer ahora")


@pytest.mark.parametrize("slug", list(protection.contacts()))
def test_every_number_stands_in_the_sourced_article(slug):
    """A number in the first message must be the one the reviewed article gives, with its source."""
    entry = protection.contacts()[slug]
    article = KB.get(entry.article)
    assert article is not None and article.sources
    body = digits(article.body)
    for text in [entry.emergency, *entry.lines, entry.trafficking or ""]:
        for number in NUMBER.findall(text):
            assert digits(number) in body, f"{number} ({slug}) is not in {entry.article}"


def test_the_country_numbers_come_first_and_the_trafficking_line_only_for_trafficking_signals():
    text = protection.first_aid("eeuu", "documents")
    assert text.splitlines()[1] == "1. Si corres peligro, llama al 911."
    assert "1-888-373-7888" in text
    assert "1-888-373-7888" not in protection.first_aid("eeuu", "accident")
    assert "1818" in protection.first_aid("peru", "debt")
    assert "consulado del Perú" in protection.first_aid("chile", "wages")
    assert set(CATEGORIES) >= TRAFFICKING_CATEGORIES


def test_an_unknown_country_gets_every_destinations_number_and_the_question():
    text = protection.first_aid(None, "wages")
    for number in ("911", "112", "133", "105"):
        assert number in text
    assert text.endswith(protection.COUNTRY_QUESTION)
    buttons = protection.where_buttons()
    assert [b["payload"] for b in buttons][0] == '/informar_pais{"country":"eeuu"}'
    assert {b["title"] for b in buttons} >= {"Estados Unidos", "España", "Italia", "Chile", "Argentina", "El Perú"}


def test_the_article_after_the_handoff():
    assert protection.article_for("chile", "wages") == "seguridad/emergencia/chile"
    assert protection.article_for(None, "documents") == "seguridad/trata-y-fraude"
    assert protection.article_for("peru", "debt") == "seguridad/trata-y-fraude"
    assert protection.article_for("peru", "wages") == "peru/otras-informaciones"
    assert protection.article_for(None, "accident") == "seguridad/emergencia"
    for slug in protection.contacts():
        for category in CATEGORIES:
            assert KB.get(protection.article_for(slug, category)) is not None


@pytest.mark.parametrize("country", [*protection.contacts(), None])
@pytest.mark.parametrize("category", ["documents", "wages", None])
def test_in_english_the_same_numbers_in_english_words(country, category):
    """A conversation in English (line 4: foreigners in Peru) gets the message in English, with
    exactly the numbers of the Spanish one, within the same length."""
    english, spanish = protection.first_aid(country, category, "en"), protection.first_aid(country, category)
    assert english.startswith("🆘 What to do now") and len(english) <= protection.MAX_CHARS
    assert sorted(digits(n) for n in NUMBER.findall(english)) == sorted(digits(n) for n in NUMBER.findall(spanish))
    assert "Si corres peligro" not in english and "consulado" not in english


def test_english_buttons_answer_with_the_same_payloads():
    assert [b["payload"] for b in protection.where_buttons("en")] == [b["payload"] for b in protection.where_buttons()]
    assert protection.where_buttons("en")[0]["title"] == "United States"

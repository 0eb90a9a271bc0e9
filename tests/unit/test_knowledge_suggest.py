"""The articles suggested to an advisor (bot/knowledge/suggest.py): the chat's answer first when the
assistant understands the text, the knowledge search for the rest, and the search alone without Rasa."""

import pytest

from bot import knowledge
from bot.knowledge.suggest import CONFIDENCE, suggest


@pytest.fixture(scope="module")
def kb():
    return knowledge.load()


def parse(intent: str, confidence: float = 0.9, **countries: str) -> dict:
    return {"intent": {"name": intent, "confidence": confidence},
            "entities": [{"entity": "country", "value": value, "role": role} for role, value in countries.items()]}


def test_the_assistants_answer_comes_first_for_the_country_asked_about(kb):
    text = "Estoy en Chile y quiero saber qué papeles necesito para trabajar en España"
    found = suggest(kb, text, parse("emigrar_tramites", location="Chile", destination="España"))
    assert found[0].article_id == "emigrar/tramites/espana" and found[0].why == "assistant"
    assert [s.why for s in found[1:]] == ["search"] * (len(found) - 1)
    assert len({s.article_id for s in found}) == len(found) <= 4


def test_the_country_of_the_text_when_the_model_found_none(kb):
    found = suggest(kb, "trámites para ir a trabajar a Italia", parse("emigrar_tramites"))
    assert found[0].article_id == "emigrar/tramites/italia"


def test_an_unsure_or_unknown_intent_leaves_the_search_alone(kb):
    text = "me quitaron el pasaporte en el trabajo"
    search_only = [hit.article_id for hit in kb.search(text, limit=4)]
    for parsed in (None, parse("emigrar_tramites", CONFIDENCE - 0.01), parse("nlu_fallback"), {"intent": None}):
        found = suggest(kb, text, parsed)
        assert [s.article_id for s in found] == search_only and {s.why for s in found} == {"search"}


def test_peru_is_never_the_destination_and_empty_text_suggests_nothing(kb):
    found = suggest(kb, "vivo en Lima, qué trámites hago para emigrar", parse("emigrar_tramites", destination="Perú"))
    assert found[0].article_id == "emigrar/tramites"
    assert suggest(kb, "   ", parse("emigrar_tramites")) == []

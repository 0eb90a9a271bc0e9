"""The hybrid knowledge search on the real articles: meaning finds what shares no word, BM25 keeps
acronyms, and unrelated text still finds nothing."""

import pytest

from bot import knowledge
from bot.knowledge import search
from bot.knowledge.search import SearchIndex


@pytest.fixture(scope="module")
def kb():
    return knowledge.load()


def ids(hits) -> list[str]:
    return [h.article_id for h in hits]


@pytest.mark.parametrize(
    ("query", "article"),
    [
        ("que informacion personal almacenan de mi", "info/privacidad"),
        ("que carreras estan pidiendo en peru", "retorno/mercado-laboral"),
        ("me rechazaron la visa de trabajo, puedo volver a pedirla?", "emigrar/tramites"),
        ("necesito fuentes para mi monografia sobre migrantes", "info/estudios"),
    ],
)
def test_a_paraphrase_finds_the_article_that_bm25_alone_misses(kb, monkeypatch, query, article):
    assert ids(kb.search(query))[0] == article
    with monkeypatch.context() as m:  # the search as it was before the encoder: BM25 alone
        m.setattr(search, "semantic", lambda cosine: 0.0)
        m.setattr(search, "lexical", lambda bm25, cosine, gated: bm25 / (bm25 + search.LEX_HALF))
        assert article not in ids(kb.search(query))


def test_going_back_home_in_other_words_offers_the_return_articles(kb):
    found = ids(kb.search("me quiero regresar a mi tierra, hay alguna ayuda?"))
    assert found[0] in {"retorno/retorno-asistido", "retorno/ley-incentivos"}
    assert all(a.startswith("retorno/") for a in found[:2])


@pytest.mark.parametrize(
    "query",
    [
        "zxqv wplk",
        "asdfgh",
        "receta de ceviche",
        "cuentame un chiste",
        "",
        "   ",
        # BM25 alone offered articles for these on a shared word ("tiempo", "dolar", "milan", "partido").
        "qué tiempo hace mañana",
        "precio del dolar hoy",
        "como va a estar el clima en milan esta semana",
        "quien gano el partido de ayer",
    ],
)
def test_unrelated_text_finds_nothing(kb, query):
    assert kb.search(query) == []


def test_a_lone_acronym_is_still_found_by_its_letters(kb):
    assert ids(kb.search("sivitma"))[0] == "info/sivitma"
    assert "retorno/retorno-asistido" in ids(kb.search("oim"))


def test_the_named_country_goes_first(kb):
    assert ids(kb.search("visado de trabajo para españa"))[0] == "emigrar/tramites/espana"
    assert ids(kb.search("dónde está el consulado en madrid"))[0] == "exterior/instituciones/espana"


def test_an_english_question_reaches_the_spanish_article(kb):
    assert ids(kb.search("How do I get a work permit in Peru as a foreigner?"))[0] == "peru/extranjeros"


def test_hits_are_sorted_limited_and_above_the_minimum(kb):
    hits = kb.search("quiero trabajar en el extranjero", limit=5)
    assert 1 <= len(hits) <= 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.score >= round(search.MIN_SCORE, 3) for h in hits)


def test_an_empty_index_finds_nothing():
    assert SearchIndex([]).search("visa para españa") == []

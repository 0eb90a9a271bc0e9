"""Facts corrected after the fact check of 2026-12-03 stay corrected in every article that states them."""

import re

import pytest

from bot import knowledge

KB = knowledge.load()
ARTICLES = list(KB.articles.values()) + [v for by_id in KB.variants.values() for v in by_id.values()]


def text(article) -> str:
    return " ".join([article.summary or "", article.body, article.cost or "", article.duration or ""])


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: f"{a.id}.{a.lang}")
def test_a_visa_free_stay_in_europe_comes_with_the_entry_exit_system(article):
    body = article.body
    europe = re.search(r"Schengen|Europa|España|Italia|Europe|Spain|Italy", body)
    if europe and re.search(r"90 (días|days)", body) and re.search(r"sin visa|visa-free|without a visa", body):
        assert "EES" in body, f"{article.id} mentions the 90-day visa-free stay without the EES"


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: f"{a.id}.{a.lang}")
def test_no_us_source_from_another_countrys_embassy(article):
    for source in article.sources:
        host = source.url.split("/")[2]
        if host.endswith("usembassy.gov"):
            assert host == "pe.usembassy.gov", f"{article.id} cites {host}"


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: f"{a.id}.{a.lang}")
def test_spains_extraordinary_regularisation_is_never_pending(article):
    body = text(article)
    if re.search(r"regularizaci[oó]n extraordinaria", body, re.I):
        assert not re.search(r"si se aprob|se tramitaba|tramitó una|texto final no", body), article.id
        assert re.search(r"cerr|termin", body), f"{article.id} does not say the 2026 window is closed"


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: f"{a.id}.{a.lang}")
def test_peru_bilateral_social_security_list_includes_canada(article):
    body = text(article)
    lists_agreements = re.search(r"(convenios?|agreements?)[^.]{0,80}(España|Spain)[^.]{0,40}(Chile)", body)
    if lists_agreements and re.search(r"seguridad social|social security", body):
        assert re.search(r"Canad", body), f"{article.id} lists Peru's social-security agreements without Canada"


def test_the_trafficking_lines_stand_in_their_articles():
    expected = {
        "seguridad/trata-y-fraude": ["1818", "1-888-373-7888", "900 10 50 90", "800 290 290", "145"],
        "seguridad/emergencia/eeuu": ["1-888-373-7888", "233733"],
        "seguridad/emergencia/espana": ["900 10 50 90"],
        "seguridad/emergencia/italia": ["800 290 290"],
        "seguridad/emergencia/argentina": ["145"],
        "peru/otras-informaciones": ["1818"],
    }
    for article_id, numbers in expected.items():
        body = KB.get(article_id).body
        for number in numbers:
            assert number in body, f"{number} missing from {article_id}"

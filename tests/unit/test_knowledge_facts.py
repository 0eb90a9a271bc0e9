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


# Issue 13, "concrete and honest": every procedure says where it is done and what to bring.
PROCEDURES = [a for a in ARTICLES if a.id.startswith(("emigrar/tramites/", "peru/"))
              or a.id in ("retorno/ley-incentivos", "info/sivitma")]

# The official place each procedure is done, as a link in the body (a portal, or the office's own page).
WHERE = {
    "emigrar/tramites/espana": "exteriores.gob.es/Consulados/lima",
    "emigrar/tramites/eeuu": "pe.usembassy.gov",
    "emigrar/tramites/italia": "prenotami.esteri.it",
    "emigrar/tramites/chile": "serviciomigraciones.cl",
    "emigrar/tramites/argentina": "migraciones.gov.ar/radex",
    "peru/andinos": "agenciavirtual.migraciones.gob.pe",
    "peru/extranjeros": "agenciavirtual.migraciones.gob.pe",
    "peru/otras-informaciones": "https://www.gob.pe",
    "retorno/ley-incentivos": "gob.pe/83486",
    "info/sivitma": "extranet.trabajo.gob.pe/extranet/web/citas",
}
WHAT_TO_BRING = re.compile(r"Qué llevar|What to bring")
NO_OFFICIAL_LIST = re.compile(r"no (traen|trae|da|hallamos|encontramos)[^.]{0,40}(lista|documentos)"
                              r"|not? (give|find|found)[^.]{0,40}(list|documents)", re.I)


def test_every_procedure_article_is_checked():
    assert {a.id for a in PROCEDURES} == set(WHERE)
    assert len(PROCEDURES) == len(WHERE) + 3  # and the three English variants of peru/*


@pytest.mark.parametrize("article", PROCEDURES, ids=lambda a: f"{a.id}.{a.lang}")
def test_a_procedure_says_where_it_is_done_with_the_official_link(article):
    assert re.search(r"https://\S+", article.body), f"{article.id} ({article.lang}) gives no link"
    assert WHERE[article.id] in article.body, f"{article.id} ({article.lang}) does not link {WHERE[article.id]}"


@pytest.mark.parametrize("article", PROCEDURES, ids=lambda a: f"{a.id}.{a.lang}")
def test_a_procedure_says_what_to_bring_or_that_no_official_list_exists(article):
    assert WHAT_TO_BRING.search(article.body) or NO_OFFICIAL_LIST.search(article.body), \
        f"{article.id} ({article.lang}) says neither what to bring nor that no official list exists"


@pytest.mark.parametrize("article", PROCEDURES, ids=lambda a: f"{a.id}.{a.lang}")
def test_the_amounts_in_cost_and_duration_stand_in_the_body(article):
    amount = re.compile(r"(?:US\$|USD |S/ ?)[\d.,]+|[\d.,]+ euros")
    for field in (article.cost or "", article.duration or ""):
        for figure in amount.findall(field):
            assert figure.replace(" ", "") in article.body.replace(" ", ""), \
                f"{article.id} ({article.lang}): {figure} in cost/duration but not in the body"


MINISTRY_PAGES = ["info/contacto", "info/sivitma", "info/servicio", "retorno/plataforma-retorno-productivo",
                  "info/eventos", "exterior/instituciones"] + [f"exterior/instituciones/{c}" for c in
                                                               ("eeuu", "espana", "italia", "chile", "argentina")]


@pytest.mark.parametrize("article_id", MINISTRY_PAGES)
def test_the_ministry_pages_give_the_advisors_hours_and_the_service_email(article_id):
    body = KB.get(article_id).body
    assert "{{horario_asesores}}" in body, f"{article_id} talks about contact without the advisors' hours"
    assert "{{correo_servicio}}" in body, f"{article_id} talks about contact without the service e-mail"


def test_contact_names_the_desks_and_the_office_the_directiva_names():
    body = KB.get("info/contacto").body
    assert "Dirección de Migración Laboral" in body
    assert re.search(r"Lima, Callao y regiones", body)
    assert "https://www.gob.pe/institucion/mtpe" in body


# Press is kept only for a fact no official page states, and then the body says so.
PRESS_SOURCE = re.compile(r"\((prensa|press|legal press)\b", re.I)


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: f"{a.id}.{a.lang}")
def test_a_fact_from_the_press_says_so(article):
    if not any(PRESS_SOURCE.search(s.title) for s in article.sources):
        return
    assert re.search(r"prensa|press", article.body, re.I), f"{article.id} ({article.lang}) cites the press silently"

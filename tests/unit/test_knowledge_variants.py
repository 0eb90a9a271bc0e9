"""English variants of articles: `<id>.en.md` beside the Spanish original, same id, `lang: en`."""

import datetime as dt
from pathlib import Path

import pytest

from bot import knowledge
from bot.cli import main
from bot.knowledge.model import SUMMARY_MAX, is_procedure
from bot.knowledge.render import MAX_CHARS

# The line-4 articles (foreigners working in Peru) and the contact page have an English variant.
ENGLISH_IDS = {"peru/extranjeros", "peru/andinos", "peru/otras-informaciones", "info/contacto"}

ARTICLE = """\
---
id: {id}
{extra}title: A title
summary: The essentials of the article.
cost: The official source gives no fee; check it on https://www.gob.pe.
duration: The official source gives no time; check it on https://www.gob.pe.
line: {line}
sources:
  - title: Official source
    url: https://www.gob.pe/mtpe
last_reviewed: 2026-01-10
review_by: 2026-07-10
keywords: [one, two]
---
{body}
"""


def write(root: Path, name: str, article_id: str | None = None, extra: str = "", body: str = "Text of the article.",
          summary: str | None = "The essentials of the article.", drop: str | None = None,
          replace: tuple[str, str] | None = None) -> Path:
    """Write `<root>/<name>` (e.g. "info/a.en.md"); the id defaults to the name without extensions.
    `summary` None leaves it out, `drop` leaves out a key, `replace` changes one string."""
    article_id = article_id or name.split(".", 1)[0]
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = ARTICLE.format(id=article_id, extra=extra, line=article_id.split("/")[0], body=body)
    text = text.replace("summary: The essentials of the article.\n", f"summary: {summary}\n" if summary else "")
    if drop:
        text = "".join(line for line in text.splitlines(keepends=True) if not line.startswith(f"{drop}:"))
    if replace:
        text = text.replace(*replace)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(root: Path) -> list[str]:
    with pytest.raises(knowledge.KnowledgeError) as err:
        knowledge.load(root)
    return err.value.problems


@pytest.fixture(scope="module")
def kb():
    return knowledge.load()


# The real knowledge base.


def test_every_english_variant_loads_beside_its_spanish_original(kb):
    assert set(kb.variants) == {"en"}
    assert set(kb.variants["en"]) == ENGLISH_IDS
    for article_id, variant in kb.variants["en"].items():
        original = kb.get(article_id)
        assert original is not None and original.lang == "es", article_id
        assert variant.lang == "en" and variant.id == article_id
        assert variant.path.name.endswith(".en.md") and variant.path.parent == original.path.parent
        assert (variant.line, variant.country) == (original.line, original.country)
        # Same facts, same review dates: a re-reviewed original must bring its translation along.
        assert (variant.last_reviewed, variant.review_by) == (original.last_reviewed, original.review_by), article_id
        assert variant.title != original.title, f"{article_id}: the title is not translated"
        assert len(variant.body.split("\n\n")) == len(original.body.split("\n\n")), f"{article_id}: not the same structure"
        assert variant.links == [] or {t for _, t in variant.links} <= set(kb.articles)


def test_spanish_articles_stay_where_they_were(kb):
    assert all(a.lang == "es" and not a.path.name.endswith(".en.md") for a in kb.articles.values())
    assert len(kb) == len(kb.articles)
    assert all(hit.article_id in kb.articles for hit in kb.search("working in peru foreigner contract", limit=10))


def test_english_variants_are_sourced_dated_and_fit_a_phone(kb):
    today = dt.date.today()
    for variant in kb.variants["en"].values():
        assert variant.sources and all(s.url.startswith("https://") for s in variant.sources), variant.id
        assert variant.last_reviewed <= today, variant.id
        for paragraph in variant.body.split("\n\n"):
            assert len(paragraph) < 700, (variant.id, len(paragraph))
        messages = knowledge.render(variant)
        assert messages[0].text == variant.summary and 0 < len(variant.summary) <= SUMMARY_MAX, variant.id
        assert all(0 < len(m.text) <= MAX_CHARS for m in messages[:-1]), variant.id
        if is_procedure(variant.id):
            assert "\n\nCost: " in messages[1].text and "\nTime: " in messages[1].text, variant.id
            assert "Costo:" not in messages[1].text, variant.id
        last = messages[-1].text
        assert len(last) <= 1600, variant.id
        assert f"Updated: {variant.last_reviewed:%d/%m/%Y}" in last
        assert "Official source" in last and variant.sources[-1].url in last
        assert "Actualizado" not in last and "Fuente" not in last


def test_get_in_english_gives_the_variant_or_none(kb):
    for article_id in ENGLISH_IDS:
        assert kb.get(article_id, lang="en") is kb.variants["en"][article_id]
        assert kb.get(article_id).lang == "es"
    assert kb.get("emigrar/tramites/espana") is not None
    assert kb.get("emigrar/tramites/espana", lang="en") is None
    assert kb.get("peru/andinos", lang="fr") is None
    assert kb.for_topic("peru/andinos", lang="en") is kb.variants["en"]["peru/andinos"]
    assert kb.for_topic("emigrar/tramites", "espana", lang="en") is None


def test_kb_check_counts_the_variants_apart(kb, capsys):
    assert main(["kb", "check"]) == 0
    out = capsys.readouterr().out.strip()
    per_country = sum(1 for a in kb.articles.values() if a.country)
    assert out == f"ok: {len(kb)} articles ({per_country} per country), {len(kb.topics)} topics, {len(ENGLISH_IDS)} in English"


# Small knowledge bases in tmp_path.


def test_for_topic_in_english_never_falls_back_to_a_less_specific_variant(tmp_path):
    write(tmp_path, "emigrar/tramites.md")
    write(tmp_path, "emigrar/tramites.en.md", extra="lang: en\n")
    write(tmp_path, "emigrar/tramites/chile.md", extra="country: chile\n")
    write(tmp_path, "emigrar/tramites/espana.md", extra="country: espana\n")
    write(tmp_path, "emigrar/tramites/espana.en.md", extra="lang: en\ncountry: espana\n")
    kb = knowledge.load(tmp_path)
    assert kb.for_topic("emigrar/tramites", "espana", lang="en").id == "emigrar/tramites/espana"
    assert kb.for_topic("emigrar/tramites", "espana", lang="en").lang == "en"
    assert kb.for_topic("emigrar/tramites", "chile").id == "emigrar/tramites/chile"
    assert kb.for_topic("emigrar/tramites", "chile", lang="en") is None  # its Spanish article has no variant
    assert kb.for_topic("emigrar/tramites", "italia", lang="en").id == "emigrar/tramites"  # the overview, as in Spanish
    assert kb.for_topic("emigrar/tramites", lang="en").lang == "en"
    assert kb.countries_of("emigrar/tramites") == ["chile", "espana"]
    assert len(kb) == 3 and len(kb.variants["en"]) == 2


def test_render_puts_the_footer_in_english_and_keeps_the_rest(tmp_path):
    body = "Read **this** and [the other guide](kb:info/b)."
    write(tmp_path, "info/a.md", body=body)
    write(tmp_path, "info/a.en.md", extra="lang: en\n", body=body)
    write(tmp_path, "info/b.md")
    kb = knowledge.load(tmp_path)
    spanish, english = knowledge.render(kb.get("info/a"), intro="Hi"), knowledge.render(kb.get("info/a", lang="en"), intro="Hi")
    assert english[-1].text.endswith("Official source:\n- Official source: https://www.gob.pe/mtpe\nUpdated: 10/01/2026")
    assert spanish[-1].text.endswith("Fuente oficial:\n- Official source: https://www.gob.pe/mtpe\nActualizado: 10/01/2026")
    assert english[0].text == "Hi\n\nThe essentials of the article."
    assert english[1].text == ("A title\n\nCost: The official source gives no fee; check it on https://www.gob.pe.\n"
                               "Time: The official source gives no time; check it on https://www.gob.pe.\n\n"
                               "Read this and the other guide.")
    assert spanish[1].text.startswith("A title\n\nCosto: The official") and "\nPlazo: " in spanish[1].text
    assert [m.buttons for m in english] == [m.buttons for m in spanish]


def test_several_sources_are_official_sources_in_english(tmp_path):
    write(tmp_path, "info/a.md")
    path = write(tmp_path, "info/a.en.md", extra="lang: en\n")
    text = path.read_text(encoding="utf-8").replace("sources:\n", "sources:\n  - title: Other\n    url: https://www.gob.pe/x\n")
    path.write_text(text, encoding="utf-8")
    last = knowledge.render(knowledge.load(tmp_path).get("info/a", lang="en"))[-1].text
    assert "Official sources:\n- Other: https://www.gob.pe/x\n- Official source: https://www.gob.pe/mtpe\nUpdated: 10/01/2026" in last


def test_kb_check_line_is_unchanged_without_variants(tmp_path, capsys):
    write(tmp_path, "info/a.md")
    write(tmp_path, "info/b.md")
    assert main(["kb", "check", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "ok: 2 articles (0 per country), 2 topics\n"
    write(tmp_path, "info/a.en.md", extra="lang: en\n")
    assert main(["kb", "check", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "ok: 2 articles (0 per country), 2 topics, 1 in English\n"


@pytest.mark.parametrize(
    ("name", "kwargs", "problem"),
    [
        ("info/a.en.md", {"extra": "lang: fr\n"}, "lang 'fr' is not allowed"),
        ("info/a.en.md", {"extra": "lang: es\n"}, "lang 'es' is not allowed"),
        ("info/a.md", {"extra": "lang: es\n"}, "lang 'es' is not allowed"),
        ("info/a.en.md", {}, "must declare 'lang: en'"),
        ("info/c.md", {"extra": "lang: en\n"}, "needs a file name ending in '.en.md'"),
        ("info/b.en.md", {"extra": "lang: en\n"}, "has no Spanish original"),
        ("info/a.en.md", {"article_id": "info/b", "extra": "lang: en\n"}, "'info/b' does not match its path (expected 'info/a')"),
        ("info/a.en.md", {"extra": "lang: en\n", "body": "See [x](kb:info/missing)."}, "link to missing article 'info/missing'"),
        ("info/a.en.md", {"extra": "lang: en\n", "body": "See [x](kb:info/a.en)."}, "link to missing article 'info/a.en'"),
        ("peru/x/bolivia.en.md", {"extra": "lang: en\n"}, "country 'None' differs from the Spanish original's 'bolivia'"),
        # the same checks as a Spanish article
        ("info/a.en.md", {"extra": "lang: en\n", "summary": None}, "missing required field 'summary'"),
        ("info/a.en.md", {"extra": "lang: en\n", "summary": "x" * (SUMMARY_MAX + 1)}, "summary has 301 characters"),
        ("peru/x.en.md", {"extra": "lang: en\n", "drop": "cost"}, "a procedure article needs 'cost'"),
        ("peru/x.en.md", {"extra": "lang: en\n", "drop": "duration"}, "a procedure article needs 'duration'"),
        ("info/a.en.md", {"extra": "lang: en\n", "replace": ("https://www.gob.pe/mtpe", "http://www.gob.pe/mtpe")},
         "url is not https"),
        ("info/a.en.md", {"extra": "lang: en\n", "replace": ("2026-07-10", "2026-07-11")},
         "more than 6 months after last_reviewed"),
    ],
)
def test_invalid_variants_are_refused_with_the_file_name(tmp_path, name, kwargs, problem):
    write(tmp_path, "info/a.md")
    write(tmp_path, "peru/x.md")
    write(tmp_path, "peru/x/bolivia.md", extra="country: bolivia\n")
    write(tmp_path, name, **kwargs)
    problems = problems_of(tmp_path)
    assert any(name in p and problem in p for p in problems), problems

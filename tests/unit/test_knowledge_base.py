"""The real knowledge base loads clean, and each kind of broken article is refused by name."""

import datetime as dt
import re
import textwrap
from pathlib import Path

import pytest

from bot import countries, knowledge
from bot.knowledge.render import MAX_CHARS
from tests.conftest import SHARED

GOOD = """\
---
id: {id}
title: Un título
line: {line}
sources:
  - title: Fuente oficial
    url: https://www.gob.pe/mtpe
last_reviewed: 2026-01-10
review_by: 2026-07-10
keywords: [uno, dos]
---
Texto del artículo.
"""


def write(root: Path, article_id: str, text: str | None = None) -> Path:
    path = root / f"{article_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text or GOOD.format(id=article_id, line=article_id.split("/")[0]), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def kb():
    return knowledge.load()


def test_real_knowledge_base_loads(kb):
    assert len(kb) >= 40
    assert kb.is_per_country("emigrar/tramites")
    assert not kb.is_per_country("emigrar/antes-de-viajar")


def map_ids() -> set[str]:
    text = (SHARED / "knowledge-map.md").read_text(encoding="utf-8")
    ids: set[str] = set()
    for raw in re.findall(r"`([a-z0-9\-]+(?:/[a-z0-9\-<>]+)+)`", text):
        if raw.startswith(("seed/", "research/")):
            continue
        if "<country>" in raw:
            ids.update(raw.replace("<country>", c) for c in countries.DESTINATIONS)
        else:
            ids.add(raw)
    return ids


@pytest.mark.skipif(not (SHARED / "knowledge-map.md").exists(), reason="shared/knowledge-map.md is not beside the repo")
def test_every_map_id_has_an_article(kb):
    expected = map_ids()
    missing = sorted(expected - set(kb.articles))
    assert not missing, f"map ids with no article: {missing}"


def test_every_per_country_topic_has_an_overview(kb):
    for topic, per_country in kb.topics.items():
        if per_country:
            assert kb.get(topic), f"{topic} has per-country articles but no overview"


def test_every_article_is_sourced_dated_and_fits_a_phone(kb):
    today = dt.date.today()
    for article in kb.articles.values():
        assert article.sources and all(s.url.startswith("https://") for s in article.sources), article.id
        assert article.last_reviewed <= today, article.id
        for message in knowledge.render(article):
            assert 0 < len(message.text) <= MAX_CHARS, (article.id, len(message.text))
        last = knowledge.render(article)[-1].text
        assert f"Actualizado: {article.last_reviewed:%d/%m/%Y}" in last
        assert article.sources[-1].url in last


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (GOOD.format(id="info/x", line="info").replace("keywords:", "autor: yo\nkeywords:"), "unknown field 'autor'"),
        (GOOD.format(id="info/x", line="info").replace("https://www.gob.pe/mtpe", "http://www.gob.pe/mtpe"), "not https"),
        (re.sub(r"sources:\n(  .*\n)+", "", GOOD.format(id="info/x", line="info")), "missing required field 'sources'"),
        (GOOD.format(id="info/x", line="info").replace("2026-01-10", "2999-01-01").replace("2026-07-10", "2999-07-01"),
         "in the future"),
        (GOOD.format(id="info/x", line="info").replace("Texto", "Ver [otro](kb:info/no-existe). Texto"),
         "link to missing article 'info/no-existe'"),
        (GOOD.format(id="info/x", line="emigrar"), "does not match the id's first segment"),
        (GOOD.format(id="info/x", line="info").replace("title: Un título", "title: Uno: dos"), "not valid YAML"),
        ("sin front matter\n", "missing YAML front matter"),
    ],
)
def test_broken_articles_are_refused_with_the_file_name(tmp_path, text, problem):
    write(tmp_path, "info/otro")
    write(tmp_path, "info/x", text)
    with pytest.raises(knowledge.KnowledgeError) as err:
        knowledge.load(tmp_path)
    assert any("info/x.md" in p and problem in p for p in err.value.problems), err.value.problems


def test_an_id_used_twice_is_refused(tmp_path):
    write(tmp_path, "info/a")
    write(tmp_path, "info/b", GOOD.format(id="info/a", line="info"))
    with pytest.raises(knowledge.KnowledgeError) as err:
        knowledge.load(tmp_path)
    assert any("info/b.md" in p and "'info/a' does not match its path" in p for p in err.value.problems)


def test_stale_lists_past_and_near_review_dates(tmp_path):
    write(tmp_path, "info/a")
    write(tmp_path, "info/b", GOOD.format(id="info/b", line="info").replace("2026-07-10", "2027-07-10"))
    kb = knowledge.load(tmp_path)
    assert [a.id for a in kb.stale(dt.date(2026, 7, 1), within_days=30)] == ["info/a"]
    assert kb.stale(dt.date(2026, 5, 1), within_days=30) == []


def test_long_paragraphs_split_below_the_limit(tmp_path):
    body = "Frase corta de prueba. " * 120
    write(tmp_path, "info/a", GOOD.format(id="info/a", line="info").replace("Texto del artículo.", body))
    article = knowledge.load(tmp_path).get("info/a")
    messages = knowledge.render(article)
    assert len(messages) > 2
    assert all(len(m.text) <= MAX_CHARS for m in messages)
    assert "".join(m.text for m in messages).count("Frase corta") == 120


def test_internal_links_become_buttons_and_plain_text(tmp_path):
    write(tmp_path, "info/b")
    text = GOOD.format(id="info/a", line="info").replace("Texto del artículo.", "Lee **esto** y [la otra guía](kb:info/b).")
    write(tmp_path, "info/a", text)
    messages = knowledge.render(knowledge.load(tmp_path).get("info/a"))
    assert "Lee esto y la otra guía." in messages[0].text
    payloads = [b["payload"] for b in messages[-1].buttons]
    assert payloads == ['/elegir_articulo{"article":"info/b"}', "/menu"]


def test_knowledge_readme_example_is_valid():
    readme = (Path(knowledge.base.DEFAULT_ROOT) / "README.md").read_text(encoding="utf-8")
    example = textwrap.dedent(readme.split("```yaml\n", 1)[1].split("```", 1)[0])
    import yaml

    meta = yaml.safe_load(example.strip().strip("-"))
    assert set(meta) == {"id", "title", "line", "country", "sources", "last_reviewed", "review_by", "keywords"}

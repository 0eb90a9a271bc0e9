"""The real knowledge base loads clean, and each kind of broken article is refused by name."""

import datetime as dt
import re
import textwrap
from pathlib import Path

import pytest

from bot import countries, knowledge
from bot.knowledge.model import SUMMARY_MAX, is_procedure
from bot.knowledge.render import MAX_CHARS, MENU_BUTTON
from tests.conftest import SHARED

GOOD = """\
---
id: {id}
title: Un título
summary: Lo esencial del artículo.
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
        messages = knowledge.render(article)
        for message in messages[:-1]:
            assert 0 < len(message.text) <= MAX_CHARS, (article.id, len(message.text))
        # the sources and the date: one message, which still fits one WhatsApp message
        last = messages[-1].text
        assert 0 < len(last) <= 1600, (article.id, len(last))
        assert last.startswith(("Fuente oficial:", "Fuentes oficiales:")), article.id
        assert last.endswith(f"Actualizado: {article.last_reviewed:%d/%m/%Y}")
        assert article.sources[-1].url in last


def test_every_article_has_a_written_summary_within_the_limit(kb):
    for article in [*kb.articles.values(), *(v for by_id in kb.variants.values() for v in by_id.values())]:
        assert 0 < len(article.summary) <= SUMMARY_MAX, (article.id, article.lang, len(article.summary))
        assert "**" not in article.summary and "](kb:" not in article.summary, article.id


def test_every_procedure_article_states_its_cost_and_duration(kb):
    procedures = [a for a in [*kb.articles.values(), *kb.variants.get("en", {}).values()] if is_procedure(a.id)]
    assert {a.id for a in procedures} >= {"emigrar/tramites/espana", "peru/andinos", "retorno/ley-incentivos", "info/sivitma"}
    assert not is_procedure("emigrar/tramites") and not is_procedure("retorno/mivivienda")
    for article in procedures:
        assert article.cost and article.duration, (article.id, article.lang)


def test_every_review_is_due_within_six_months(kb):
    for article in kb.articles.values():
        assert article.review_by <= knowledge.model.months_after(article.last_reviewed, 6), article.id


def test_an_answer_starts_with_the_summary_then_the_details_then_the_sources(kb):
    article = kb.get("emigrar/tramites/espana")
    messages = knowledge.render(article)
    assert messages[0].text == article.summary and not messages[0].buttons
    assert messages[1].text.startswith(article.title + "\n\nCosto: ")
    assert "Plazo: " in messages[1].text
    assert messages[-1].text.startswith("Fuente") and "Actualizado:" in messages[-1].text
    assert messages[-1].buttons[-1] == MENU_BUTTON
    intro = knowledge.render(article, intro="Todavía no tengo una guía.")
    assert intro[0].text == f"Todavía no tengo una guía.\n\n{article.summary}" and len(intro) == len(messages)


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
        (GOOD.format(id="info/x", line="info").replace("summary: Lo esencial del artículo.\n", ""),
         "missing required field 'summary'"),
        (GOOD.format(id="info/x", line="info").replace("Lo esencial del artículo.", "a" * (SUMMARY_MAX + 1)),
         f"summary has {SUMMARY_MAX + 1} characters; at most {SUMMARY_MAX}"),
        (GOOD.format(id="info/x", line="info").replace("2026-07-10", "2026-07-11"), "more than 6 months after last_reviewed"),
        (GOOD.format(id="info/x", line="info").replace("https://www.gob.pe/mtpe", "ftp://www.gob.pe/mtpe"), "not https"),
        (GOOD.format(id="info/x", line="info").replace("Texto", "Llama al {{telefono_servicio}}. Texto"),
         "placeholder {{telefono_servicio}} is not a service fact"),
        (GOOD.format(id="info/x", line="info").replace("Lo esencial", "Escribe a {{correo_servicio}}. Lo esencial"),
         "the summary cannot hold a placeholder"),
    ],
)
def test_broken_articles_are_refused_with_the_file_name(tmp_path, text, problem):
    write(tmp_path, "info/otro")
    write(tmp_path, "info/x", text)
    with pytest.raises(knowledge.KnowledgeError) as err:
        knowledge.load(tmp_path)
    assert any("info/x.md" in p and problem in p for p in err.value.problems), err.value.problems


def test_a_summary_of_exactly_the_limit_and_a_review_six_months_later_are_fine(tmp_path):
    write(tmp_path, "info/a", GOOD.format(id="info/a", line="info").replace("Lo esencial del artículo.", "a" * SUMMARY_MAX))
    assert len(knowledge.load(tmp_path).get("info/a").summary) == SUMMARY_MAX
    assert knowledge.model.months_after(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert knowledge.model.months_after(dt.date(2027, 8, 31), 6) == dt.date(2028, 2, 29)


@pytest.mark.parametrize("article_id", ["emigrar/tramites/espana", "peru/andinos", "retorno/ley-incentivos", "info/sivitma"])
@pytest.mark.parametrize("missing", ["cost", "duration"])
def test_a_procedure_article_without_its_cost_or_duration_is_refused(tmp_path, article_id, missing):
    keys = {"cost": "La fuente oficial no publica un costo; confírmalo en https://www.gob.pe.",
            "duration": "La fuente oficial no publica un plazo; confírmalo en https://www.gob.pe."}
    keys.pop(missing)
    extra = "".join(f"{k}: {v}\n" for k, v in keys.items())
    country = "\ncountry: espana" if article_id.endswith("espana") else ""
    text = GOOD.format(id=article_id, line=article_id.split("/")[0]).replace("line:", f"{extra}line:").replace(
        "\nsources:", f"{country}\nsources:")
    write(tmp_path, article_id, text)
    with pytest.raises(knowledge.KnowledgeError) as err:
        knowledge.load(tmp_path)
    assert [p for p in err.value.problems if f"a procedure article needs '{missing}'" in p] and len(err.value.problems) == 1
    write(tmp_path, article_id, text.replace("line:", f"{missing}: Según la fuente, 30 días.\nline:"))
    article = knowledge.load(tmp_path).get(article_id)
    assert article.cost and article.duration


def test_an_id_used_twice_is_refused(tmp_path):
    write(tmp_path, "info/a")
    write(tmp_path, "info/b", GOOD.format(id="info/a", line="info"))
    with pytest.raises(knowledge.KnowledgeError) as err:
        knowledge.load(tmp_path)
    assert any("info/b.md" in p and "'info/a' does not match its path" in p for p in err.value.problems)


def test_stale_lists_past_and_near_review_dates(tmp_path):
    write(tmp_path, "info/a")
    write(tmp_path, "info/b", GOOD.format(id="info/b", line="info").replace("2026-07-10", "2026-12-01").replace(
        "2026-01-10", "2026-06-01"))
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
    assert "Lee esto y la otra guía." in messages[1].text
    payloads = [b["payload"] for b in messages[-1].buttons]
    assert payloads == ['/elegir_articulo{"article":"info/b"}', "/menu"]


def test_knowledge_readme_example_is_valid():
    readme = (Path(knowledge.base.DEFAULT_ROOT) / "README.md").read_text(encoding="utf-8")
    example = textwrap.dedent(readme.split("```yaml\n", 1)[1].split("```", 1)[0])
    import yaml

    meta = yaml.safe_load(example.strip().strip("-"))
    assert set(meta) == {"id", "title", "summary", "line", "country", "sources", "last_reviewed", "review_by", "keywords",
                         "cost", "duration"}
    assert len(meta["summary"]) <= SUMMARY_MAX


def test_the_contact_article_states_the_running_services_hours_and_email(kb, monkeypatch):
    """info/contacto gives the advisors' hours of the handoff settings and INFOMIGRA_CONTACT_EMAIL,
    and without an address says where the ministry publishes it (never an invented one)."""
    from bot.knowledge import service_facts

    article = kb.get("info/contacto")
    values = service_facts.facts({"HANDOFF_OFFICE_HOURS": "lun-vie 09:00-17:00", "INFOMIGRA_CONTACT_EMAIL": "infomigra@example.org"})
    text = service_facts.fill(article.body, values)
    assert "de lunes a viernes de 9:00 a 17:00 (hora de Lima)" in text and "infomigra@example.org" in text
    assert "{{" not in service_facts.fill(article.body, service_facts.facts({}))
    assert service_facts.NO_EMAIL in service_facts.fill(article.body, service_facts.facts({}))
    monkeypatch.setattr(service_facts, "_current", lambda lang="es": values)
    assert any("infomigra@example.org" in m.text for m in knowledge.render(article))


def test_the_service_facts_are_worded_in_the_articles_language():
    from bot.knowledge import service_facts

    env = {"HANDOFF_OFFICE_HOURS": "lun-vie 08:30-13:00,14:00-16:30; sab 09:00-12:00"}
    assert service_facts.facts(env) == service_facts.facts(env, lang="es") == {
        "horario_asesores": "de lunes a viernes de 8:30 a 13:00 y de 14:00 a 16:30; los sábados de 9:00 a 12:00 (hora de Lima)",
        "correo_servicio": service_facts.NO_EMAIL}
    assert service_facts.facts(env, lang="en") == {
        "horario_asesores": "Monday to Friday, 8:30 to 13:00 and 14:00 to 16:30; on Saturdays, 9:00 to 12:00 (Lima time)",
        "correo_servicio": "the address the MTPE publishes on its official page, https://www.gob.pe/institucion/mtpe"}
    assert service_facts.facts({}, lang="en")["horario_asesores"] == "Monday to Friday, 8:30 to 16:30 (Lima time)"
    assert service_facts.facts({"HANDOFF_OFFICE_HOURS": "sab-dom 10:00-12:00", "HANDOFF_TIMEZONE": "Europe/Madrid"},
                               lang="en")["horario_asesores"] == "Saturday and Sunday, 10:00 to 12:00 (Europe/Madrid time)"
    assert service_facts.facts({"HANDOFF_OFFICE_HOURS": "nunca"}, lang="en")["horario_asesores"] == "in office hours, Lima time"
    assert service_facts.facts({"INFOMIGRA_CONTACT_EMAIL": " infomigra@example.org "}, lang="en")["correo_servicio"] == \
        "infomigra@example.org"
    text = "Advisors answer {{horario_asesores}}; write to {{ correo_servicio }}."
    assert service_facts.fill(text, service_facts.facts({}, lang="en")) == \
        f"Advisors answer Monday to Friday, 8:30 to 16:30 (Lima time); write to {service_facts.NO_EMAIL_EN}."
    with pytest.raises(ValueError, match="fr"):
        service_facts.facts({}, lang="fr")


async def test_the_english_contact_answer_as_sent_gives_the_english_hours(kb, monkeypatch):
    """An English conversation asking for the contact gets the advisors' hours and the e-mail in
    English, in every part of the answer the assistant sends ("See more" included), while the
    Spanish answer keeps its Spanish hours: the process's facts are kept apart per language."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions import actions
    from bot.knowledge import service_facts

    async def answer(action, intent: str, text: str, entities=(), **slots) -> list[dict]:
        latest = {"intent": {"name": intent, "confidence": 0.9}, "entities": list(entities), "text": text}
        events = [{"event": "user", "text": text, "input_channel": "web", "parse_data": latest}]
        dispatcher = CollectingDispatcher()
        await action.run(dispatcher, Tracker("test-user", slots, latest, events, False, None, {}, "action_listen"), {})
        return dispatcher.messages

    async def whole_answer(**slots) -> str:
        messages = await answer(actions.ActionAnswerTopic(), "info_contacto", "contact", **slots)
        sent = [m["text"] for m in messages]
        while more := [b["payload"] for b in messages[-1].get("buttons", []) if b["title"] in ("Ver más", "See more")]:
            entity = more[0].split('"article":"')[1].rstrip('"}')
            messages = await answer(actions.ActionShowArticle(), "elegir_articulo", more[0],
                                    [{"entity": "article", "value": entity}], **slots)
            sent += [m["text"] for m in messages]
        return "\n\n".join(sent)

    monkeypatch.setenv("HANDOFF_OFFICE_HOURS", "lun-vie 09:00-17:00")
    monkeypatch.delenv("HANDOFF_TIMEZONE", raising=False)
    monkeypatch.delenv("INFOMIGRA_CONTACT_EMAIL", raising=False)
    service_facts._current.cache_clear()
    try:
        spanish = await whole_answer()
        english = await whole_answer(lang="en")
        spanish_again = await whole_answer()
    finally:
        service_facts._current.cache_clear()
    assert kb.get("info/contacto", lang="en").summary in english
    assert "Advisors answer Monday to Friday, 9:00 to 17:00 (Lima time);" in english
    assert f"write to {service_facts.NO_EMAIL_EN}." in english
    assert "{{" not in english and "}}" not in english
    for spanish_words in ("lunes", "viernes", "hora de Lima", "de 9:00 a 17:00", service_facts.NO_EMAIL):
        assert spanish_words not in english
    assert spanish == spanish_again and "{{" not in spanish
    assert "atienden de lunes a viernes de 9:00 a 17:00 (hora de Lima)" in spanish and "Monday" not in spanish

"""The custom actions, run on real rasa-sdk trackers against the real knowledge base."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions


def tracker(intent: str, text: str = "", entities=(), channel: str | None = None, **slots) -> Tracker:
    latest = {"intent": {"name": intent, "confidence": 0.9}, "entities": list(entities), "text": text}
    events = [{"event": "user", "text": text, "input_channel": channel, "parse_data": latest}] if channel else []
    return Tracker("test-user", dict(slots), latest, events, False, None, {}, "action_listen")


def country(value: str) -> dict:
    return {"entity": "country", "value": value}


async def run(action, trk):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, trk, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_topic_with_country_answers_that_countrys_article():
    messages, slots = await run(actions.ActionAnswerTopic(), tracker("emigrar_tramites", entities=[country("espana")]))
    assert slots["article_id"] == "emigrar/tramites/espana"
    assert slots["topic"] == "emigrar/tramites"
    article = actions.KB.get("emigrar/tramites/espana")
    assert messages[0]["text"] == article.summary  # the essentials first
    assert messages[1]["text"].startswith(article.title)
    assert messages[-1]["buttons"][-1]["payload"] == "/menu"


def texts_and_more(messages: list[dict]) -> tuple[list[str], str | None]:
    """The texts of an answer, and its "Ver más" payload (None when the answer is complete)."""
    more = [b["payload"] for b in messages[-1].get("buttons", []) if b["title"] in ("Ver más", "See more")]
    return [m["text"] for m in messages], (more[0] if more else None)


@pytest.mark.parametrize("channel", [None, "web", "telegram", "rest"])
async def test_a_long_answer_comes_in_parts_of_four_messages_with_ver_mas(channel):
    article = actions.KB.get("seguridad/trata-y-fraude")
    whole = [m.text for m in actions.knowledge.render(article)]
    assert len(whole) > actions.MAX_BUBBLES  # long enough to need two parts
    messages, _ = await run(actions.ActionAnswerTopic(), tracker("seguridad_trata_y_fraude", "me ofrecen trabajo", channel=channel))
    sent, more = texts_and_more(messages)
    assert len(sent) <= actions.MAX_BUBBLES and sent[0] == article.summary and more
    assert more == f'/elegir_articulo{{"article":"seguridad/trata-y-fraude#{len(sent)}"}}'
    assert [b["payload"] for b in messages[-1]["buttons"]] == [more, "/menu"]
    while more:  # "Ver más" sends the next part, until the sources and the date
        entity = more.split('"article":"')[1].rstrip('"}')
        part, _ = await run(actions.ActionShowArticle(), tracker(
            "elegir_articulo", more, [{"entity": "article", "value": entity}], channel=channel))
        texts, more = texts_and_more(part)
        assert 0 < len(texts) <= actions.MAX_BUBBLES
        sent += texts
    assert sent == whole
    assert "Actualizado:" in part[-1]["text"] and part[-1]["buttons"][-1]["payload"] == "/menu"
    # the rest of the answer just given is not another article shown (the monthly report counts those)
    _, slots = await run(actions.ActionShowArticle(), tracker(
        "elegir_articulo", "", [{"entity": "article", "value": "seguridad/trata-y-fraude#4"}], channel=channel,
        article_id="seguridad/trata-y-fraude"))
    assert "article_id" not in slots


async def test_whatsapp_gets_the_whole_answer_at_once():
    article = actions.KB.get("seguridad/trata-y-fraude")
    messages, _ = await run(actions.ActionAnswerTopic(), tracker("seguridad_trata_y_fraude", "estafa", channel="whatsapp"))
    assert [m["text"] for m in messages] == [m.text for m in actions.knowledge.render(article)]
    assert not texts_and_more(messages)[1]


async def test_a_short_answer_has_no_ver_mas():
    article = actions.KB.get("info/eventos")
    assert len(actions.knowledge.render(article)) <= actions.MAX_BUBBLES
    messages, _ = await run(actions.ActionAnswerTopic(), tracker("info_eventos", "hay eventos?", channel="web"))
    texts, more = texts_and_more(messages)
    assert more is None and texts[0] == article.summary and "Actualizado:" in texts[-1]


async def test_ver_mas_never_leaves_the_sources_alone():
    five = [a for a in actions.KB.articles.values() if len(actions.knowledge.render(a)) == actions.MAX_BUBBLES + 1]
    if not five:
        pytest.skip("no article of exactly five messages today (test_answer_bubbles covers the rule for all)")
    article = five[0]
    chosen = [{"entity": "article", "value": article.id}]
    messages, _ = await run(actions.ActionShowArticle(), tracker("elegir_articulo", "", chosen, channel="web"))
    texts, more = texts_and_more(messages)
    assert len(texts) == actions.MAX_BUBBLES - 1 and more.endswith('#3"}')  # three, so the last part is not the sources alone
    rest, _ = await run(actions.ActionShowArticle(), tracker(
        "elegir_articulo", more, [{"entity": "article", "value": f"{article.id}#3"}], channel="web"))
    assert len(rest) == 2 and "Actualizado:" in rest[-1]["text"]


async def test_ver_mas_of_an_english_answer_stays_in_english():
    article = actions.KB.get("peru/extranjeros", lang="en")
    messages, _ = await run(actions.ActionAnswerTopic(), tracker("peru_extranjeros", "work permit", channel="web", lang="en"))
    texts, more = texts_and_more(messages)
    assert len(actions.knowledge.render(article)) > actions.MAX_BUBBLES  # long enough for "See more"
    assert texts[0] == article.summary and more == f'/elegir_articulo{{"article":"peru/extranjeros.en#{len(texts)}"}}'
    assert messages[-1]["buttons"][0]["title"] == "See more"
    rest, slots = await run(actions.ActionShowArticle(), tracker(
        "elegir_articulo", more, [{"entity": "article", "value": f"peru/extranjeros.en#{len(texts)}"}], channel="web",
        lang="en"))
    assert [m["text"] for m in rest] == [m.text for m in actions.knowledge.render(article)][len(texts):]
    assert "Updated:" in rest[-1]["text"] and slots["article_id"] == "peru/extranjeros"


@pytest.mark.parametrize("value", ["x/y#2", "peru/extranjeros.fr#4", "peru/extranjeros#", "emigrar/tramites/espana.en#1"])
async def test_a_ver_mas_for_nothing_is_answered_politely(value):
    messages, slots = await run(actions.ActionShowArticle(), tracker("elegir_articulo", entities=[{"entity": "article", "value": value}]))
    assert slots == {} and messages[0]["response"] == "utter_ninguna"


async def test_a_procedure_without_country_asks_with_the_five_destinations():
    messages, slots = await run(actions.ActionAnswerTopic(), tracker("emigrar_tramites", "que papeles necesito"))
    assert slots == {"topic": "emigrar/tramites"}
    assert messages[0]["text"] == actions.ASK_COUNTRY
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == ["Estados Unidos", "España", "Italia", "Chile", "Argentina", "Otro país"]


@pytest.mark.parametrize("intent,text,overview", [
    ("exterior_convenios", "con que paises tiene convenios el peru", "exterior/convenios"),
    ("emigrar_primeros_pasos", "que hago al llegar", "emigrar/primeros-pasos"),
    ("emigrar_tramites", "que tipos de visa de trabajo hay en general", "emigrar/tramites"),
])
async def test_a_general_question_gets_the_overview_then_the_country_buttons(intent, text, overview):
    messages, slots = await run(actions.ActionAnswerTopic(), tracker(intent, text))
    assert slots["article_id"] == overview
    assert messages[0]["text"] == actions.KB.get(overview).summary
    assert len(messages) <= actions.MAX_BUBBLES  # the article in at most three, then the country question
    assert messages[-1]["text"] == actions.PICK_COUNTRY
    assert [b["title"] for b in messages[-1]["buttons"]][:5] == ["Estados Unidos", "España", "Italia", "Chile", "Argentina"]


async def test_an_english_conversation_gets_the_english_article_or_what_is_available():
    messages, slots = await run(actions.ActionAnswerTopic(), tracker("peru_andinos", "what is decision 545", lang="en"))
    assert slots["article_id"] == "peru/andinos"
    assert messages[0]["text"] == actions.KB.get("peru/andinos", lang="en").summary
    assert messages[1]["text"].startswith(actions.KB.get("peru/andinos", lang="en").title)
    # in a line-4 question the country is where the person comes from, not a destination
    _, slots = await run(actions.ActionAnswerTopic(), tracker("peru_extranjeros", "I'm from Spain, how do I get the carnet "
                                                              "to work here in Peru", [country("espana")], lang="en"))
    assert slots["article_id"] == "peru/extranjeros"
    # ...while a destination is not answered in English, whatever the classifier thought
    messages, slots = await run(actions.ActionAnswerTopic(), tracker("peru_extranjeros", "How can I get a work visa for Spain?",
                                                                     [country("espana")], lang="en"))
    assert slots == {} and messages[0]["text"] == actions.ENGLISH_ONLY
    messages, slots = await run(actions.ActionAnswerTopic(), tracker("retorno_ley_incentivos", "returnee benefits", lang="en"))
    assert slots == {} and messages[0]["text"] == actions.ENGLISH_ONLY
    assert [b["payload"] for b in messages[0]["buttons"]][-1] == "/pedir_asesor"


async def test_a_later_country_reuses_the_topic():
    trk = tracker("informar_pais", "y para chile?", [country("chile")], topic="emigrar/tramites", country="espana")
    _, slots = await run(actions.ActionAnswerTopic(), trk)
    assert slots["article_id"] == "emigrar/tramites/chile"


async def test_country_without_article_gets_the_overview_and_says_so():
    messages, slots = await run(actions.ActionAnswerTopic(), tracker("emigrar_tramites", entities=[country("francia")]))
    assert slots["article_id"] == "emigrar/tramites"
    assert "Francia" in messages[0]["text"]


async def test_other_country_button_gets_the_overview():
    trk = tracker("informar_pais", entities=[country("otro")], topic="seguridad/emergencia")
    _, slots = await run(actions.ActionAnswerTopic(), trk)
    assert slots["article_id"] == "seguridad/emergencia"


async def test_peru_is_not_taken_as_a_destination():
    messages, slots = await run(actions.ActionAnswerTopic(), tracker("emigrar_tramites", entities=[country("peru")]))
    assert "article_id" not in slots
    assert messages[0]["text"] == actions.ASK_COUNTRY


async def test_country_alone_without_a_topic_offers_that_countrys_topics():
    messages, _ = await run(actions.ActionAnswerTopic(), tracker("informar_pais", "italia", [country("italia")]))
    assert "Italia" in messages[0]["text"]
    assert '/emigrar_tramites{"country":"italia"}' in [b["payload"] for b in messages[0]["buttons"]]


async def test_topic_without_country_answers_directly():
    _, slots = await run(actions.ActionAnswerTopic(), tracker("retorno_ley_incentivos", entities=[country("chile")]))
    assert slots["article_id"] == "retorno/ley-incentivos"


async def test_kb_search_offers_matches_plus_none_of_these():
    messages, slots = await run(actions.ActionKbSearch(), tracker("nlu_fallback", "visado de trabajo para españa"))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[-1] == "/ninguna"
    assert 2 <= len(payloads) <= 4
    assert slots["kb_offer"][0] == "emigrar/tramites/espana"


@pytest.mark.parametrize("text", ["zxqv wplk", "como se prepara un buen pisco sour con limon"])
async def test_kb_search_with_nothing_relevant_gives_the_out_of_scope_answer(text):
    messages, slots = await run(actions.ActionKbSearch(), tracker("nlu_fallback", text))
    assert slots["kb_offer"] is None
    assert messages[0]["response"] == "utter_fuera_de_alcance"  # its buttons: the menu and the advisor


@pytest.mark.parametrize("text", ["la segunda", "opcion 2", "el 2"])
async def test_choice_by_position_shows_the_offered_article(text):
    trk = tracker("elegir_articulo", text, kb_offer=["info/servicio", "info/privacidad"])
    _, slots = await run(actions.ActionShowArticle(), trk)
    assert slots["article_id"] == "info/privacidad"


async def test_choice_of_an_unknown_article_is_answered_politely():
    messages, slots = await run(actions.ActionShowArticle(), tracker("elegir_articulo", entities=[{"entity": "article", "value": "x/y"}]))
    assert slots == {}
    assert messages[0]["response"] == "utter_ninguna"


@pytest.mark.parametrize(
    ("intent", "text", "taken"),
    [("retorno_servicios_mtpe", "ana.perez@example.org", True),  # the NLU took an address for a question
     ("info_privacidad", "mi correo es ana@@example", True),  # a mistyped address: validation explains
     ("dar_contacto", "+34 612 345 678", True),
     ("info_sivitma", "que es sivitma", False),  # a real question leaves the form for a moment
     ("cancelar", "cancelar ana@example.org", False)],
)
async def test_the_contact_question_takes_addresses_whatever_the_nlu_says(intent, text, taken):
    from actions.voz_del_migrante import ValidateVozDelMigranteForm

    trk = tracker(intent, text, requested_slot="vm_contact")
    found = await ValidateVozDelMigranteForm().extract_vm_contact(CollectingDispatcher(), trk, {})
    assert found == ({"vm_contact": text} if taken else {})


async def test_a_slot_emptied_in_the_turn_is_not_validated_as_an_answer():
    from actions.voz_del_migrante import ValidateVozDelMigranteForm

    dispatcher = CollectingDispatcher()
    assert await ValidateVozDelMigranteForm().validate_vm_kind(None, dispatcher, tracker("dejar_sugerencia"), {}) == {}
    assert dispatcher.messages == []


@pytest.mark.parametrize("slot", ["vm_kind", "vm_topic", "vm_message", "vm_contact", "vm_consent"])
async def test_an_article_button_during_the_form_is_not_an_answer(slot):
    """"Ver más" of an answer given during the form: the rule shows the rest, the form asks again."""
    from actions.voz_del_migrante import ValidateVozDelMigranteForm

    more = '/elegir_articulo{"article":"info/sivitma#3"}'
    trk = tracker("elegir_articulo", more, [{"entity": "article", "value": "info/sivitma#3"}], requested_slot=slot)
    found = await getattr(ValidateVozDelMigranteForm(), f"extract_{slot}")(CollectingDispatcher(), trk, {})
    assert found == {}
    typed = tracker("elegir_articulo", "la segunda", requested_slot="vm_message")  # typed words are still a message
    message = await ValidateVozDelMigranteForm().extract_vm_message(CollectingDispatcher(), typed, {})
    assert message["vm_message"] == "la segunda"

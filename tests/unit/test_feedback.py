""""¿Te sirvió?": when the buttons are offered, the rating action, and the store (SQLite and PostgreSQL)."""

import datetime as dt

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import actions, feedback
from bot.feedback import offer
from bot.feedback import store as ratings
from bot.feedback.schema import answer_ratings
from bot.knowledge.render import MENU_BUTTON
from bot.store.db import get_engine
from tests.databases import migrated_engine

ARTICLE = "emigrar/tramites/espana"
REVIEWED = dt.date(2026, 10, 1)


def tracker(intent: str = "emigrar_tramites", text: str = "", entities=(), events=(), active_loop=None, sender="test-user",
            **slots) -> Tracker:
    latest = {"intent": {"name": intent, "confidence": 0.9}, "entities": list(entities), "text": text}
    loop = {"name": active_loop} if active_loop else {}
    return Tracker(sender, dict(slots), latest, list(events), False, None, loop, "action_listen")


def entity(name: str, value: str) -> dict:
    return {"entity": name, "value": value}


def bot_event(buttons: list[dict]) -> dict:
    return {"event": "bot", "text": "…", "data": {"buttons": buttons}}


async def answer(trk: Tracker, action=None) -> list[dict]:
    """The whole answer (of `action`, the topic's answer unless said): its first part, then every part
    that "Ver más" asks for (the web and Telegram get at most four messages at a time; the rating goes
    only with the very last part)."""
    dispatcher = CollectingDispatcher()
    await (action or actions.ActionAnswerTopic()).run(dispatcher, trk, {})
    messages = list(dispatcher.messages)
    while more := [b for b in messages[-1].get("buttons", []) if b["title"] == "Ver más"]:
        assert not any("valorar_respuesta" in b["payload"] for b in messages[-1]["buttons"])  # not before the end
        value = more[0]["payload"].split('"article":"')[1].rstrip('"}')
        dispatcher = CollectingDispatcher()
        later = Tracker(trk.sender_id, dict(trk.slots), {"intent": {"name": "elegir_articulo"}, "text": more[0]["payload"],
                                                         "entities": [entity("article", value)]},
                        trk.events, False, None, trk.active_loop, "action_listen")
        await actions.ActionShowArticle().run(dispatcher, later, {})
        messages += dispatcher.messages
    return messages


def payloads(messages: list[dict]) -> list[str]:
    return [b["payload"] for b in messages[-1].get("buttons", [])]


# --- when the buttons are offered ------------------------------------------------------------------------
async def test_an_answer_asks_once_with_two_buttons_before_the_menu():
    messages = await answer(tracker(entities=[entity("country", "espana")]))
    assert "Actualizado:" in messages[-1]["text"]  # the answer still ends with its date
    last = messages[-1]["buttons"]
    assert last[-1] == MENU_BUTTON
    assert [b["title"] for b in last[-3:-1]] == ["Sí, me sirvió", "No me sirvió"]
    assert last[-3]["payload"] == '/valorar_respuesta{"util":"si","article":"emigrar/tramites/espana"}'
    assert last[-2]["payload"] == '/valorar_respuesta{"util":"no","article":"emigrar/tramites/espana"}'
    assert all("valorar" not in b["payload"] for m in messages[:-1] for b in m.get("buttons", []))


async def test_not_twice_for_the_same_article_in_a_conversation_but_again_in_a_new_one():
    shown = [{"event": "session_started"}, bot_event(offer.buttons(ARTICLE))]
    again = await answer(tracker(entities=[entity("country", "espana")], events=shown))
    assert not any("valorar_respuesta" in p for p in payloads(again))
    other = await answer(tracker(entities=[entity("country", "chile")], events=shown))
    assert offer.payload("emigrar/tramites/chile", "si") in payloads(other)
    new_session = [*shown, {"event": "session_started"}]
    assert offer.payload(ARTICLE, "si") in payloads(await answer(tracker(entities=[entity("country", "espana")],
                                                                         events=new_session)))


async def test_never_during_a_form_or_a_handoff_or_after_a_safety_answer():
    in_form = await answer(tracker(entities=[entity("country", "espana")], active_loop="voz_del_migrante_form"))
    handed_over = await answer(tracker(entities=[entity("country", "espana")], handoff=True))
    safety = await answer(tracker("seguridad_trata_y_fraude"))
    for messages in (in_form, handed_over, safety):
        assert "Actualizado:" in messages[-1]["text"]
        assert not any("valorar_respuesta" in p for p in payloads(messages))


async def test_an_article_chosen_from_the_search_asks_too():
    trk = tracker("elegir_articulo", entities=[entity("article", "info/contacto")])
    messages = await answer(trk, actions.ActionShowArticle())
    assert offer.payload("info/contacto", "no") in payloads(messages)


# --- the action ----------------------------------------------------------------------------------------
@pytest.fixture
def sqlite_engine(tmp_path, monkeypatch):
    with migrated_engine("sqlite", tmp_path) as engine:
        monkeypatch.setenv("DATABASE_URL", str(engine.url))
        get_engine.cache_clear()  # the action's get_engine() is cached per process
        yield engine
    get_engine.cache_clear()


async def rate(trk: Tracker) -> list[dict]:
    dispatcher = CollectingDispatcher()
    assert await feedback.ActionRateAnswer().run(dispatcher, trk, {}) == []
    return dispatcher.messages


def stored(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(answer_ratings).order_by(answer_ratings.c.id)).mappings()]


async def test_a_yes_is_stored_with_the_articles_review_date_channel_and_conversation(sqlite_engine):
    events = [{"event": "session_started", "timestamp": 1_790_000_000.5},
              {"event": "user", "text": "hola", "input_channel": "telegram"}]
    trk = tracker("valorar_respuesta", '/valorar_respuesta{"util":"si"}', [entity("util", "si"), entity("article", ARTICLE)],
                  events=events, sender="telegram:42", article_id="info/contacto")
    messages = await rate(trk)
    assert messages[0]["text"] == feedback.THANKS_YES
    [row] = stored(sqlite_engine)
    assert row["article_id"] == ARTICLE  # the button's article, not the last one answered
    assert row["last_reviewed"] == actions.KB.get(ARTICLE).last_reviewed
    assert (row["useful"], row["channel"], row["sender_id"], row["conversation"]) == (True, "telegram", "telegram:42",
                                                                                      "1790000000.500")
    # tapped twice: still one rating; then "no": the same rating changes
    await rate(trk)
    assert len(stored(sqlite_engine)) == 1
    no = tracker("valorar_respuesta", "", [entity("util", "no"), entity("article", ARTICLE)], events=events, sender="telegram:42")
    messages = await rate(no)
    assert messages[0]["text"] == feedback.THANKS_NO
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/pedir_asesor", "/menu"]
    assert [r["useful"] for r in stored(sqlite_engine)] == [False]


async def test_a_typed_rating_rates_the_last_article(sqlite_engine):
    messages = await rate(tracker("valorar_respuesta", "la respuesta no me sirvió", article_id="info/contacto"))
    assert messages[0]["text"] == feedback.THANKS_NO
    assert [(r["article_id"], r["useful"]) for r in stored(sqlite_engine)] == [("info/contacto", False)]
    await rate(tracker("valorar_respuesta", "la información me sirvió", article_id="info/privacidad"))
    assert [(r["article_id"], r["useful"]) for r in stored(sqlite_engine)][-1] == ("info/privacidad", True)


async def test_nothing_to_rate_and_an_unknown_article_store_nothing(sqlite_engine):
    assert (await rate(tracker("valorar_respuesta", "me sirvió")))[0]["text"] == feedback.NOTHING_TO_RATE
    unknown = tracker("valorar_respuesta", "", [entity("util", "si"), entity("article", "no/existe")])
    assert (await rate(unknown))[0]["text"] == feedback.NOTHING_TO_RATE
    assert stored(sqlite_engine) == []


async def test_an_unreachable_store_still_answers(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'not-migrated.db'}")
    get_engine.cache_clear()
    try:
        messages = await rate(tracker("valorar_respuesta", "", [entity("util", "si"), entity("article", ARTICLE)]))
    finally:
        get_engine.cache_clear()
    assert messages[0]["text"] == feedback.THANKS_YES


# --- the store -------------------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        yield engine


def test_one_rating_per_article_per_conversation(engine):
    at = dt.datetime(2026, 10, 5, 15, tzinfo=dt.timezone.utc)
    common = {"article_id": ARTICLE, "last_reviewed": REVIEWED, "channel": "web", "sender_id": "web:a", "at": at}
    assert ratings.rate(engine, useful=True, conversation="1", **common) == ratings.Recorded(True, False)
    assert ratings.rate(engine, useful=True, conversation="1", **common) == ratings.Recorded(False, False)
    assert ratings.rate(engine, useful=False, conversation="1", **common) == ratings.Recorded(False, True)
    assert ratings.rate(engine, useful=True, conversation="2", **common) == ratings.Recorded(True, False)
    assert len(stored(engine)) == 2


def test_the_sender_is_kept_a_day_and_forgotten_on_request(engine):
    day = dt.datetime(2026, 10, 5, 15, tzinfo=dt.timezone.utc)
    common = {"article_id": ARTICLE, "last_reviewed": REVIEWED, "channel": "whatsapp", "useful": True}
    ratings.rate(engine, sender_id="whatsapp:+34600000001", conversation="1", at=day, **common)
    ratings.rate(engine, sender_id="whatsapp:+34600000002", conversation="1", at=day + dt.timedelta(hours=2), **common)
    ratings.rate(engine, sender_id="whatsapp:+34600000003", conversation="1", at=day + dt.timedelta(hours=25), **common)
    assert [r["sender_id"] for r in stored(engine)] == [None, "whatsapp:+34600000002", "whatsapp:+34600000003"]
    assert ratings.forget_sender(engine, "whatsapp:+34600000003") == 1
    rows = stored(engine)
    assert [r["sender_id"] for r in rows] == [None, "whatsapp:+34600000002", None]
    assert all(r["useful"] for r in rows) and rows[2]["conversation"] is None  # the rating itself stays


def test_counts_per_article_and_per_version_in_a_month(engine):
    october = dt.datetime(2026, 10, 10, tzinfo=dt.timezone.utc)
    newer = dt.date(2026, 10, 20)
    for i, (useful, reviewed, at) in enumerate([(True, REVIEWED, october), (False, REVIEWED, october), (True, newer, october),
                                                (True, newer, october), (False, REVIEWED, october.replace(month=11))]):
        ratings.rate(engine, article_id=ARTICLE, last_reviewed=reviewed, useful=useful, channel="rest",
                     sender_id=f"s{i}", conversation="1", at=at)
    ratings.rate(engine, article_id="info/contacto", last_reviewed=REVIEWED, useful=False, channel="rest",
                 sender_id="s9", conversation="1", at=october)
    [first, second] = ratings.counts(engine, dt.datetime(2026, 10, 1, 5, tzinfo=dt.timezone.utc),
                                     dt.datetime(2026, 11, 1, 5, tzinfo=dt.timezone.utc))
    assert (first.article_id, first.useful, first.not_useful, first.total) == (ARTICLE, 3, 1, 4)
    assert (first.latest_reviewed, first.latest_useful, first.latest_not_useful) == (newer, 2, 0)
    assert (second.article_id, second.useful, second.not_useful) == ("info/contacto", 0, 1)

"""«La voz del migrante» takes at most SUGGESTIONS_PER_DAY (5) suggestions per person in 24 hours: the
store refuses the next one, and the form's action says so politely."""

import datetime as dt

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.suggestions import service
from bot.suggestions.validation import InvalidInput
from tests.databases import migrated_engine

T0 = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def engine(tmp_path):
    with migrated_engine("sqlite", tmp_path) as engine:
        yield engine


def submit(engine, key, sender="whatsapp:+34612345678", at=T0, limit=5):
    return service.submit(engine, client_key=key, channel="whatsapp", sender_id=sender, kind="sugerencia",
                          country="España", topic="exterior", text="Más horarios en el consulado, por favor.",
                          consent_at=at, now=at, max_per_day=limit)


def test_a_person_leaves_at_most_five_suggestions_a_day(engine):
    for i in range(5):
        assert submit(engine, f"k{i}", at=T0 + dt.timedelta(hours=i))[1]
    with pytest.raises(InvalidInput) as refused:
        submit(engine, "k5", at=T0 + dt.timedelta(hours=6))
    assert refused.value.field == "daily_limit" and "5 mensajes" in refused.value.message
    assert service.count_since(engine, "whatsapp:+34612345678", T0 - dt.timedelta(days=1)) == 5
    # a retried submit of one already stored still gets its reference
    assert submit(engine, "k4", at=T0 + dt.timedelta(hours=6))[1] is False
    # someone else is not affected; the same person again 24 hours after the first one
    assert submit(engine, "other", sender="telegram:1", at=T0 + dt.timedelta(hours=6))[1]
    assert submit(engine, "k6", at=T0 + dt.timedelta(days=1, minutes=1))[1]


def test_no_limit_when_zero_and_the_default_from_the_environment(engine):
    for i in range(8):
        assert submit(engine, f"k{i}", limit=0)[1]
    assert service.per_day({}) == 5
    assert service.per_day({"SUGGESTIONS_PER_DAY": "2"}) == 2
    assert service.per_day({"SUGGESTIONS_PER_DAY": "x"}) == 5


async def test_the_form_says_so_politely_and_stores_nothing(engine, monkeypatch):
    from actions import voz_del_migrante

    monkeypatch.setattr(voz_del_migrante, "get_engine", lambda: engine)
    monkeypatch.setenv("SUGGESTIONS_PER_DAY", "1")
    slots = {"vm_consent": T0.isoformat(), "vm_confirm": True, "vm_kind": "sugerencia", "vm_country": "espana",
             "vm_city": "-", "vm_topic": "exterior", "vm_message": "Más horarios en el consulado.", "vm_contact": "-"}

    async def send(key):
        tracker = Tracker("web:persona", {**slots, "vm_key": key}, {"intent": {"name": "afirmar"}, "text": "enviar"},
                          [], False, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        await voz_del_migrante.ActionSubmitSuggestion().run(dispatcher, tracker, {})
        return dispatcher.messages[0]["text"]

    assert (await send("a")).startswith("¡Gracias!")
    refused = await send("b")
    assert refused == service.DAILY_LIMIT.format(limit=1)
    assert service.count_since(engine, "web:persona", T0 - dt.timedelta(days=400)) == 1

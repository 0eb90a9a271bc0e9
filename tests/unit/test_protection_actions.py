"""The protection answer's actions on real rasa-sdk trackers, with the tickets in a real SQLite database."""

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions, handoff, protection
from bot.handoff import messages as say


def tracker(text, intent="senal_de_peligro", entities=(), signal=None, loop=None, sender="whatsapp:+34600000001",
            **slots):
    events = [{"event": "action", "name": "action_listen", "timestamp": 1.0},
              {"event": "user", "text": text, "timestamp": 2.0, "message_id": "m2", "input_channel": "whatsapp",
               "parse_data": {"intent": {"name": intent, "confidence": 1.0}}, "metadata": {}}]
    latest = {"intent": {"name": intent, "confidence": 1.0}, "entities": list(entities), "text": text, "message_id": "m2",
              "metadata": {}}
    if signal:
        latest["signal"] = signal
    return Tracker(sender, {"handoff": False, **slots}, latest, events, False, None, {"name": loop} if loop else {},
                   "action_listen")


def country(value, role=None):
    entity = {"entity": "country", "value": value, "start": 0, "end": 1}
    return {**entity, "role": role} if role else entity


async def run(action_, trk):
    dispatcher = CollectingDispatcher()
    events = await action_.run(dispatcher, trk, {})
    return dispatcher.messages, events


async def test_numbers_first_then_the_priority_handoff_then_the_guide(store):
    text = "estoy en chile y el patron me quito el pasaporte"
    messages, events = await run(protection.ActionProtect(),
                                 tracker(text, entities=[country("chile", "location")],
                                         signal={"kind": "danger", "category": "documents"}))
    assert messages[0]["text"].startswith("🆘 Qué hacer ahora en Chile:\n1. Si corres peligro, llama al 133")
    assert messages[1]["text"].startswith(say.INTRO["safety"]) and say.DANGER not in messages[1]["text"]
    guide = protection.KB.get("seguridad/emergencia/chile")
    assert messages[3]["text"] == guide.summary  # the guide's essentials, then the whole guide
    assert messages[4]["text"].startswith("Emergencias y ayuda laboral en Chile")
    # the conversation is paused for the advisor, so a "Ver más" could not be answered: no part is held back
    assert [m["text"] for m in messages[3:]] == [m.text for m in protection.knowledge.render(guide)]
    assert not any(b["title"] == "Ver más" for m in messages for b in m.get("buttons", []))
    ticket = store.open_for("whatsapp:+34600000001")
    assert ticket.priority == 1 and ticket.reason == "safety"
    names = [(e["event"], e.get("name")) for e in events]
    assert ("slot", "danger") in names and ("pause", None) in names
    assert {"event": "slot", "name": "location", "value": "chile", "timestamp": None} in events
    assert {"event": "slot", "name": "article_id", "value": "seguridad/emergencia/chile", "timestamp": None} in events


async def test_without_a_country_every_number_and_the_question(store):
    messages, _ = await run(protection.ActionProtect(), tracker("el jefe me amenaza con pegarme"))
    assert messages[0]["text"].startswith("🆘 Qué hacer ahora:") and "133 en Chile" in messages[0]["text"]
    assert len(messages[0]["buttons"]) == 6


async def test_the_country_slot_is_used_when_the_message_names_none(store):
    messages, _ = await run(protection.ActionProtect(), tracker("no me pagan hace tres meses", country="eeuu"))
    assert messages[0]["text"].startswith("🆘 Qué hacer ahora en Estados Unidos")


async def test_when_the_handoff_store_fails_the_numbers_and_the_guide_still_arrive(monkeypatch):
    def broken():
        raise RuntimeError("database down")
    monkeypatch.setattr(handoff, "store", broken)
    messages, events = await run(protection.ActionProtect(), tracker("me tienen encerrada", country="espana"))
    assert messages[0]["text"].startswith("🆘 Qué hacer ahora en España")
    assert any("problema técnico" in (m.get("text") or "") for m in messages)
    assert not any(e["event"] == "pause" for e in events)
    assert any(e.get("name") == "article_id" for e in events)


async def test_the_inbox_answers_the_country_chosen_during_the_handoff(store):
    trk = tracker('/informar_pais{"country":"argentina"}', intent="informar_pais", entities=[country("argentina")],
                  loop="handoff_form", danger="debt")
    ticket, _ = store.open_ticket(sender_id="whatsapp:+34600000001", channel="whatsapp", reason="safety", priority=1,
                                  transcript=[])
    messages, events = await run(handoff.ActionHandoffInbox(), trk)
    assert messages == []  # Rasa drops bot messages of slot-mapping actions: the desk delivers it
    queued = [m for m in store.messages(ticket.id) if m.role == "system" and m.kind == "protection"]
    assert queued[0].text.startswith("🆘 Qué hacer ahora en Argentina") and "Línea 145" in queued[0].text
    assert {"event": "slot", "name": "location", "value": "argentina", "timestamp": None} in events


async def test_the_inbox_says_nothing_to_an_ordinary_message(store):
    trk = tracker("gracias, espero", intent="agradecer", loop="handoff_form", danger="debt")
    messages, events = await run(handoff.ActionHandoffInbox(), trk)
    assert messages == [] and events == []


async def test_the_knowledge_search_protects_a_red_flag_the_nlu_missed(store):
    trk = tracker("la doña tiene mis papeles y no me los quiere dar", intent="nlu_fallback")
    trk.events.append({"event": "slot", "name": "kb_offer", "value": None, "timestamp": 2.1})  # past slot extraction
    messages, events = await run(actions.ActionKbSearch(), trk)
    assert messages[0]["text"].startswith("🆘 Qué hacer ahora")
    assert any(e["event"] == "pause" for e in events)


async def test_in_english_the_numbers_and_the_handoff_in_english(store):
    """A foreigner in Peru writing in English: the first message in English, the handoff says the
    advisor may answer in Spanish, and the numbers are Peru's."""
    messages, _ = await run(protection.ActionProtect(),
                            tracker("my employer in Lima kept my passport", entities=[country("peru", "location")],
                                    signal={"kind": "danger", "category": "documents"}, lang="en",
                                    sender="web:en-person"))
    assert messages[0]["text"].startswith("🆘 What to do now in Peru:\n1. If you are in danger, call 105")
    assert "1818" in messages[0]["text"]
    assert messages[1]["text"] == say.IN_ENGLISH
